"""User accounts and roles (SPEC §3.8), stored under the data dir, never in the repository.

Passwords are bcrypt hashes in `<data-dir>/users.json` (mode 0600), in the shape
streamlit-authenticator's `credentials` take. A login compares the password the way that
authenticator does (surrounding spaces stripped), so a password is refused at creation when
stripping would change it: it could never be typed back. Logins open server-side sessions
(`login_sessions`), which a reset, deactivation or deletion revokes.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import bcrypt

from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
from flowtype_core.login_sessions import SESSION_TTL, SessionRegistry
from flowtype_core.store.atomic import atomic_write_text

ROLES = ("participant", "analyst", "researcher")
MIN_PASSWORD = 8
_lock = threading.Lock()


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str
    email: str = ""
    active: bool = True


class LoginRefused(InvalidInput):
    """A login that did not succeed; the message says why without telling which part was wrong."""


WRONG_LOGIN = "Username or password is incorrect."


def check_password(password: object) -> str:
    """The password as it will be compared at login; refuses what could never be typed back."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")
    if password != password.strip():
        raise InvalidInput("the password must not begin or end with a space (the login form strips them)")
    if len(password.encode("utf-8")) > 72:
        raise InvalidInput("the password must be at most 72 bytes long")
    return password


def id_sort_key(value: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders digit runs by value: `2` < `10` < `a1` < `a2` < `a10`."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", value) if part
    )


def _keep_a_researcher(credentials: dict[str, Any], username: str, what: str) -> None:
    """Refuse a change that would leave no active researcher (nobody could manage accounts)."""
    if credentials["usernames"][username].get("roles") != ["researcher"]:
        return
    others = [
        u
        for u, r in credentials["usernames"].items()
        if u != username and r.get("roles") == ["researcher"] and r.get("active", True)
    ]
    if not others:
        raise InvalidInput(f"the last active researcher account cannot be {what}")


def _hash(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


class AccountStore:
    """Reads and writes `<data-dir>/users.json`; `sessions` holds the logins it opened."""

    def __init__(
        self, data_dir: Path, cookie_key: str = "", *, data_owner: Callable[[str], str | None] | None = None
    ) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "users.json"
        self._configured_key = cookie_key
        self.data_owner = data_owner  # where data under a username already lives (ownership.py)

    @property
    def sessions(self) -> SessionRegistry:
        return SessionRegistry(self.data_dir / "auth.sqlite3", self.cookie_key(self._configured_key))

    def _load(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {"usernames": {}}
        accounts: dict[str, Any] = json.loads(self.path.read_text("utf-8"))
        return accounts

    def _save(self, credentials: dict[str, Any]) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps(credentials, indent=1, sort_keys=True), mode=0o600)

    def is_empty(self) -> bool:
        """True on a fresh install: the first account created must be a researcher."""
        return not self._load()["usernames"]

    def credentials(self) -> dict[str, Any]:
        """The streamlit-authenticator credentials mapping (hashes only)."""
        return self._load()

    def create_user(
        self, username: str, password: str, *, role: str, name: str = "", email: str = ""
    ) -> User:
        """Add an account; refuses duplicates, weak passwords, unknown roles and unsafe names."""
        username = check_id(username.strip().lower() if isinstance(username, str) else username, "username")
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
        check_password(password)
        with _lock:
            credentials = self._load()
            if username in credentials["usernames"]:
                raise InvalidInput(f"the username {username!r} is taken")
            owner = self.data_owner(username) if self.data_owner else None
            if owner:
                raise InvalidInput(
                    f"the username {username!r} already owns data in {owner} (an imported typist or a "
                    "deleted account): choose another username"
                )
            if not credentials["usernames"] and role != "researcher":
                raise InvalidInput("the first account must be a researcher")
            credentials["usernames"][username] = {
                "name": (name or username).strip()[:80],
                "email": email.strip()[:120],
                "password": _hash(password),
                "roles": [role],
                "failed_login_attempts": 0,
                "logged_in": False,
            }
            self._save(credentials)
        return User(username, (name or username).strip()[:80], role, email)

    def verify(self, username: str, password: str) -> User | None:
        """The account if `password` is its password, compared as the login form compares it."""
        record = self._load()["usernames"].get(username.strip().lower())
        if not record or not bcrypt.checkpw(
            password.strip().encode("utf-8"), record["password"].encode("ascii")
        ):
            return None
        return self.get(username.strip().lower())

    def log_in(
        self, username: str, password: str, *, ttl: timedelta = SESSION_TTL, now: datetime | None = None
    ) -> tuple[User, str]:
        """Check a login and open a session: (the user, the cookie's token).

        Throttled per account (`login_sessions.MAX_FAILURES`); a locked or deactivated account is
        refused even with the right password, and an unknown name fails like a wrong password.
        """
        username = username.strip().lower() if isinstance(username, str) else ""
        registry = self.sessions
        locked = registry.locked_for(username, now=now)
        if locked > timedelta(0):
            minutes = max(1, round(locked.total_seconds() / 60))
            raise LoginRefused(f"Too many failed logins for this account. Try again in {minutes} min.")
        user = self.verify(username, password) if isinstance(password, str) else None
        if user is None:
            registry.record_failure(username, now=now)
            raise LoginRefused(WRONG_LOGIN)
        if not user.active:
            raise LoginRefused("This account is deactivated. Ask the researcher to reactivate it.")
        registry.clear_failures(username)
        return user, registry.open(username, ttl=ttl, now=now)

    def session_user(self, token: str, *, now: datetime | None = None) -> User | None:
        """The active account a session token logs in, or None (then the cookie is worthless)."""
        username = self.sessions.resolve(token, now=now)
        user = self.get(username) if username else None
        return user if user is not None and user.active else None

    def log_out(self, token: str) -> None:
        self.sessions.revoke(token)

    def _update(self, username: str, change: dict[str, Any]) -> None:
        with _lock:
            credentials = self._load()
            record = credentials["usernames"].get(username)
            if record is None:
                raise InvalidInput(f"there is no account {username!r}")
            if change.get("active") is False:
                _keep_a_researcher(credentials, username, "deactivated")
            record.update(change)
            self._save(credentials)

    def reset_password(self, username: str, password: str) -> None:
        """Set a new password; every session of the account ends (its cookies stop working)."""
        self._update(username, {"password": _hash(check_password(password)), "failed_login_attempts": 0})
        self.sessions.revoke_user(username)
        self.sessions.clear_failures(username)

    def set_active(self, username: str, active: bool, *, by: str = "") -> None:
        """Deactivate (sessions end, logins refused) or reactivate an account; its data is untouched.

        `by` is the account asking: nobody deactivates themselves (they could not undo it).
        """
        if not active and by == username:
            raise InvalidInput("you cannot deactivate your own account; ask another researcher")
        self._update(username, {"active": bool(active)})
        if not active:
            self.sessions.revoke_user(username)

    def delete_user(self, username: str, *, by: str = "") -> None:
        """Remove the account and end its sessions. Its recorded data is a separate decision
        (`flowtype_core.erasure`). `by` is the account asking: nobody deletes themselves."""
        if by == username:
            raise InvalidInput("you cannot delete your own account; ask another researcher")
        with _lock:
            credentials = self._load()
            if username not in credentials["usernames"]:
                raise InvalidInput(f"there is no account {username!r}")
            _keep_a_researcher(credentials, username, "deleted")
            del credentials["usernames"][username]
            self._save(credentials)
        self.sessions.revoke_user(username)

    def get(self, username: str) -> User | None:
        record = self._load()["usernames"].get(username)
        if record is None:
            return None
        return User(
            username,
            record.get("name", username),
            (record.get("roles") or ["participant"])[0],
            record.get("email", ""),
            bool(record.get("active", True)),
        )

    def users(self, role: str | None = None) -> list[User]:
        """Accounts in id order, numbers by value (`p2` before `p10`)."""
        found = [self.get(u) for u in sorted(self._load()["usernames"], key=id_sort_key)]
        return [u for u in found if u is not None and (role is None or u.role == role)]

    def cookie_key(self, configured: str = "") -> str:
        """The cookie-signing key: from settings, else generated once and kept with 0600 rights."""
        if configured:
            return configured
        path = self.data_dir / ".cookie_key"
        with _lock:
            if not path.is_file():
                self.data_dir.mkdir(parents=True, exist_ok=True)
                atomic_write_text(path, secrets.token_urlsafe(48), mode=0o600)
        return path.read_text("utf-8").strip()
