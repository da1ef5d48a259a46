"""A recruitment link signs a new participant in; a bad link falls back to the login form."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from flowtype_core import open_workbench
from flowtype_core.accounts import AccountStore
from flowtype_core.studies import StudyRepository, assignments, parse_protocol
from tests.app.conftest import ROOT

PID = "65a1b2c3d4e5f6a7b8c9d0e1"


def _visit(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def test_a_new_panel_id_gets_a_participant_account_an_arm_and_a_stored_id(app_data) -> None:
    StudyRepository(app_data).save(
        parse_protocol({"study_id": "pilot", "title": "Pilot", "conditions": ["a", "b"]})
    )
    at = _visit({"study": "pilot", "PROLIFIC_PID": PID, "STUDY_ID": "st1", "SESSION_ID": "se1"})
    assert not at.exception
    assert [i.value for i in at.info] == ["Logging you in…"]
    user = AccountStore(app_data).get(f"prolific-{PID}")
    assert user is not None and user.role == "participant"
    assert [a.participant_id for a in assignments(StudyRepository(app_data), "pilot")] == [user.username]
    wb = open_workbench(data_dir=app_data)
    row = wb.store.read_participants([user.username]).row(0, named=True)
    assert json.loads(row["recruitment"]) == {"PROLIFIC_PID": PID, "STUDY_ID": "st1", "SESSION_ID": "se1"}
    assert row["study_id"] == "pilot" and json.loads(row["answers"]) == {}


def test_a_link_to_an_unknown_study_shows_why_and_the_login_form(app_data) -> None:
    at = _visit({"study": "nope", "PROLIFIC_PID": PID})
    assert not at.exception
    assert [e.value.replace("\\", "") for e in at.error] == ["no study 'nope'; create it first"]
    assert any(b.label == "Login" for b in at.button)
    assert AccountStore(app_data).get(f"prolific-{PID}") is None
