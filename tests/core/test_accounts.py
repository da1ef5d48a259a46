"""Accounts: first user is the researcher, hashes only, private files."""

from __future__ import annotations

import stat

import pytest

from flowtype_core.accounts import AccountStore
from flowtype_core.errors import InvalidInput


def test_first_account_must_be_researcher_then_participants(data_dir):
    accounts = AccountStore(data_dir)
    assert accounts.is_empty()
    with pytest.raises(InvalidInput, match="first account"):
        accounts.create_user("pat", "longenough", role="participant")
    accounts.create_user("Rita", "s3cret-pass", role="researcher", name="Rita R")
    accounts.create_user("pat", "longenough", role="participant")
    assert [u.username for u in accounts.users("participant")] == ["pat"]
    assert accounts.verify("rita", "s3cret-pass").role == "researcher"
    assert accounts.verify("rita", "wrong-pass") is None
    raw = accounts.path.read_text()
    assert "s3cret-pass" not in raw and "$2b$" in raw
    assert stat.S_IMODE(accounts.path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("../x", "longenough", "participant", "not a valid id"),
        ("ok", "short", "participant", "at least 8"),
        ("ok", "longenough", "admin", "role must be"),
        ("rita", "longenough", "participant", "taken"),
    ],
)
def test_bad_accounts_are_refused(data_dir, username, password, role, message):
    accounts = AccountStore(data_dir)
    accounts.create_user("rita", "s3cret-pass", role="researcher")
    with pytest.raises(InvalidInput, match=message):
        accounts.create_user(username, password, role=role)


def test_cookie_key_generated_once_with_private_rights(data_dir):
    accounts = AccountStore(data_dir)
    key = accounts.cookie_key()
    assert len(key) >= 32 and accounts.cookie_key() == key
    assert stat.S_IMODE((data_dir / ".cookie_key").stat().st_mode) == 0o600
    assert accounts.cookie_key("configured-key-from-secrets") == "configured-key-from-secrets"
