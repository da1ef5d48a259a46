"""SIGKILL a writer mid-write: CSVs stay whole, Delta stays readable, a re-run completes the work."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flowtype_core import open_workbench
from flowtype_core.capture import validate_batch
from flowtype_core.corpus import load_corpus
from flowtype_core.demo import TypistProfile, synthesize_batch
from flowtype_core.ids import section_id
from flowtype_core.recorder import sections_from_keystrokes, session_row

PARTICIPANTS = 30
SECTIONS = 12
START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def deterministic_session(participant: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The same frames on every call, so a re-run writes exactly what the killed run meant to."""
    rng = random.Random(participant)
    profile = TypistProfile.draw(rng)
    participant_id, session_id = f"crash-{participant:02d}", "20261101_090000_000"
    keystrokes, ids = [], {}
    clock = START.timestamp() * 1000
    for index, sentence in enumerate(load_corpus()[:SECTIONS]):
        sid = section_id(session_id, index)
        batch = synthesize_batch(sentence.text, profile, rng, start_ms=clock, token="t", section_index=index)
        captured = validate_batch(
            batch,
            participant_id=participant_id,
            session_id=session_id,
            test_section_id=sid,
            section_index=index,
            sentence=sentence.text,
            token="t",
            session_started_ms=START.timestamp() * 1000,
        )
        keystrokes.append(captured.keystrokes.with_columns(pl.lit(START).alias("created_at")))
        ids[sid] = sentence.id
        clock = batch["submitted_at"] + 1000
    ks = pl.concat(keystrokes)
    sections = sections_from_keystrokes(ks, ids)
    session = session_row(
        participant_id, session_id, sections, created_at=START, status="completed", ended_at=START
    )
    return ks, sections, session


def write_all(data_dir: str) -> None:
    wb = open_workbench(data_dir=data_dir)
    for participant in range(PARTICIPANTS):
        wb.recorder.ingest(*deterministic_session(participant))
        wb.publisher.drain()
        print(f"done {participant}", flush=True)
    assert wb.publisher.wait_idle(120)


def test_sigkill_mid_write_then_rerun_completes(data_dir: Path):
    code = f"import sys; sys.path.insert(0, {str(Path.cwd())!r}); from tests.core.test_crash import write_all; write_all({str(data_dir)!r})"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    # Kill once a few sessions are through, i.e. while the writer is busy with the next ones.
    for line in child.stdout:
        if line.startswith("done 3"):
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL

    wb = open_workbench(data_dir=data_dir)
    # Whatever the kill interrupted, every CSV parses and every listed section has all its presses.
    sections = wb.store.read_all("sections.csv")
    keystrokes = wb.store.read_all("keystrokes.csv")
    counts = keystrokes.group_by("participant_id", "test_section_id").agg(pl.len().alias("n"))
    joined = sections.join(counts, on=["participant_id", "test_section_id"], how="left")
    # A section with no presses on disk joins to a null count: it must count as a mismatch, so
    # compare with nulls as zero (`.all()` alone skips nulls).
    assert sections.height > 0
    assert joined.get_column("n").fill_null(0).equals(joined.get_column("keystroke_count"), check_names=False)
    for table in ("keystrokes", "sections", "sessions"):
        wb.lakehouse.read_table(table)  # readable, no torn commit
    assert 4 <= sections.get_column("participant_id").n_unique() < PARTICIPANTS

    write_all(str(data_dir))
    expected = pl.concat([deterministic_session(p)[0] for p in range(PARTICIPANTS)])
    key = ["participant_id", "test_section_id", "keystroke_id"]
    for frame in (wb.store.read_all("keystrokes.csv"), wb.lakehouse.read_table("keystrokes")):
        assert frame.height == expected.height
        assert not frame.select(key).is_duplicated().any()
        assert frame.sort(key).drop("created_at").equals(expected.sort(key).drop("created_at"))
    assert wb.lakehouse.read_table("sections").height == PARTICIPANTS * SECTIONS
