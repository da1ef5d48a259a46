"""A lakehouse that goes away mid-session: the participant never notices, nothing is lost or doubled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl

from flowtype_core import Workbench
from flowtype_core.corpus import load_corpus
from flowtype_core.sync.outbox import SESSION_ROW
from flowtype_core.sync.report import IN_SYNC, PENDING
from flowtype_core.sync.service import SyncService
from tests.conftest import make_batch
from tests.sync.conftest import assert_exactly_once, with_demo


def test_outage_keeps_sections_pending_then_drains_once(backend: Any, sync_wb: Workbench) -> None:
    with_demo(sync_wb, participants=1, sessions=1, sentences=2)
    sync = SyncService.for_workbench(sync_wb)
    sync_wb.publisher.start()  # as in the app: pushes happen in the background
    backend.stop()

    recorder = sync_wb.recorder
    handle = recorder.start_session("outage-01", consented_at=datetime.now(UTC))
    corpus = load_corpus()
    submitted = []
    for index in range(3):
        result = recorder.submit_section(
            handle, index, corpus[index], make_batch(corpus[index].text, handle.token, index)
        )
        submitted.append(result.test_section_id)
    # A retried sentence (a reloaded page) replaces the first one while the lakehouse is down.
    recorder.submit_section(handle, 0, corpus[0], make_batch(corpus[0].text, handle.token, 0, seed=9))
    recorder.end_session(handle)

    # The CSV store holds every sentence; the outbox holds each for the lakehouse.
    csv_sections = sync_wb.store.read("sections.csv", "outage-01", handle.session_id)
    assert sorted(csv_sections.get_column("test_section_id")) == submitted
    failed = sync_wb.publisher.drain(force=True)
    assert not failed.ok and backend.kind in failed.failures
    queued = {(e.lakehouse, e.section) for e in sync_wb.outbox.entries()}
    assert {(backend.kind, s) for s in [*submitted, SESSION_ROW]} <= queued
    assert all(e.attempts >= 1 and e.last_error for e in sync_wb.outbox.entries())

    report = sync.validate()
    ours = report.sections.filter(pl.col("session_id") == handle.session_id)
    assert ours.height == 3 and set(ours.get_column("status")) == {PENDING}

    backend.start()
    assert sync_wb.publisher.drain(force=True).ok
    assert sync_wb.outbox.entries() == []
    after = sync.validate()
    assert after.counts()[IN_SYNC] == after.sections.height == 5
    assert_exactly_once(sync_wb)
    sessions = sync_wb.lakehouses[backend.kind].read_table("sessions")
    assert sessions.filter(pl.col("session_id") == handle.session_id).get_column("status").to_list() == [
        "completed"
    ]
    sync_wb.publisher.stop()
