"""Exceptions a user can act on; their messages are shown as they are, so they say what to fix."""


class FlowTypeError(Exception):
    """Base for errors whose message is meant for the person who caused them."""


class InvalidInput(FlowTypeError, ValueError):
    """Input rejected before anything was written."""


class ConfigError(FlowTypeError):
    """A setting is missing or wrong; the message names it and says how to fix it."""


class LakehouseUnavailable(FlowTypeError):
    """A lakehouse could not be reached; the CSV store still holds the data."""


class PermanentWriteError(FlowTypeError):
    """A lakehouse refused a write for good (too large, malformed): retrying cannot help, so the
    outbox keeps the entry as `rejected` instead of retrying; the CSV store still holds the data."""


class StorageFull(FlowTypeError, OSError):
    """The disk holding the data dir has no space left. Raised by the atomic writers after they
    removed their temp files, so nothing of the write is on disk and the same write can be
    repeated once space is freed. An `OSError`, so code that handles I/O errors still does."""
