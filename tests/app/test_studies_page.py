"""The Studies page: create a study, see its conditions fill, edit it into a new version."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flowtype_core import open_workbench
from flowtype_core.studies import StudyRepository, assign, parse_protocol, session_sentences
from tests.app.conftest import logged_in
from tests.conftest import make_batch


def _open():
    at = logged_in("researcher").run()
    at.switch_page("pages/studies.py").run()
    assert not at.exception
    return at


def _errors(at) -> list[str]:
    """Error texts as the reader sees them (the page escapes Markdown so messages stay plain text)."""
    return [e.value.replace("\\", "") for e in at.error]


def _field(at, label_start: str):
    return next(w for w in at.text_input if w.label.startswith(label_start))


def test_create_a_study_from_the_form_and_see_balanced_counts(app_data) -> None:
    at = _open()
    assert any("No studies yet" in i.value for i in at.info)
    _field(at, "Study id").input("pilot")
    _field(at, "Title").input("Feedback pilot")
    at.number_input[0].set_value(3)
    at.button[0].click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Created pilot, version 1."]
    repo = StudyRepository(app_data)
    protocol = repo.load("pilot")
    assert [(c.name, c.feedback) for c in protocol.conditions] == [("feedback", True), ("no-feedback", False)]
    assert protocol.sentences_per_session == 3
    for i in range(3):
        assign(repo, "pilot", f"p{i}")
    at = _open()
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "Study",
        "Title",
        "Version",
        "Participants in feedback",
        "Participants in no-feedback",
    ]
    assert sorted(table.iloc[0, 3:].tolist()) == [1, 2]


def test_a_duplicate_id_and_a_bad_field_are_refused_with_a_message(app_data) -> None:
    at = _open()
    _field(at, "Study id").input("pilot")
    _field(at, "Title").input("First")
    at.button[0].click().run()
    at = _open()
    _field(at, "Study id").input("pilot")
    _field(at, "Title").input("Second")
    at.button[0].click().run()
    assert _errors(at) == ["a study 'pilot' exists already; edit it instead"]
    _field(at, "Study id").input("other")
    _field(at, "Conditions without").input("nobody")
    at.button[0].click().run()
    assert _errors(at) == ["conditions without feedback must be among the conditions: nobody"]
    assert StudyRepository(app_data).study_ids() == ["pilot"]


def test_editing_the_yaml_saves_a_new_version_and_shows_the_link(app_data) -> None:
    at = _open()
    _field(at, "Study id").input("pilot")
    _field(at, "Title").input("First title")
    at.button[0].click().run()
    at = _open()
    assert "?study=pilot&PROLIFIC_PID={{%PROLIFIC_PID%}}" in at.code[0].value
    editor = at.text_area[-1]
    editor.input(editor.value.replace("First title", "Second title")).run()
    next(b for b in at.button if b.label == "Save as a new version").click().run()
    assert [s.value for s in at.success] == ["Saved pilot v2."]
    assert "Second title" in at.text_area[-1].value  # the editor now shows v2
    repo = StudyRepository(app_data)
    assert repo.versions("pilot") == [1, 2] and repo.load("pilot", 1).title == "First title"
    editor = at.text_area[-1]
    editor.input("study_id: pilot\ntitle: [broken\n").run()
    next(b for b in at.button if b.label == "Save as a new version").click().run()
    assert _errors(at) and _errors(at)[0].startswith("the protocol is not valid YAML")
    assert repo.versions("pilot") == [1, 2]


def test_conditions_are_compared_with_intervals(app_data) -> None:
    repo = StudyRepository(app_data)
    protocol = repo.save(parse_protocol({"study_id": "pilot", "title": "Pilot", "conditions": ["a", "b"]}))
    wb = open_workbench(data_dir=app_data)
    for n, pid in enumerate(("p1", "p2", "p3")):
        arm = assign(repo, "pilot", pid)
        handle = wb.recorder.start_session(pid, consented_at=datetime.now(UTC), study=arm)
        sentence = session_sentences(protocol, arm.condition, pid, 0)[0]
        wb.recorder.submit_section(handle, 0, sentence, make_batch(sentence.text, handle.token, 0, seed=n))
    assert wb.publisher.wait_idle(60)
    wb.close()
    at = _open()
    assert not at.exception
    figure = at.get("plotly_chart")[0].proto.spec
    assert '"error_y"' in figure and "95% CI" in figure
    assert sorted(set(json.loads(figure)["data"][0]["x"])) == ["a", "b"]
