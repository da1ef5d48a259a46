"""Many writers at once: 20 threads x 15 sections in this process plus a second process."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flowtype_core import open_workbench
from flowtype_core.corpus import load_corpus
from tests.conftest import ROOT, make_batch

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


def other_process(data_dir: str) -> None:
    """The second writer: four typists in their own interpreter, then drain; prints the outcome."""
    errors: list[str] = []
    threads = [
        threading.Thread(target=_type_sessions, args=(data_dir, f"proc-{t}", SECTIONS, errors))
        for t in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    drained = open_workbench(data_dir=data_dir).publisher.wait_idle(120)
    print(json.dumps({"errors": errors, "drained": drained}), flush=True)


def test_threads_and_a_second_process_write_every_section_exactly_once(data_dir: Path):
    # A fresh interpreter (not multiprocessing): it shares nothing with this process but the files.
    code = f"from tests.core.test_concurrency import other_process; other_process({str(data_dir)!r})"
    other = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)

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
    out, _ = other.communicate(timeout=300)
    outcome = json.loads(out.strip().splitlines()[-1])
    other_errors, other_drained = outcome["errors"], outcome["drained"]
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
