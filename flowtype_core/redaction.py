"""Keeps secrets out of log lines, error messages shown in the UI, and files we write.

Every configured secret value is registered here; a log-record factory scrubs every record of
every logger at creation, so no handler or third-party logger can leak a registered token.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "[REDACTED]"
_PATTERNS = [
    re.compile(r"dapi[0-9a-fA-F]{16,}(?:-\d+)?"),  # Databricks personal access tokens
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)((?:access_?token|token|password|secret|client_secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]{4,}"
    ),
]
_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(value: str | None) -> None:
    """Remember a secret so that `redact` removes it wherever it shows up."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: object) -> str:
    """Return `text` as a string with registered secrets and token-looking values masked."""
    out = str(text)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        out = out.replace(secret, MASK)
    for pattern in _PATTERNS:
        out = pattern.sub(lambda m: (m.group(1) if m.re.groups else "") + MASK, out)
    return out


class RedactingFilter(logging.Filter):
    """A handler filter for code that builds its own records; the factory covers the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub(record)
        return True


def _scrub(record: logging.LogRecord) -> None:
    record.msg = redact(record.getMessage())
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None


def install() -> None:
    """Scrub every log record of every logger, once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    base_factory = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = base_factory(*args, **kwargs)
        _scrub(record)
        return record

    logging.setLogRecordFactory(factory)
