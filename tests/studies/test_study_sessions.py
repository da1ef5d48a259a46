"""Rows typed in a study carry its id, protocol version and condition; answers reach the participants table."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl

from flowtype_core.studies import StudyRepository, assign, parse_protocol, session_sentences
from tests.conftest import make_batch


def test_study_rows_carry_study_version_and_condition_in_csv_and_delta(wb) -> None:
    repo = StudyRepository(wb.data_dir)
    protocol = repo.save(parse_protocol({"study_id": "pilot", "title": "Pilot", "conditions": ["a", "b"]}))
    arm = assign(repo, "pilot", "alice")
    handle = wb.recorder.start_session("alice", consented_at=datetime.now(UTC), study=arm)
    sentences = session_sentences(protocol, arm.condition, "alice", 0)[:2]
    for i, sentence in enumerate(sentences):
        wb.recorder.submit_section(handle, i, sentence, make_batch(sentence.text, handle.token, i, seed=i))
    wb.recorder.end_session(handle)
    wb.recorder.record_participant(arm, recruitment={"PROLIFIC_PID": "abc", "SESSION_ID": "1"})
    wb.recorder.record_participant(arm, answers={"age": 31})
    wb.recorder.record_participant(arm, recruitment={"SESSION_ID": "2"})  # a return visit keeps the answers
    assert wb.publisher.wait_idle(60)
    expected = ("pilot", "1", arm.condition)
    columns = ["study_id", "protocol_version", "condition"]
    for sections in (
        wb.store.read("sections.csv", "alice", handle.session_id),
        wb.lakehouse.read_table("sections"),
    ):
        assert sections.height == 2
        assert set(sections.select(columns).rows()) == {expected}
    for sessions in (
        wb.store.read("session.csv", "alice", handle.session_id),
        wb.lakehouse.read_table("sessions"),
    ):
        row = sessions.row(0, named=True)
        assert (row["study_id"], row["protocol_version"], row["condition"]) == expected
        assert row["status"] == "completed"  # the rewrite at the end kept the study columns
    for people in (wb.store.read_participants(["alice"]), wb.lakehouse.read_table("participants")):
        assert people.height == 1  # the second answer replaced the first
        row = people.row(0, named=True)
        assert json.loads(row["answers"]) == {"age": 31}
        assert json.loads(row["recruitment"]) == {"PROLIFIC_PID": "abc", "SESSION_ID": "2"}
        assert (row["study_id"], row["condition"]) == ("pilot", arm.condition)
    assert wb.recorder.consent("alice", handle.session_id)["version"] == "pilot/v1"


def test_sessions_outside_a_study_have_no_study_columns(wb, sentences) -> None:
    handle = wb.recorder.start_session("bob", consented_at=datetime.now(UTC))
    wb.recorder.submit_section(handle, 0, sentences[0], make_batch(sentences[0].text, handle.token, 0))
    assert wb.publisher.wait_idle(60)
    sections = wb.lakehouse.read_table("sections")
    assert sections.select(pl.col("study_id").is_null().all()).item()
