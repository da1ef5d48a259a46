"""Submit latency and per-sentence lakehouse commit latency (issues 2 and 14).

Visible latency is what the participant waits for after Enter: validation, metrics, the atomic
CSV write and the outbox entry (the lakehouse push happens in the background). Commit latency is
`replace_sections` (keystrokes, then sections table) into a local Delta `keystrokes` table that
already holds 1M and then 10M rows, bulk-loaded: a few re-submitted sections before `maintain()`
clusters the table by (participant, section), then `--samples` of them after it, plus new
sections committed and replaced. Last, `--small-commits` one-section replaces on top through the
same lakehouse object (as the publisher pushes them from one long-running process: each its own
file and commit), then replaces and a full read before and after `maintain()`. Baselines measured in the same run: a bare append of the same rows (the cheapest
possible Delta commit) and a bare atomic write of the same CSV bytes.

    .venv/bin/python bench/bench_submit.py [--rows 1000000 10000000] [--samples 200] [--small-commits 10000]

Targets: visible p99 <= 50 ms; replace an existing section p99 <= 100 ms at 1M and 10M rows,
also after 10k small commits (issue 14).
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
from deltalake import DeltaTable, write_deltalake

from flowtype_core import open_workbench
from flowtype_core.capture import validate_batch
from flowtype_core.corpus import load_corpus
from flowtype_core.demo import TypistProfile, synthesize_batch
from flowtype_core.recorder import sections_from_keystrokes
from flowtype_core.schema import KEYSTROKES, SECTIONS
from flowtype_core.store.atomic import atomic_write
from flowtype_core.sync.publisher import MAINTAIN_EVERY

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


def fill_table(lake, target: int, current: int) -> int:
    """Bulk-load synthetic keystrokes up to `target` rows, with their section rows."""
    chunk = 2_000_000
    while current < target:
        rows = min(chunk, target - current)
        keystrokes = synthetic_keystrokes(rows, current)
        write_deltalake(str(lake.path("keystrokes")), keystrokes.to_arrow(), mode="append")
        sections = sections_from_keystrokes(keystrokes)
        write_deltalake(str(lake.path("sections")), SECTIONS.conform(sections).to_arrow(), mode="append")
        current += rows
    return current


def timed(fn):
    """Wall seconds of `fn()` and its result."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def existing_sections(rng: random.Random, rows: int, count: int) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """`count` sections already in a table filled with `rows` synthetic keystrokes, re-submitted."""
    picks = [rng.randrange(rows // ROWS_PER_SECTION) for _ in range(count)]
    batches = []
    for section in picks:
        keystrokes = synthetic_keystrokes(ROWS_PER_SECTION, section * ROWS_PER_SECTION)
        batches.append((sections_from_keystrokes(keystrokes), keystrokes))
    return batches


def timed_replaces(lake, batches: list[tuple[pl.DataFrame, pl.DataFrame]]) -> list[float]:
    """Seconds of `replace_sections` (keystrokes, then sections table) for each batch."""
    return [timed(lambda s=s, k=k: lake.replace_sections(s, k))[0] for s, k in batches]


def read_seconds(path: Path) -> float:
    """Wall seconds to read the whole table: what many small files cost every reader."""
    return timed(lambda: pl.read_delta(str(path)))[0]


def small_commits(lake, rows: int, commits: int, samples: int, rng: random.Random) -> None:
    """`commits` one-section replaces on top of the table, as the publisher pushes them from one
    long-running process (with its `maintain()` after every `MAINTAIN_EVERY` pushes, not timed);
    then replaces of existing sections before and after one more maintain()."""
    if commits <= 0:
        return
    path = lake.path("keystrokes")
    first = rows // ROWS_PER_SECTION + 1  # new sections after the table's
    spent, maintaining = [], 0.0
    for i in range(commits):
        keystrokes = synthetic_keystrokes(ROWS_PER_SECTION, (first + i) * ROWS_PER_SECTION)
        spent.append(timed(lambda k=keystrokes: lake.replace_sections(sections_from_keystrokes(k), k))[0])
        if (i + 1) % MAINTAIN_EVERY == 0:
            maintaining += timed(lake.maintain)[0]
    window = max(1, min(500, commits // 10))
    total = rows + commits * ROWS_PER_SECTION
    files = len(DeltaTable(str(path)).file_uris())
    log_files = len(list((path / "_delta_log").glob("*.json")))
    read_before = read_seconds(path)
    before = timed_replaces(lake, existing_sections(rng, total, samples))
    clustered, _ = timed(lake.maintain)
    read_after = read_seconds(path)
    after = timed_replaces(lake, existing_sections(rng, total, samples))
    print(
        f"{commits:,} one-section replaces from one process: first {window} p50 {pct(spent[:window], 50):.0f} ms, "
        f"last {window} p50 {pct(spent[-window:], 50):.0f} ms p99 {pct(spent[-window:], 99):.0f} ms "
        f"({total:,} rows, {files:,} files, {log_files:,} commit files left in the log; maintain() every "
        f"{MAINTAIN_EVERY} took {maintaining / max(1, commits // MAINTAIN_EVERY):.1f} s)"
    )
    print(
        f"  then: replace existing p50 {pct(before, 50):.0f} ms p99 {pct(before, 99):.0f} ms, "
        f"full read {read_before:.2f} s"
    )
    print(
        f"  then maintain() {clustered:.1f} s -> {len(DeltaTable(str(path)).file_uris())} files: replace "
        f"existing p50 {pct(after, 50):.0f} ms p99 {pct(after, 99):.0f} ms (target p99 <= 100 ms), "
        f"full read {read_after:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument(
        "--small-commits",
        type=int,
        default=10_000,
        help="one-section commits before the last case (default 10k)",
    )
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
        rng = random.Random(7)
        for target in sorted(args.rows):
            current = fill_table(lake, target, current)
            before = timed_replaces(lake, existing_sections(rng, current, 5))
            clustered, maintained = timed(lake.maintain)
            files = len(DeltaTable(str(path)).file_uris())
            existing = timed_replaces(lake, existing_sections(rng, current, args.samples))
            new = timed_replaces(lake, sample_batches)
            replace = timed_replaces(lake, sample_batches[: args.samples // 2])
            append = []
            for _, keystrokes in sample_batches[: args.samples // 4]:
                t0 = time.perf_counter()
                write_deltalake(str(path), keystrokes.to_arrow(), mode="append")
                append.append(time.perf_counter() - t0)
            print(
                f"{current:>11,} rows: replace an existing section before maintain() p50 {pct(before, 50):.0f} ms "
                f"({len(before)} samples); maintain() {clustered:.1f} s -> {files} files "
                f"({maintained['keystrokes']})"
            )
            print(
                f"{'':>17} after: replace existing p50 {pct(existing, 50):.0f} ms p99 {pct(existing, 99):.0f} ms "
                f"(target p99 <= 100 ms); commit new section p50 {pct(new, 50):.0f} ms p99 {pct(new, 99):.0f} ms; "
                f"replace it p50 {pct(replace, 50):.0f} ms p99 {pct(replace, 99):.0f} ms; bare append p50 "
                f"{pct(append, 50):.0f} ms -> replace existing / append {pct(existing, 50) / pct(append, 50):.1f}x"
            )
            # Remove the sample sections (and the baseline's appended copies) before the next size.
            lake.delete_sections(
                pl.concat([s for s, _ in sample_batches]).select("participant_id", "test_section_id")
            )
        small_commits(lake, current, args.small_commits, args.samples, rng)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
