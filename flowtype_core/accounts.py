"""User accounts and roles (SPEC §3.8), stored under the data dir, never in the repository.

Passwords are bcrypt hashes in `<data-dir>/users.json` (mode 0600). The file has the shape
streamlit-authenticator expects for its `credentials`, so the login widget reads it directly.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt

from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
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


class AccountStore:
    """Reads and writes `<data-dir>/users.json`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "users.json"

    def _load(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {"usernames": {}}
        return json.loads(self.path.read_text("utf-8"))

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
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")
        if len(password.encode("utf-8")) > 72:
            raise InvalidInput("the password must be at most 72 bytes long")
        with _lock:
            credentials = self._load()
            if username in credentials["usernames"]:
                raise InvalidInput(f"the username {username!r} is taken")
            if not credentials["usernames"] and role != "researcher":
                raise InvalidInput("the first account must be a researcher")
            hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")
            credentials["usernames"][username] = {
                "name": (name or username).strip()[:80],
                "email": email.strip()[:120],
                "password": hashed,
                "roles": [role],
                "failed_login_attempts": 0,
                "logged_in": False,
            }
            self._save(credentials)
        return User(username, (name or username).strip()[:80], role, email)

    def verify(self, username: str, password: str) -> User | None:
        """Check a password (used by the CLI and tests; the app uses the login widget)."""
        record = self._load()["usernames"].get(username)
        if not record or not bcrypt.checkpw(password.encode("utf-8"), record["password"].encode("ascii")):
            return None
        return self.get(username)

    def get(self, username: str) -> User | None:
        record = self._load()["usernames"].get(username)
        if record is None:
            return None
        return User(
            username,
            record.get("name", username),
            (record.get("roles") or ["participant"])[0],
            record.get("email", ""),
        )

    def users(self, role: str | None = None) -> list[User]:
        found = [self.get(u) for u in sorted(self._load()["usernames"])]
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
