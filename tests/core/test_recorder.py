"""The live write path: consent, submit, re-submit, abandon; CSV and Delta agree."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from flowtype_core.errors import InvalidInput
from tests.conftest import make_batch


def _lake(wb, table):
    return wb.lakehouse.read_table(table)


def test_session_lands_once_in_csv_and_delta(wb, sentences):
    handle = wb.recorder.start_session("alice", consented_at=datetime.now(UTC))
    typed = 0
    for i in range(3):
        batch = make_batch(sentences[i].text, handle.token, i, seed=i)
        result = wb.recorder.submit_section(handle, i, sentences[i], batch)
        assert result.keystroke_count == len(batch["events"])
        assert result.wpm is not None and 5 < result.wpm < 200
        typed += len(batch["events"])
    wb.recorder.end_session(handle)
    assert wb.publisher.wait_idle(30)

    csv_ks = wb.store.read("keystrokes.csv", "alice", handle.session_id)
    lake_ks = _lake(wb, "keystrokes")
    assert csv_ks.height == lake_ks.height == typed
    key = ["participant_id", "test_section_id", "keystroke_id"]
    assert not lake_ks.select(key).is_duplicated().any()
    assert csv_ks.sort(key).drop("created_at").equals(lake_ks.sort(key).drop("created_at"))
    session = _lake(wb, "sessions").row(0, named=True)
    assert session["status"] == "completed" and session["sentence_count"] == 3
    assert session["total_keystrokes"] == typed
    assert wb.recorder.consent("alice", handle.session_id)["consented_at"]


def test_resubmission_replaces_the_section(wb, sentences):
    handle = wb.recorder.start_session("bob", consented_at=datetime.now(UTC))
    long = make_batch(sentences[0].text + " and more", handle.token, 0, seed=3)
    wb.recorder.submit_section(handle, 0, sentences[0], long)
    short = make_batch(sentences[0].text, handle.token, 0, seed=4)
    wb.recorder.submit_section(handle, 0, sentences[0], short)
    assert wb.publisher.wait_idle(30)
    for frame in (wb.store.read("keystrokes.csv", "bob", handle.session_id), _lake(wb, "keystrokes")):
        assert frame.height == len(short["events"])
        assert frame.get_column("press_time").to_list() == [round(e["press"]) for e in short["events"]]
    assert _lake(wb, "sections").height == 1


def test_consent_is_required(wb):
    with pytest.raises(InvalidInput, match="consent"):
        wb.recorder.start_session("carol", consented_at=None)
    assert not any(wb.store.sessions())


def test_new_session_marks_an_unfinished_one_abandoned_and_keeps_its_sentences(wb, sentences):
    first = wb.recorder.start_session("dan", consented_at=datetime.now(UTC))
    wb.recorder.submit_section(first, 0, sentences[0], make_batch(sentences[0].text, first.token, 0))
    wb.recorder.start_session("dan", consented_at=datetime.now(UTC))
    assert wb.publisher.wait_idle(30)
    sessions = _lake(wb, "sessions").sort("session_id")
    assert sessions.get_column("status").to_list() == ["abandoned", "in_progress"]
    assert sessions.get_column("sentence_count").to_list() == [1, 0]
    assert _lake(wb, "sections").height == 1


def test_batch_from_another_tab_is_rejected(wb, sentences):
    mine = wb.recorder.start_session("erin", consented_at=datetime.now(UTC))
    other = wb.recorder.start_session("frank", consented_at=datetime.now(UTC))
    with pytest.raises(InvalidInput, match="token"):
        wb.recorder.submit_section(mine, 0, sentences[0], make_batch(sentences[0].text, other.token, 0))
    assert wb.store.read("keystrokes.csv", "erin", mine.session_id).is_empty()


def test_demo_goes_through_the_same_path(wb):
    from flowtype_core.demo import generate_demo

    totals = generate_demo(wb.recorder, participants=2, sessions_per_participant=2, sentences_per_session=3)
    assert wb.publisher.wait_idle(60)
    ks = _lake(wb, "keystrokes")
    assert ks.height == totals["keystrokes"] == wb.store.read_all("keystrokes.csv").height
    letters = set(ks.get_column("letter").to_list())
    assert {"BKSP", "SHIFT", " "} <= letters
    holds = ks.select((pl.col("release_time") - pl.col("press_time")).alias("h")).get_column("h")
    assert holds.min() > 0
    rollover = ks.sort("participant_id", "test_section_id", "press_time").with_columns(
        (pl.col("press_time") < pl.col("release_time").shift(1).over("test_section_id")).alias("r")
    )
    assert 0.02 < rollover.get_column("r").mean() < 0.6


def test_a_planned_session_resumes_in_a_new_tab_which_takes_it_over(wb, sentences) -> None:
    plan = [
        {"id": s.id, "text": s.text, "reason": "r", "source": "default", "targets": []} for s in sentences[:3]
    ]
    consented = datetime.now(UTC)
    first = wb.recorder.start_session("ria", consented_at=consented, plan=plan)
    wb.recorder.submit_section(first, 0, sentences[0], make_batch(sentences[0].text, first.token, 0))

    resumed = wb.recorder.resume("ria")
    assert resumed is not None
    assert resumed.handle.session_id == first.session_id and resumed.handle.token != first.token
    assert (resumed.plan, resumed.typed, resumed.next_index) == (plan, frozenset({0}), 1)
    assert resumed.consented_at == consented
    # The tab that had the session can no longer write to it; the new one can.
    with pytest.raises(InvalidInput, match="continued in another tab or window"):
        wb.recorder.submit_section(first, 1, sentences[1], make_batch(sentences[1].text, first.token, 1))
    new = resumed.handle
    wb.recorder.submit_section(new, 1, sentences[1], make_batch(sentences[1].text, new.token, 1))
    assert wb.store.read("sections.csv", "ria", first.session_id).height == 2

    wb.recorder.end_session(new)
    assert wb.recorder.resume("ria") is None  # a completed session is not resumed


def test_sessions_without_a_plan_are_not_resumed(wb, sentences) -> None:
    wb.recorder.start_session("rob", consented_at=datetime.now(UTC))  # as before plans existed
    assert wb.recorder.resume("rob") is None
    assert wb.recorder.resume("nobody") is None
