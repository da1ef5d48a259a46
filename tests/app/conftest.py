"""AppTest helpers: a data dir with one account per role, and a logged-in app run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from flowtype_core.accounts import AccountStore
from ui.auth import TOKEN_KEY

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse"
USERS = {"researcher": "rita", "analyst": "andy", "participant": "pat"}


@pytest.fixture
def app_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    accounts = AccountStore(data)
    for role, username in USERS.items():
        accounts.create_user(username, PASSWORD, role=role, name=username.title())
    accounts.create_user("pia", PASSWORD, role="participant", name="Pia")
    monkeypatch.setenv("FLOWTYPE_DATA_DIR", str(data))
    return data


def logged_in(role: str, *, username: str | None = None, timeout: float = 60) -> AppTest:
    """The app as this role sees it after logging in: a real server-side session whose token the
    tab holds (AppTest has no cookies; a browser's cookie carries the same token)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    _, token = AccountStore(Path(os.environ["FLOWTYPE_DATA_DIR"])).log_in(username or USERS[role], PASSWORD)
    at.session_state[TOKEN_KEY] = token
    return at
