"""Many writers at once: 20 threads x 15 sections in this process plus a second process."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flowtype_core import open_workbench
from flowtype_core.corpus import load_corpus
from tests.conftest import make_batch

THREADS = 20
SECTIONS = 15


def _type_sessions(data_dir: str, participant_prefix: str, count: int, errors: list) -> None:
    wb = open_workbench(data_dir=data_dir)
    corpus = load_corpus()
    try:
        handle = wb.recorder.start_session(f"{participant_prefix}", consented_at=datetime.now(UTC))
        for i in range(count):
            sentence = corpus[i]
            wb.recorder.submit_section(
                handle, i, sentence, make_batch(sentence.text, handle.token, i, seed=i)
            )
        wb.recorder.end_session(handle)
    except Exception as exc:  # surfaced to the test as a failure
        errors.append(repr(exc))


def _other_process(data_dir: str, queue) -> None:
    errors: list[str] = []
    threads = [
        threading.Thread(target=_type_sessions, args=(data_dir, f"proc-{t}", SECTIONS, errors))
        for t in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wb = open_workbench(data_dir=data_dir)
    drained = wb.publisher.wait_idle(120)
    queue.put((errors, drained))


def test_threads_and_a_second_process_write_every_section_exactly_once(data_dir: Path):
    ctx = multiprocessing.get_context("spawn")  # delta-rs hangs in forked children
    queue = ctx.Queue()
    other = ctx.Process(target=_other_process, args=(str(data_dir), queue))
    other.start()

    wb = open_workbench(data_dir=data_dir)
    wb.publisher.start()  # the app's background publisher drains while threads submit
    errors: list[str] = []
    threads = [
        threading.Thread(target=_type_sessions, args=(str(data_dir), f"thread-{t}", SECTIONS, errors))
        for t in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other_errors, other_drained = queue.get(timeout=300)
    other.join(60)
    wb.publisher.stop()
    assert errors == [] and other_errors == []
    assert other_drained
    assert wb.publisher.wait_idle(120)

    expected_participants = THREADS + 4
    sections = wb.lakehouse.read_table("sections")
    keystrokes = wb.lakehouse.read_table("keystrokes")
    assert sections.height == expected_participants * SECTIONS
    assert not sections.select("participant_id", "test_section_id").is_duplicated().any()
    assert not keystrokes.select("participant_id", "test_section_id", "keystroke_id").is_duplicated().any()
    csv_keystrokes = wb.store.read_all("keystrokes.csv")
    assert keystrokes.height == csv_keystrokes.height
    per_section = keystrokes.group_by("participant_id", "test_section_id").agg(pl.len().alias("n"))
    expected = sections.select("participant_id", "test_section_id", pl.col("keystroke_count").alias("n"))
    assert per_section.sort("participant_id", "test_section_id").equals(
        expected.sort("participant_id", "test_section_id")
    )
    assert wb.lakehouse.read_table("sessions").get_column("status").unique().to_list() == ["completed"]
