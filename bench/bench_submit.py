"""Issue 2 benchmark: participant-visible submit latency and per-sentence lakehouse commit latency.

Visible latency is what the participant waits for after Enter: validation, metrics, the atomic
CSV write and the outbox entry (the lakehouse push happens in the background). Commit latency is
one sentence's replace-a-section commit into a local Delta `keystrokes` table that already holds
1M and then 10M rows. Baselines measured in the same run: a bare append of the same rows (the
cheapest possible Delta commit) and a bare atomic write of the same CSV bytes.

    .venv/bin/python bench/bench_submit.py [--rows 1000000 10000000] [--samples 200]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
from deltalake import write_deltalake

from flowtype_core import open_workbench
from flowtype_core.capture import validate_batch
from flowtype_core.corpus import load_corpus
from flowtype_core.demo import TypistProfile, synthesize_batch
from flowtype_core.recorder import sections_from_keystrokes
from flowtype_core.schema import KEYSTROKES
from flowtype_core.store.atomic import atomic_write

ROWS_PER_SECTION = 60


PROFILE = TypistProfile(
    iki_median_ms=180, iki_sigma=0.4, hold_mean_ms=100, typo_rate=0.02, correction_rate=0.9
)


def make_batch(sentence: str, token: str, index: int, seed: int) -> dict:
    start = datetime.now(UTC).timestamp() * 1000 - 60_000
    return synthesize_batch(
        sentence, PROFILE, random.Random(seed), start_ms=start, token=token, section_index=index
    )


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def synthetic_keystrokes(rows: int, offset: int) -> pl.DataFrame:
    n = pl.int_range(offset, offset + rows, eager=True)
    section = n // ROWS_PER_SECTION
    return KEYSTROKES.conform(
        pl.DataFrame(
            {
                "participant_id": ("bench-" + (section // 150).cast(pl.String)),
                "session_id": "bench",
                "test_section_id": ("b" + section.cast(pl.String).str.zfill(8)),
                "sentence": "the quick brown fox jumps over the lazy dog",
                "user_input": "the quick brown fox jumps over the lazy dog",
                "keystroke_id": n % ROWS_PER_SECTION,
                "press_time": 1_700_000_000_000 + n * 180,
                "release_time": 1_700_000_000_000 + n * 180 + 100,
                "letter": "a",
                "keycode": 65,
                "created_at": datetime.now(UTC),
            }
        )
    )


def fill_table(path: Path, target: int, current: int) -> int:
    chunk = 2_000_000
    while current < target:
        rows = min(chunk, target - current)
        write_deltalake(str(path), synthetic_keystrokes(rows, current).to_arrow(), mode="append")
        current += rows
    return current


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="flowtype-bench-"))
    try:
        wb = open_workbench(data_dir=root)
        corpus = load_corpus()
        # Visible latency: the participant's wait, lakehouse push left to the background thread.
        handle = wb.recorder.start_session("bench-p", consented_at=datetime.now(UTC))
        visible, csv_only = [], []
        for i in range(args.samples):
            sentence = corpus[i % len(corpus)]
            batch = make_batch(sentence.text, handle.token, i % 50, seed=i)
            t0 = time.perf_counter()
            wb.recorder.submit_section(handle, i % 50, sentence, batch)
            visible.append(time.perf_counter() - t0)
            payload = (
                wb.store.session_dir("bench-p", handle.session_id).joinpath("keystrokes.csv").read_bytes()
            )
            t0 = time.perf_counter()
            atomic_write(root / "baseline.csv", lambda h, p=payload: h.write(p))
            csv_only.append(time.perf_counter() - t0)
        print(
            f"visible submit latency: p50 {pct(visible, 50):.1f} ms, p99 {pct(visible, 99):.1f} ms "
            f"(target p99 <= 50 ms); bare atomic CSV write p50 {pct(csv_only, 50):.1f} ms "
            f"-> ratio {pct(visible, 50) / pct(csv_only, 50):.1f}x"
        )

        # Commit latency at table sizes.
        sample_batches = []
        for i in range(args.samples):
            sentence = corpus[i % len(corpus)]
            batch = make_batch(sentence.text, "t", i, seed=10_000 + i)
            captured = validate_batch(
                batch,
                participant_id=f"lat-{i % 7}",
                session_id="s1",
                test_section_id=f"s1_s{i:04d}",
                section_index=i,
                sentence=sentence.text,
                token="t",
            )
            sample_batches.append((sections_from_keystrokes(captured.keystrokes), captured.keystrokes))
        lake = wb.lakehouse
        path = lake.path("keystrokes")
        current = 0
        for target in sorted(args.rows):
            current = fill_table(path, target, current)
            new, replace, append = [], [], []
            for sections, keystrokes in sample_batches:
                t0 = time.perf_counter()
                lake.replace_sections(sections, keystrokes)
                new.append(time.perf_counter() - t0)
            for sections, keystrokes in sample_batches[: args.samples // 2]:
                t0 = time.perf_counter()
                lake.replace_sections(sections, keystrokes)
                replace.append(time.perf_counter() - t0)
            for _, keystrokes in sample_batches[: args.samples // 4]:
                t0 = time.perf_counter()
                write_deltalake(str(path), keystrokes.to_arrow(), mode="append")
                append.append(time.perf_counter() - t0)
            rows_now = current + sum(k.height for _, k in sample_batches)
            print(
                f"{rows_now:>11,} rows: commit new section p50 {pct(new, 50):.0f} ms p99 {pct(new, 99):.0f} ms; "
                f"replace p50 {pct(replace, 50):.0f} ms p99 {pct(replace, 99):.0f} ms (target p99 <= 250 ms); "
                f"bare append p50 {pct(append, 50):.0f} ms -> ratio {statistics.median(new) / statistics.median(append):.1f}x"
            )
            # Remove the sample sections (and the baseline's appended copies) before the next size.
            lake.delete_sections(
                pl.concat([s for s, _ in sample_batches]).select("participant_id", "test_section_id")
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
