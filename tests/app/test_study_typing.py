"""A participant enrolled in a study: its consent text, its questionnaire after consent, its
sentences and its condition's feedback setting, all through the real typing page."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from flowtype_core.store.csv_store import SessionStore
from flowtype_core.studies import StudyRepository, assign, parse_protocol, session_sentences
from tests.app.conftest import logged_in
from tests.app.test_typing_test import _act, _capture_data, _consent, _metrics, _type_current
from ui.typing_widgets import RUN_KEY

CONSENT = "**Study consent.** You type ten short sentences for the Pilot study."


def _enrol(app_data: Path, *, feedback: bool, questionnaire: list | None = None) -> str:
    repo = StudyRepository(app_data)
    protocol = {
        "study_id": "pilot",
        "title": "Pilot",
        "consent_text": CONSENT,
        "sentences_per_session": 2,
        "conditions": [{"name": "quiet", "feedback": feedback}],
    }
    if questionnaire is not None:
        protocol["questionnaire"] = questionnaire
    repo.save(parse_protocol(protocol))
    return assign(repo, "pilot", "pat").condition


def _open() -> AppTest:
    at = logged_in("participant").run()
    assert not at.exception, at.exception
    return at


def test_a_study_participant_consents_then_answers_then_types_the_study_sentences(app_data: Path) -> None:
    _enrol(
        app_data,
        feedback=True,
        questionnaire=[
            {"id": "age", "label": "Age", "kind": "number", "low": 10, "high": 100},
            {"id": "layout", "label": "Keyboard layout", "options": ["QWERTY", "AZERTY"]},
        ],
    )
    at = _open()
    assert any(m.value == CONSENT for m in at.markdown)  # the study's text, not the default
    assert not at.number_input  # the protocol fixes the sentence count
    assert any("This session has 2 sentences." in c.value for c in at.caption)
    at.checkbox[0].check()
    at.button[0].click().run()
    assert not at.exception, at.exception
    # Consent given; the questionnaire comes next and nothing is typed before it is answered.
    assert "A few questions first" in [s.value for s in at.subheader]
    assert RUN_KEY not in at.session_state
    at.button[0].click().run()  # submitted empty
    assert any("age" in e.value.lower() for e in at.error)
    at.number_input(key="flowtype_q_age").set_value(31)
    at.selectbox(key="flowtype_q_layout").set_value("AZERTY")
    at.button[0].click().run()
    assert not at.exception, at.exception

    run = at.session_state[RUN_KEY]
    repo = StudyRepository(app_data)
    expected = session_sentences(repo.load("pilot"), "quiet", "pat", 0)
    assert [r.sentence.id for r in run.sentences] == [s.id for s in expected]
    assert not any(c.value.startswith("Why this sentence") for c in at.caption)
    store = SessionStore(app_data)
    answers = store.read_participants(["pat"]).row(0, named=True)["answers"]
    assert json.loads(answers) == {"age": 31, "layout": "AZERTY"}
    _type_current(at, run)
    session = store.read("session.csv", "pat", run.handle.session_id).row(0, named=True)
    assert (session["study_id"], session["condition"]) == ("pilot", "quiet")

    # The next session asks no questions again: consent, then straight to typing.
    _act(at, "next")
    _type_current(at, run, seed=2)
    _act(at, "next")
    at.button[0].click().run()  # Start a new session
    assert at.session_state[RUN_KEY].handle.session_id != run.handle.session_id


def test_a_condition_without_feedback_types_without_marks_or_figures(app_data: Path) -> None:
    _enrol(app_data, feedback=False, questionnaire=[])
    at = _open()
    run = _consent(at)
    assert run.feedback is False
    assert _capture_data(at)["feedback"] is False
    _type_current(at, run)
    shown = _capture_data(at)
    assert shown["mode"] == "result" and shown["result"] is None  # no differences shown
    assert _metrics(at) == {}  # no WPM or error rate either
    assert [s.value for s in at.subheader] == ["Sentence 1 of 2: done"]
