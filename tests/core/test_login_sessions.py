"""Server-side login sessions: revocation ends a cookie everywhere; failed logins are throttled."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest

from flowtype_core.accounts import WRONG_LOGIN, AccountStore, LoginRefused
from flowtype_core.errors import InvalidInput
from flowtype_core.login_sessions import FAILURE_WINDOW, MAX_FAILURES, SESSION_TTL

PASSWORD = "s3cret-pass"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def accounts(data_dir):
    store = AccountStore(data_dir)
    store.create_user("rita", PASSWORD, role="researcher")
    store.create_user("pat", PASSWORD, role="participant")
    return store


def test_a_token_logs_in_until_logout_and_a_replay_after_it_does_not(accounts):
    user, token = accounts.log_in("pat", PASSWORD)
    assert user.username == "pat"
    assert accounts.session_user(token).username == "pat"
    _, other_tab = accounts.log_in("pat", PASSWORD)
    accounts.log_out(token)
    assert accounts.session_user(token) is None  # the copied cookie is worthless now
    assert accounts.session_user(other_tab).username == "pat"  # another login is its own session
    assert token not in accounts.sessions.path.read_bytes().decode("latin-1")  # only an HMAC is kept
    assert stat.S_IMODE(accounts.sessions.path.stat().st_mode) == 0o600


def test_sessions_expire(accounts):
    _, token = accounts.log_in("pat", PASSWORD, now=T0)
    assert accounts.sessions.resolve(token, now=T0 + SESSION_TTL - timedelta(seconds=1)) == "pat"
    assert accounts.sessions.resolve(token, now=T0 + SESSION_TTL) is None
    _, short = accounts.log_in("pat", PASSWORD, ttl=timedelta(hours=12), now=T0)
    assert accounts.sessions.resolve(short, now=T0 + timedelta(hours=12, seconds=1)) is None


@pytest.mark.parametrize("revoke", ["reset", "deactivate", "delete"])
def test_reset_deactivation_and_deletion_end_every_session(accounts, revoke):
    _, first = accounts.log_in("pat", PASSWORD)
    _, second = accounts.log_in("pat", PASSWORD)
    _, researcher = accounts.log_in("rita", PASSWORD)
    {
        "reset": lambda: accounts.reset_password("pat", "another-pass"),
        "deactivate": lambda: accounts.set_active("pat", False),
        "delete": lambda: accounts.delete_user("pat"),
    }[revoke]()
    assert accounts.session_user(first) is None and accounts.session_user(second) is None
    assert accounts.session_user(researcher).username == "rita"


def test_reset_password_replaces_the_password(accounts):
    accounts.reset_password("pat", "another-pass")
    with pytest.raises(LoginRefused, match=WRONG_LOGIN):
        accounts.log_in("pat", PASSWORD)
    assert accounts.log_in("pat", "another-pass")[0].username == "pat"


def test_deactivated_accounts_cannot_log_in_until_reactivated(accounts):
    accounts.set_active("pat", False)
    assert not accounts.get("pat").active
    with pytest.raises(LoginRefused, match="deactivated"):
        accounts.log_in("pat", PASSWORD)
    accounts.set_active("pat", True)
    assert accounts.log_in("pat", PASSWORD)[0].active


def test_the_last_researcher_stays(accounts):
    with pytest.raises(InvalidInput, match="last active researcher"):
        accounts.set_active("rita", False)
    with pytest.raises(InvalidInput, match="last active researcher"):
        accounts.delete_user("rita")
    with pytest.raises(InvalidInput, match="no account"):
        accounts.delete_user("nobody")
    # A deactivated second researcher could not log in to manage accounts: it does not count.
    accounts.create_user("rex", PASSWORD, role="researcher")
    accounts.set_active("rex", False)
    with pytest.raises(InvalidInput, match="last active researcher"):
        accounts.delete_user("rita")
    accounts.set_active("rex", True)
    accounts.delete_user("rita", by="rex")
    assert [u.username for u in accounts.users()] == ["pat", "rex"]


def test_nobody_deactivates_or_deletes_their_own_account(accounts):
    accounts.create_user("rex", PASSWORD, role="researcher")
    with pytest.raises(InvalidInput, match="your own account"):
        accounts.set_active("rex", False, by="rex")
    with pytest.raises(InvalidInput, match="your own account"):
        accounts.delete_user("rex", by="rex")
    assert accounts.get("rex").active
    accounts.set_active("rex", False, by="rita")  # another researcher may
    assert not accounts.get("rex").active


def test_failed_logins_lock_the_account_then_the_window_frees_it(accounts):
    for i in range(MAX_FAILURES):
        with pytest.raises(LoginRefused, match=WRONG_LOGIN):
            accounts.log_in("pat", "wrong-pass", now=T0 + timedelta(seconds=i))
    # Locked: even the right password is refused, without saying whether it was right.
    with pytest.raises(LoginRefused, match="Too many failed logins"):
        accounts.log_in("pat", PASSWORD, now=T0 + timedelta(seconds=MAX_FAILURES))
    assert accounts.log_in("rita", PASSWORD, now=T0 + timedelta(seconds=MAX_FAILURES))  # per account
    assert accounts.sessions.locked_for("pat", now=T0 + timedelta(minutes=5)) == FAILURE_WINDOW - timedelta(
        minutes=5
    )
    freed = T0 + FAILURE_WINDOW + timedelta(seconds=1)
    user, _ = accounts.log_in("pat", PASSWORD, now=freed)
    assert user.username == "pat"
    assert accounts.sessions.locked_for("pat", now=freed) == timedelta(0)  # a success clears the count


def test_unknown_accounts_fail_like_wrong_passwords_and_are_throttled_too(accounts):
    for _ in range(MAX_FAILURES):
        with pytest.raises(LoginRefused, match=WRONG_LOGIN):
            accounts.log_in("nobody", "whatever-pass", now=T0)
    with pytest.raises(LoginRefused, match="Too many"):
        accounts.log_in("nobody", "whatever-pass", now=T0)


def test_passwords_are_compared_as_the_login_form_compares_them(accounts):
    with pytest.raises(InvalidInput, match="begin or end with a space"):
        accounts.create_user("sam", " padded-pass ", role="participant")
    with pytest.raises(InvalidInput, match="begin or end with a space"):
        accounts.reset_password("pat", "trailing-pass ")
    # The authenticator strips what is typed at login (username lower-cased too).
    assert accounts.log_in(" PAT ", f" {PASSWORD} ")[0].username == "pat"


def test_ids_sort_by_number(accounts):
    for name in ("p10", "p2", "109", "20"):
        accounts.create_user(name, PASSWORD, role="participant")
    assert [u.username for u in accounts.users("participant")] == ["20", "109", "p2", "p10", "pat"]
