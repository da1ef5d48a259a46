"""The CSV session store: the durable source of truth (SPEC §3.2)."""

from flowtype_core.store.csv_store import SessionStore

__all__ = ["SessionStore"]
