"""Rows changed behind the app's back are named by validation and repaired by resync."""

from __future__ import annotations

from typing import Any

import polars as pl

from flowtype_core import Workbench
from flowtype_core.sync.report import (
    CHECKSUM_MISMATCH,
    COUNT_MISMATCH,
    IN_SYNC,
    MISSING,
    ORPHAN,
    STATUSES,
)
from flowtype_core.sync.service import Selection, SyncService
from flowtype_core.sync.validate import SyncValidator
from tests.sync.conftest import assert_exactly_once, with_demo


def _where(participant_id: str, section: str, extra: str = "") -> str:
    return f"participant_id = '{participant_id}' AND test_section_id = '{section}'" + (
        f" AND {extra}" if extra else ""
    )


def _statuses(report: Any, lakehouse: str) -> dict[str, str]:
    rows = report.sections.filter(pl.col("lakehouse") == lakehouse)
    return dict(zip(rows.get_column("test_section_id"), rows.get_column("status"), strict=True))


def test_tampered_lakehouse_is_named_then_resync_repairs_it(backend: Any, sync_wb: Workbench) -> None:
    with_demo(sync_wb)
    sync = SyncService.for_workbench(sync_wb)
    first = sync.validate()
    assert first.counts()[IN_SYNC] == first.sections.height == 12
    assert set(first.counts()) == set(STATUSES)

    sections = sync_wb.store.read_all("sections.csv").sort("test_section_id")
    keys = sections.select("participant_id", "test_section_id").rows()
    (p_count, s_count), (p_sum, s_sum), (p_gone, s_gone) = keys[0], keys[4], keys[8]
    backend.delete_rows("keystrokes", _where(p_count, s_count, "keystroke_id >= 2"))
    backend.update_rows("keystrokes", _where(p_sum, s_sum, "keystroke_id = 0"), "letter", "'#'")
    backend.delete_rows("keystrokes", _where(p_gone, s_gone))
    backend.delete_rows("sections", _where(p_gone, s_gone))
    # A section the CSV store never had: copy one under a new id.
    lake = sync_wb.lakehouses[backend.kind]
    orphan_id = keys[1][1] + "x"
    for table in ("keystrokes", "sections"):
        rows = lake.read_table(table).filter(pl.col("test_section_id") == keys[1][1])
        backend.append_rows(table, rows.with_columns(pl.lit(orphan_id).alias("test_section_id")))

    # Incremental: the CSV side is unchanged, the lakehouse is always read in full.
    report = sync.validate()
    statuses = _statuses(report, backend.kind)
    assert statuses.pop(s_count) == COUNT_MISMATCH
    assert statuses.pop(s_sum) == CHECKSUM_MISMATCH
    assert statuses.pop(s_gone) == MISSING
    assert statuses.pop(orphan_id) == ORPHAN
    assert set(statuses.values()) == {IN_SYNC}
    assert report.counts() == {
        **dict.fromkeys(STATUSES, 0),
        IN_SYNC: 9,
        COUNT_MISMATCH: 1,
        CHECKSUM_MISMATCH: 1,
        MISSING: 1,
        ORPHAN: 1,
    }

    seen: list[tuple[float, str]] = []
    result = sync.resync(progress=lambda fraction, message: seen.append((fraction, message)))
    assert result.ok, result.to_dict()
    assert result.queued >= 4
    done, total = seen[-1][1].removesuffix(" outbox entries pushed").split("/")
    assert seen[-1][0] == 1.0 and done == total
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
    assert set(result.after.counts()) == set(STATUSES)
    assert result.after.counts()[IN_SYNC] == 12
    assert lake.read_table("keystrokes").filter(pl.col("test_section_id") == orphan_id).is_empty()
    assert_exactly_once(sync_wb)

    runs = sync.history_frame().filter(pl.col("kind") == "resync")
    assert runs.height == 1
    run = runs.row(0, named=True)
    assert run["status"] == "ok" and run["lakehouse"] == backend.kind and run["rows"] > 0

    # Nothing left to do: a second resync queues nothing and changes nothing.
    again = sync.resync()
    assert again.ok and again.queued == 0
    assert_exactly_once(sync_wb)


def test_named_selection_replays_in_sync_sections_idempotently(backend: Any, sync_wb: Workbench) -> None:
    with_demo(sync_wb)
    sync = SyncService.for_workbench(sync_wb)
    participant = sync_wb.store.read_all("sections.csv").get_column("participant_id")[0]
    for _ in range(2):
        result = sync.resync(Selection(participants=(participant,)))
        assert result.ok
        assert result.pushed_sections == 6  # the participant's 2 sessions x 3 sentences, in sync or not
    one = sync_wb.store.read_all("sections.csv").get_column("session_id")[0]
    assert sync.resync(Selection(sessions=(one,))).pushed_sections == 3
    assert_exactly_once(sync_wb)


def test_incremental_validation_rereads_only_changed_sessions(backend: Any, sync_wb: Workbench) -> None:
    with_demo(sync_wb)
    validator = SyncValidator(
        sync_wb.store,
        sync_wb.lakehouses,
        sync_wb.outbox,
        sync_wb.history,
        sync_wb.data_dir / "sync",
        watermark_slack_ns=0,
    )
    assert validator.validate().scanned_sessions == 4
    assert validator.validate().scanned_sessions == 0
    # Change one section in the CSV store only (no outbox entry): the cache must not hide it.
    sections = sync_wb.store.read_all("sections.csv")
    target = sections.row(0, named=True)
    keystrokes = sync_wb.store.read("keystrokes.csv", target["participant_id"], target["session_id"])
    edited = keystrokes.with_columns(
        pl.when(pl.col("test_section_id") == target["test_section_id"])
        .then(pl.lit("Z"))
        .otherwise("letter")
        .alias("letter")
    )
    sync_wb.store.replace_sections(sections.filter(pl.col("session_id") == target["session_id"]), edited)
    report = validator.validate()
    assert report.scanned_sessions == 1 and report.total_sessions == 4
    assert _statuses(report, backend.kind)[target["test_section_id"]] == CHECKSUM_MISMATCH
    assert report.counts()[IN_SYNC] == 11
    # A full validation agrees with the incremental one.
    full = validator.validate(full=True)
    assert full.scanned_sessions == 4
    assert full.sections.equals(report.sections)
    # Deleting a session folder turns its lakehouse rows into orphans.
    removed = sections.row(-1, named=True)
    for path in sync_wb.store.session_dir(removed["participant_id"], removed["session_id"]).iterdir():
        path.unlink()
    sync_wb.store.session_dir(removed["participant_id"], removed["session_id"]).rmdir()
    after = validator.validate()
    assert after.total_sessions == 3
    orphans = after.sections.filter(pl.col("session_id") == removed["session_id"])
    assert orphans.height == 3 and set(orphans.get_column("status")) == {ORPHAN}


def test_presses_without_their_section_row_are_orphans_and_resync_removes_them(
    backend: Any, sync_wb: Workbench
) -> None:
    with_demo(sync_wb)
    sync = SyncService.for_workbench(sync_wb)
    lake = sync_wb.lakehouses[backend.kind]
    source = lake.read_table("keystrokes").get_column("test_section_id")[0]
    stray = source + "k"
    rows = lake.read_table("keystrokes").filter(pl.col("test_section_id") == source)
    backend.append_rows("keystrokes", rows.with_columns(pl.lit(stray).alias("test_section_id")))

    report = sync.validate()
    found = report.sections.filter(pl.col("test_section_id") == stray).row(0, named=True)
    assert found["status"] == ORPHAN and found["lakehouse_rows"] == rows.height
    assert found["session_id"] == rows.get_column("session_id")[0]

    result = sync.resync()
    assert result.ok and result.after.counts()[IN_SYNC] == result.after.sections.height
    assert lake.read_table("keystrokes").filter(pl.col("test_section_id") == stray).is_empty()
