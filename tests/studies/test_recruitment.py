"""Recruitment links create or resume a participant, record the panel ids, never grant more."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowtype_core.accounts import AccountStore
from flowtype_core.errors import InvalidInput
from flowtype_core.studies import StudyRepository, parse_protocol
from flowtype_core.studies.recruitment import enrol, link_parameters, recruitment_link

PID = "5f1a2b3c4d5e6f7a8b9c0d1e"


@pytest.fixture
def repo(tmp_path: Path) -> StudyRepository:
    accounts = AccountStore(tmp_path)
    accounts.create_user("lead", "researcher-pw", role="researcher")
    repo = StudyRepository(tmp_path)
    repo.save(parse_protocol({"study_id": "pilot", "title": "Pilot", "conditions": ["a", "b"]}))
    return repo


def test_link_carries_prolifics_placeholders() -> None:
    link = recruitment_link("http://lab.example:8501/", "pilot")
    assert link == (
        "http://lab.example:8501/?study=pilot&PROLIFIC_PID={{%PROLIFIC_PID%}}"
        "&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
    )


def test_first_visit_creates_a_participant_and_a_return_resumes_it(
    repo: StudyRepository, tmp_path: Path
) -> None:
    accounts = AccountStore(tmp_path)
    study, ids = link_parameters(
        {"study": "pilot", "PROLIFIC_PID": PID, "STUDY_ID": "s1", "SESSION_ID": "x9"}
    )
    first = enrol(accounts, repo, study, ids)
    assert first.user.role == "participant" and first.user.username == f"prolific-{PID}"
    assert first.recruitment == {"PROLIFIC_PID": PID, "STUDY_ID": "s1", "SESSION_ID": "x9"}
    again = enrol(accounts, repo, study, {"PROLIFIC_PID": PID, "SESSION_ID": "x10"})
    assert again.user == first.user and again.assignment == first.assignment
    assert len(accounts.users(role="participant")) == 1


def test_a_link_never_grants_more_than_the_participant_role(repo: StudyRepository, tmp_path: Path) -> None:
    accounts = AccountStore(tmp_path)
    accounts.create_user(f"prolific-{PID}", "someone-else", role="analyst")
    with pytest.raises(InvalidInput, match="cannot sign in this account"):
        enrol(accounts, repo, "pilot", {"PROLIFIC_PID": PID})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"study": "../etc", "PROLIFIC_PID": PID}, "study '../etc' is not a valid id"),
        ({"study": "pilot", "PROLIFIC_PID": "<script>"}, "the link's PROLIFIC_PID is not a valid id"),
        (
            {"study": "pilot", "PROLIFIC_PID": PID, "SESSION_ID": "a" * 49},
            "the link's SESSION_ID is not a valid id",
        ),
    ],
)
def test_bad_links_are_refused(query: dict, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        link_parameters(query)
    assert str(err.value).startswith(message)


def test_ordinary_visits_are_not_links_and_unknown_studies_create_nothing(
    repo: StudyRepository, tmp_path: Path
) -> None:
    assert link_parameters({}) is None and link_parameters({"study": "pilot"}) is None
    accounts = AccountStore(tmp_path)
    with pytest.raises(InvalidInput, match="no study 'nope'"):
        enrol(accounts, repo, "nope", {"PROLIFIC_PID": PID})
    assert accounts.get(f"prolific-{PID}") is None
