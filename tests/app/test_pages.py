"""Every page under every role: no exception; pages outside a role are not routable."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import ROOT, USERS, logged_in
from ui.navigation import PAGES

ROLES = sorted(USERS)
CASES = [(role, spec.path) for role in ROLES for spec in PAGES]


def test_fresh_install_asks_for_the_researcher_account(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWTYPE_DATA_DIR", str(tmp_path / "fresh"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert "Welcome to FlowType" in [t.value for t in at.title]
    at.text_input[0].input("rita")
    at.text_input[1].input("Rita R")
    at.text_input[2].input("long-password")
    at.text_input[3].input("long-password")
    at.button[0].click().run()
    assert not at.exception
    from flowtype_core.accounts import AccountStore

    assert AccountStore(tmp_path / "fresh").get("rita").role == "researcher"


def test_login_form_shown_when_logged_out(app_data):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert len(at.text_input) >= 2  # username and password
    assert not any("Participants" in t.value for t in at.title)


@pytest.mark.parametrize(("role", "path"), CASES, ids=[f"{r}-{p.split('/')[-1]}" for r, p in CASES])
def test_every_page_under_every_role(app_data, role, path):
    spec = next(s for s in PAGES if s.path == path)
    at = logged_in(role).run()
    assert not at.exception, at.exception
    if role in spec.roles:
        at.switch_page(path).run()
        assert not at.exception, [e.value for e in at.exception]
        assert not [e.value for e in at.error if "access" in e.value]
    else:
        with pytest.raises(Exception, match="(?i)could not find|not found|no page"):
            at.switch_page(path).run()


def test_logged_out_no_page_is_routable_by_url(app_data):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    with pytest.raises(Exception, match="(?i)could not find|not found|no page"):
        at.switch_page("pages/participants.py").run()
