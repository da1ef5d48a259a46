"""Ids that become path parts or SQL literals are checked here, once, before they are used."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flowtype_core.errors import InvalidInput

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Windows (and SMB shares) reserve these device names, with any extension and in any case, and
# drop a trailing dot: such an id would name another folder, or none, on a copy of the data dir.
WINDOWS_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?", re.IGNORECASE)


def check_id(value: object, what: str) -> str:
    """Return `value` if it is a safe id on every file system: letters, digits, `_ . -`, ≤ 64 chars,
    no leading or trailing dot, no Windows device name."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, got {type(value).__name__}")
    if not ID_PATTERN.fullmatch(value) or ".." in value or value.endswith("."):
        raise InvalidInput(
            f"{what} {value[:80]!r} is not a valid id: use 1-64 letters, digits, '_', '.' or '-',"
            " starting with a letter or digit and not ending with '.'"
        )
    if WINDOWS_RESERVED.fullmatch(value):
        raise InvalidInput(f"{what} {value!r} is a reserved file name on Windows; choose another")
    return value


def new_session_id(now: datetime | None = None) -> str:
    """Session ids sort by start time, e.g. `20261122_143022_123`."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%d_%H%M%S_") + f"{now.microsecond // 1000:03d}"


def section_id(session_id: str, index: int) -> str:
    """Deterministic from (session, index), so a re-submission targets the same rows."""
    return f"{check_id(session_id, 'session_id')}_s{index:03d}"
