"""Server-side login sessions and per-account login throttling (issue 19 item 3).

A login cookie holds only a random token; the server keeps an HMAC of it (keyed by the cookie key)
with its account and expiry in `<data-dir>/auth.sqlite3` (mode 0600). A cookie is good only while
its row says so: logout, a password reset, deactivation or deletion remove the rows, so a cookie
replayed afterwards logs nobody in. SQLite because the app, the CLI and notebooks may all write it.

Failed logins are counted per account: after `MAX_FAILURES` within `FAILURE_WINDOW` the account
refuses every attempt (right or wrong password) until the oldest of them is `FAILURE_WINDOW` old.
OWASP's authentication cheat sheet asks for exactly this kind of per-account throttle.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

SESSION_TTL = timedelta(days=7)  # what the authenticator's cookie lived before
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    digest TEXT PRIMARY KEY, username TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (username);
CREATE TABLE IF NOT EXISTS login_failures (username TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS failures_user ON login_failures (username, at);
"""


def _now() -> datetime:
    return datetime.now(UTC)


class SessionRegistry:
    """Login sessions and failed-login counts for one data dir."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = Path(path)
        self._key = key.encode("utf-8")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            with connection:
                connection.executescript(_SCHEMA)
                yield connection
        finally:
            connection.close()

    def _digest(self, token: str) -> str:
        return hmac.new(self._key, token.encode("utf-8"), hashlib.sha256).hexdigest()

    def open(self, username: str, *, ttl: timedelta = SESSION_TTL, now: datetime | None = None) -> str:
        """A new session for `username`; returns the token the cookie carries (never stored)."""
        token = secrets.token_urlsafe(32)
        start = (now or _now()).timestamp()
        with self._db() as db:
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?)",
                (self._digest(token), username, start, start + ttl.total_seconds()),
            )
        return token

    def resolve(self, token: str, *, now: datetime | None = None) -> str | None:
        """The account a live token belongs to; None for unknown, revoked or expired tokens."""
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        with self._db() as db:
            row = db.execute(
                "SELECT username FROM sessions WHERE digest = ? AND expires_at > ?",
                (self._digest(token), (now or _now()).timestamp()),
            ).fetchone()
        return None if row is None else str(row[0])

    def revoke(self, token: str) -> None:
        """End one session (logout): its cookie no longer logs in, wherever it was copied to."""
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE digest = ?", (self._digest(token),))

    def revoke_user(self, username: str) -> int:
        """End every session of an account (password reset, deactivation, deletion)."""
        with self._db() as db:
            return db.execute("DELETE FROM sessions WHERE username = ?", (username,)).rowcount

    def recent_failures(self, username: str, *, now: datetime | None = None) -> list[float]:
        """When the account's failed logins inside the lockout window happened (epoch s, oldest first)."""
        since = (now or _now()).timestamp() - FAILURE_WINDOW.total_seconds()
        with self._db() as db:
            return [
                at
                for (at,) in db.execute(
                    "SELECT at FROM login_failures WHERE username = ? AND at > ? ORDER BY at",
                    (username, since),
                )
            ]

    def locked_for(self, username: str, *, now: datetime | None = None) -> timedelta:
        """How long the account still refuses logins (zero when it does not)."""
        now = now or _now()
        times = self.recent_failures(username, now=now)
        if len(times) < MAX_FAILURES:
            return timedelta(0)
        return timedelta(seconds=times[-MAX_FAILURES] - (now.timestamp() - FAILURE_WINDOW.total_seconds()))

    def record_failure(self, username: str, *, now: datetime | None = None) -> None:
        now_s = (now or _now()).timestamp()
        with self._db() as db:
            db.execute("DELETE FROM login_failures WHERE at <= ?", (now_s - FAILURE_WINDOW.total_seconds(),))
            db.execute("INSERT INTO login_failures VALUES (?, ?)", (username, now_s))

    def clear_failures(self, username: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM login_failures WHERE username = ?", (username,))
