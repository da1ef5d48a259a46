"""The typing test page under AppTest: consent, capture batches injected as the component sends them.

The capture component is a v2 component, an unknown element here; its value reaches the page
through `st.session_state[CAPTURE_KEY]`, so a test sets `{"submit": batch}` there and runs.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from streamlit.testing.v1 import AppTest

from flowtype_core import open_workbench
from flowtype_core.corpus import pick_sentences
from flowtype_core.datasets.aalto import read_aalto
from flowtype_core.ranker import (
    examples_from_keystrokes,
    models_dir_of,
    recommend_sentences,
    train_from_frames,
)
from flowtype_core.store.csv_store import SessionStore
from tests.app.conftest import logged_in
from tests.conftest import AALTO_DIR, make_batch
from ui.typing_widgets import CAPTURE_KEY, RUN_KEY, TypingRun


def _open_page(role: str = "participant") -> AppTest:
    """Log in; the typing test is the first page for participants and researchers alike."""
    at = logged_in(role).run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Typing test"]
    return at


def _consent(at: AppTest, sentences: int | None = None) -> TypingRun:
    if sentences is not None:
        at.number_input[0].set_value(sentences)
    at.checkbox[0].check()
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at.session_state[RUN_KEY]


def _submit(at: AppTest, batch: dict) -> AppTest:
    at.session_state[CAPTURE_KEY] = {"submit": batch}
    at.run()
    assert not at.exception, at.exception
    return at


def _type_current(at: AppTest, run: TypingRun, seed: int = 1) -> dict:
    batch = make_batch(run.current.sentence.text, run.handle.token, run.index, seed=seed)
    _submit(at, batch)
    return batch


def _capture_data(at: AppTest) -> dict[str, Any]:
    """What the page handed the capture component: the sentence shown, token and section."""
    (element,) = [
        e for e in at.get("bidi_component") if e.proto.component_name == "flowtype_keystroke_capture"
    ]
    return json.loads(element.proto.json)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def test_consent_is_required_before_anything_is_recorded(app_data: Path) -> None:
    at = _open_page()
    assert any("What is recorded" in m.value for m in at.markdown)
    at.button[0].click().run()  # not ticked
    assert any("consent" in w.value for w in at.warning)
    assert RUN_KEY not in at.session_state
    assert list(SessionStore(app_data).sessions()) == []

    before = datetime.now(UTC)
    run = _consent(at)
    assert run.handle.participant_id == "pat"
    wb = open_workbench(data_dir=app_data)
    consent = wb.recorder.consent("pat", run.handle.session_id)
    wb.close()
    assert consent is not None
    assert datetime.fromisoformat(consent["consented_at"]) >= before
    assert at.caption[0].value.startswith("Why this sentence: ")
    assert len(run.sentences) == 5
    shown = _capture_data(at)
    assert {k: shown[k] for k in ("mode", "sentence", "token", "section_index", "attempt", "feedback")} == {
        "mode": "type",
        "sentence": run.sentences[0].sentence.text,
        "token": run.handle.token,
        "section_index": 0,
        "attempt": 0,
        "feedback": True,
    }


def test_a_submitted_sentence_is_recorded_and_its_wpm_shown(app_data: Path) -> None:
    at = _open_page()
    run = _consent(at)
    batch = _type_current(at, run)

    store = SessionStore(app_data)
    keystrokes = store.read("keystrokes.csv", "pat", run.handle.session_id)
    sections = store.read("sections.csv", "pat", run.handle.session_id)
    assert keystrokes.height == len(batch["events"])
    assert keystrokes.get_column("press_time").to_list() == [round(e["press"]) for e in batch["events"]]
    assert sections.height == 1
    assert sections.item(0, "sentence_id") == run.sentences[0].sentence.id
    shown = _metrics(at)
    assert shown["Speed (WPM)"] == f"{sections.item(0, 'wpm'):.1f}"
    assert shown["Key presses"] == str(len(batch["events"]))
    assert any(m.value.startswith("Slowest letter pair") for m in at.markdown)

    _click(at, "Next sentence")
    assert run.index == 1 and run.result is None
    assert at.progress[0].value == 20  # one of five done


def test_a_bad_batch_shows_a_clear_error_and_writes_nothing(app_data: Path) -> None:
    at = _open_page()
    run = _consent(at)
    good = make_batch(run.current.sentence.text, run.handle.token, 0)
    reversed_times = {**good, "events": [{**e, "release": e["press"] - 5} for e in good["events"]]}
    _submit(at, reversed_times)
    assert any("released before it is pressed" in e.value for e in at.error)
    other_tab = {**good, "token": "someone-elses-token"}
    _submit(at, other_tab)
    assert any("token mismatch" in e.value for e in at.error)
    store = SessionStore(app_data)
    assert store.read("keystrokes.csv", "pat", run.handle.session_id).is_empty()
    assert store.read("sections.csv", "pat", run.handle.session_id).is_empty()
    assert run.result is None and run.index == 0

    _submit(at, good)  # the participant retypes
    assert not at.error
    assert store.read("keystrokes.csv", "pat", run.handle.session_id).height == len(good["events"])


def test_retyping_a_sentence_replaces_it(app_data: Path) -> None:
    at = _open_page()
    run = _consent(at)
    _type_current(at, run, seed=1)
    _click(at, "Retype this sentence")
    assert run.index == 0 and run.result is None
    assert _capture_data(at)["attempt"] == 1  # the field starts empty for the new attempt
    second = _type_current(at, run, seed=2)
    keystrokes = SessionStore(app_data).read("keystrokes.csv", "pat", run.handle.session_id)
    assert keystrokes.get_column("press_time").to_list() == [round(e["press"]) for e in second["events"]]


def test_finishing_shows_the_summary_and_a_new_session_can_start(app_data: Path) -> None:
    at = _open_page()
    run = _consent(at, sentences=3)
    for i in range(3):
        _type_current(at, run, seed=i)
        _click(at, "See my summary" if i == 2 else "Next sentence")
    assert run.finished
    store = SessionStore(app_data)
    session = store.read("session.csv", "pat", run.handle.session_id).row(0, named=True)
    assert (session["status"], session["sentence_count"]) == ("completed", 3)
    shown = _metrics(at)
    assert shown["Sentences"] == "3"
    assert shown["Mean speed (WPM)"] == f"{session['average_wpm']:.1f}"
    assert "Session summary" in [s.value for s in at.subheader]
    assert len(at.get("vega_lite_chart")) == 1  # the WPM-per-sentence chart

    _click(at, "Start a new session")  # consent given at login is reused, with its time
    fresh = at.session_state[RUN_KEY]
    assert fresh.handle.session_id != run.handle.session_id and not fresh.finished
    assert len(fresh.sentences) == 3
    typed = {p.sentence.id for p in run.sentences}
    assert typed.isdisjoint(p.sentence.id for p in fresh.sentences)  # new sentences first


def test_logout_midway_marks_the_session_abandoned_and_keeps_its_sentences(app_data: Path) -> None:
    at = _open_page()
    run = _consent(at)
    _type_current(at, run)
    _click(at, "Next sentence")
    # AppTest drops the entry script's sidebar (the "Log out" button) on reruns, so run what that
    # button's callback runs: every registered logout hook (ui.auth.on_logout).
    for hook in at.session_state["flowtype_on_logout"].values():
        hook()
    session = SessionStore(app_data).read("session.csv", "pat", run.handle.session_id).row(0, named=True)
    assert (session["status"], session["sentence_count"]) == ("abandoned", 1)
    assert session["ended_at"] is not None


def test_a_participant_cannot_reach_another_participants_data(app_data: Path) -> None:
    wb = open_workbench(data_dir=app_data)
    theirs = wb.recorder.start_session("pia", consented_at=datetime.now(UTC))
    wb.close()
    at = logged_in("participant")
    at.query_params["participant"] = "pia"  # the URL names someone else: ignored
    at.run()
    # A run left in this browser session by another user is dropped, never resumed or shown.
    at.session_state[RUN_KEY] = TypingRun(theirs, [], datetime.now(UTC))
    at.run()
    assert any("What is recorded" in m.value for m in at.markdown)
    run = _consent(at)
    assert run.handle.participant_id == "pat"

    # A batch carrying pia's session token is refused; nothing lands under either participant.
    pias_batch = make_batch(run.current.sentence.text, theirs.token, 0)
    _submit(at, pias_batch)
    assert any("token mismatch" in e.value for e in at.error)
    _type_current(at, run)
    store = SessionStore(app_data)
    assert store.read_all("keystrokes.csv", "pia").is_empty()
    mine = store.read_all("keystrokes.csv", "pat")
    assert mine.height > 0 and set(mine.get_column("participant_id")) == {"pat"}
    assert [s for s, _ in store.sessions()] == ["pat", "pia"]
    assert not any(theirs.session_id in m.value for m in at.markdown)


def test_a_researcher_takes_the_test_under_their_own_name(app_data: Path) -> None:
    at = _open_page("researcher")
    run = _consent(at)
    _type_current(at, run)
    sections = SessionStore(app_data).read_all("sections.csv", "rita")
    assert sections.select(pl.col("participant_id").unique()).to_series().to_list() == ["rita"]
    assert sections.height == 1


def test_the_typing_test_serves_model_picked_sentences_to_a_participant_with_history(
    app_data: Path,
) -> None:
    aalto = read_aalto(AALTO_DIR)  # a model trained with the ranker's own API on real typists
    train_from_frames(*examples_from_keystrokes(aalto.keystrokes), models_dir=models_dir_of(app_data))
    wb = open_workbench(data_dir=app_data)
    history = iter(pick_sentences(8, seed=3))  # pat's earlier sessions
    for session in range(2):
        handle = wb.recorder.start_session("pat", consented_at=datetime.now(UTC))
        for index in range(4):
            sentence = next(history)
            batch = make_batch(sentence.text, handle.token, index, seed=10 * session + index)
            wb.recorder.submit_section(handle, index, sentence, batch)
        wb.recorder.end_session(handle)
    expected = recommend_sentences(wb, "pat", 5)
    wb.close()
    assert all(pick.source == "model" for pick in expected)
    assert any(pick.targets for pick in expected)

    at = _open_page()
    run = _consent(at)
    assert [p.sentence.id for p in run.sentences] == [p.sentence.id for p in expected]
    for index, pick in enumerate(expected[:2]):
        assert _capture_data(at)["sentence"] == pick.sentence.text
        assert at.caption[0].value == f"Why this sentence: {pick.reason}."
        _type_current(at, run, seed=index)
        _click(at, "Next sentence")


def _act(at: AppTest, action: str) -> AppTest:
    """What the component sends on the result screen: Enter is "next", Escape is "retry"."""
    at.session_state[CAPTURE_KEY] = {action: {"nonce": time.monotonic()}}
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_result_shows_the_sentence_against_the_typed_text_and_enter_goes_on(app_data: Path) -> None:
    at = _open_page()
    run = _consent(at, sentences=2)
    sentence = run.current.sentence.text
    typo = sentence[:3] + ("x" if sentence[3] != "x" else "y") + sentence[4:]
    _submit(at, make_batch(typo, run.handle.token, 0))
    shown = _capture_data(at)
    assert shown["mode"] == "result"
    segments = shown["result"]["segments"]
    assert "".join(s["target"] for s in segments) == sentence
    assert "".join(s["typed"] for s in segments) == typo
    assert [s for s in segments if s["op"] != "equal"] == [
        {"op": "replace", "target": sentence[3], "typed": typo[3]}
    ]
    _act(at, "submit")  # a stale submit on the result screen changes nothing
    assert run.result is not None and run.index == 0
    _act(at, "retry")  # Escape
    assert (run.index, run.attempt, run.result) == (0, 1, None)
    assert _capture_data(at)["mode"] == "type"
    _type_current(at, run)
    _act(at, "next")  # Enter
    assert (run.index, run.attempt, run.result) == (1, 0, None)
    _type_current(at, run, seed=2)
    _act(at, "next")
    assert run.finished
    assert "Session summary" in [s.value for s in at.subheader]


def test_a_confirmed_short_input_is_kept_flagged_and_left_out_of_the_means(app_data: Path) -> None:
    at = _open_page()
    run = _consent(at, sentences=2)
    assert _capture_data(at)["min_input_share"] == 0.5  # the browser asks to confirm below this
    _type_current(at, run, seed=1)
    _act(at, "next")
    short = run.current.sentence.text[:4]
    _submit(at, make_batch(short, run.handle.token, 1))
    assert run.result is not None and run.result.valid is False
    (warning,) = at.warning
    assert "left out of your averages" in warning.value and "input shorter than 50%" in warning.value
    _act(at, "next")
    sections = (
        SessionStore(app_data).read("sections.csv", "pat", run.handle.session_id).sort("test_section_id")
    )
    assert sections.get_column("quality_flags").to_list() == ["", "incomplete_input"]
    assert _metrics(at)["Mean speed (WPM)"] == f"{sections.item(0, 'wpm'):.1f}"  # the valid one only
    assert _metrics(at)["Sentences"] == "2"
    assert any("1 flagged sentence left out of the means" in c.value for c in at.caption)


def test_the_summary_charts_this_session_against_the_earlier_ones(app_data: Path) -> None:
    at = _open_page()
    for session in range(2):
        run = _consent(at, sentences=1) if session == 0 else at.session_state[RUN_KEY]
        _type_current(at, run, seed=session)
        _act(at, "next")
        if session == 0:
            assert len(at.get("plotly_chart")) == 0  # one session: per sentence only
            _click(at, "Start a new session")
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    bars = figure["data"][0]
    assert bars["x"] == [1, 2] and len(bars["y"]) == 2
    assert bars["marker"]["color"][0] != bars["marker"]["color"][1]  # this session stands out


def test_a_reload_mid_session_continues_at_the_next_sentence(app_data: Path) -> None:
    at = _open_page()
    run = _consent(at, sentences=3)
    _type_current(at, run, seed=1)
    _act(at, "next")

    reloaded = _open_page()  # a new browser session of the same login: what a reload is
    again = reloaded.session_state[RUN_KEY]
    assert again.handle.session_id == run.handle.session_id
    assert [r.sentence.id for r in again.sentences] == [r.sentence.id for r in run.sentences]
    assert again.index == 1 and _capture_data(reloaded)["sentence"] == run.sentences[1].sentence.text
    assert any("continues at sentence 2" in t.value for t in reloaded.toast)
    _type_current(reloaded, again, seed=2)
    _submit(at, make_batch(run.sentences[1].sentence.text, run.handle.token, 1))  # the old tab
    assert any("continued in another tab or window" in e.value for e in at.error)
    sections = SessionStore(app_data).read("sections.csv", "pat", run.handle.session_id)
    assert sections.height == 2
