"""Ids that become path parts or SQL literals are checked here, once, before they are used."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flowtype_core.errors import InvalidInput

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_id(value: object, what: str) -> str:
    """Return `value` if it is a safe id (letters, digits, `_ . -`, no leading dot, ≤ 64 chars)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, got {type(value).__name__}")
    if not ID_PATTERN.fullmatch(value) or ".." in value:
        raise InvalidInput(
            f"{what} {value[:80]!r} is not a valid id: use 1-64 letters, digits, '_', '.' or '-',"
            " starting with a letter or digit"
        )
    return value


def new_session_id(now: datetime | None = None) -> str:
    """Session ids sort by start time, e.g. `20261122_143022_123`."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%d_%H%M%S_") + f"{now.microsecond // 1000:03d}"


def section_id(session_id: str, index: int) -> str:
    """Deterministic from (session, index), so a re-submission targets the same rows."""
    return f"{check_id(session_id, 'session_id')}_s{index:03d}"
