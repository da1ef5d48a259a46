"""Sync benchmark: validation time for 10k sessions / 1M keystrokes, and Databricks statement counts.

    .venv/bin/python bench/bench_sync.py [--sessions 10000] [--sections 5] [--keys 20]

Prints one line per figure. The data is synthetic and written in the store's own CSV format (the
per-file fsync of the live path is skipped: it measures the disk, not validation).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
from deltalake import write_deltalake

from flowtype_core import open_workbench
from flowtype_core.schema import KEYSTROKES, SECTIONS
from flowtype_core.store.csv_store import _to_csv
from flowtype_core.sync.validate import SyncValidator

LETTERS = list("abcdefghijklmnopqrstuvwxyz ")


def synthetic(sessions: int, sections: int, keys: int, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keystrokes and section rows: `sessions` sessions over sessions/10 participants."""
    rng = np.random.default_rng(seed)
    rows = sessions * sections * keys
    i = np.arange(rows)
    session = i // (sections * keys)
    section = (i // keys) % sections
    participant = session % max(1, sessions // 10)
    sentence = "".join(random.Random(seed).choices(LETTERS, k=keys))
    press = 1_700_000_000_000 + i * 180 + rng.integers(0, 60, rows)
    keystrokes = KEYSTROKES.conform(
        pl.DataFrame(
            {
                "participant_id": pl.Series(participant).cast(pl.String).str.zfill(5).str.replace("^", "p"),
                "session_id": pl.Series(session).cast(pl.String).str.zfill(6).str.replace("^", "s"),
                "sentence": sentence,
                "user_input": sentence,
                "keystroke_id": i % keys,
                "press_time": press,
                "release_time": press + rng.integers(60, 140, rows),
                "letter": np.array(LETTERS)[rng.integers(0, len(LETTERS), rows)],
                "keycode": 65,
                "created_at": datetime.now(UTC),
            }
        ).with_columns(
            pl.format("{}_s{}", pl.col("session_id"), pl.Series(section).cast(pl.String).str.zfill(3)).alias(
                "test_section_id"
            )
        )
    )
    now = datetime.now(UTC)
    section_rows = SECTIONS.conform(
        keystrokes.group_by("participant_id", "session_id", "test_section_id", maintain_order=True)
        .agg(pl.first("sentence"), pl.first("user_input"), pl.len().cast(pl.Int64).alias("keystroke_count"))
        .with_columns(
            sentence_id=pl.lit("bench"),
            started_at=pl.lit(now),
            completed_at=pl.lit(now),
            wpm=pl.lit(50.0),
            error_rate=pl.lit(0.0),
            kspc=pl.lit(1.0),
            mean_iki_ms=pl.lit(180.0),
        )
    )
    return keystrokes, section_rows


def write_store(root: Path, keystrokes: pl.DataFrame, sections: pl.DataFrame) -> None:
    """One folder per session with the store's CSV serialiser."""
    by_session = dict(sections.partition_by("participant_id", "session_id", as_dict=True).items())
    for key, presses in keystrokes.partition_by("participant_id", "session_id", as_dict=True).items():
        folder = root / "sessions" / key[0] / key[1]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "keystrokes.csv").write_bytes(_to_csv(presses))
        (folder / "sections.csv").write_bytes(_to_csv(by_session[key]))


def bench_validation(args: argparse.Namespace, work: Path) -> None:
    keystrokes, sections = synthetic(args.sessions, args.sections, args.keys)
    data = work / "data"
    started = time.perf_counter()
    write_store(data, keystrokes, sections)
    wb = open_workbench(data_dir=data, FLOWTYPE_LAKEHOUSE="local")
    lake = wb.lakehouses["local"]
    write_deltalake(str(lake.path("keystrokes")), keystrokes.to_arrow(), mode="append")
    write_deltalake(str(lake.path("sections")), sections.to_arrow(), mode="append")
    print(
        f"setup: {args.sessions} sessions, {keystrokes.height} keystrokes in {time.perf_counter() - started:.1f} s"
    )
    validator = SyncValidator(wb.store, wb.lakehouses, wb.outbox, wb.history, data / "sync")
    for label, full in (("full (cold)", True), ("incremental, nothing changed", False)):
        report = validator.validate(full=full)
        print(
            f"validation {label}: {report.seconds:.2f} s, {report.scanned_sessions} sessions read, "
            f"counts {report.counts()}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--sections", type=int, default=5)
    parser.add_argument("--keys", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_sync_", dir=os.environ.get("BENCH_TMP")) as tmp:
        bench_validation(args, Path(tmp))


if __name__ == "__main__":
    main()
