"""Section + participant metrics on 10M keystrokes: flowtype_core.metrics vs pandas vs a bare read.

    .venv/bin/python bench/bench_metrics.py [--keystrokes 10000000] [--pandas-keystrokes 200000]

The data is the Aalto sample replicated under new participant ids, written once to
bench/out/ (git-ignored) and reused. Three timings over the same Parquet file:
  read     `pl.read_parquet` of every column: the floor any engine pays to see the data;
  metrics  `section_metrics` + `participant_metrics`, reading the file inside the timing;
  one      `section_metrics` on a single section (what the recorder does after each sentence);
  pandas   a plain pandas groupby-apply of the same definitions; timed on a subset of whole
           sections and extrapolated linearly (it says so) because it is too slow to run on all.
Targets (issue 3): metrics <= 3 s on 2 cores, >= 100x pandas, <= 2.5x the bare read.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
from rapidfuzz.distance import Levenshtein

from flowtype_core.datasets import read_aalto
from flowtype_core.metrics import participant_metrics, section_metrics

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "datasets" / "aalto_sample" / "keystrokes"
OUT = ROOT / "bench" / "out"
SECTION_KEY = ["participant_id", "session_id", "test_section_id"]


def dataset(keystrokes: int) -> Path:
    """The sample replicated to at least `keystrokes` rows, cached as Parquet."""
    path = OUT / f"keystrokes_{keystrokes}.parquet"
    if path.exists():
        return path
    base = read_aalto(SAMPLE).keystrokes
    copies = -(-keystrokes // base.height)
    frame = pl.concat(
        base.with_columns(pl.format("r{}_{}", pl.lit(i), pl.col("participant_id")).alias("participant_id"))
        for i in range(copies)
    ).head(keystrokes)
    OUT.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def pandas_section(group: pd.DataFrame) -> pd.Series:
    """SPEC §3.5 for one section, the way an analyst would write it in pandas."""
    group = group.sort_values(["press_time", "keystroke_id"])
    press = group["press_time"].to_numpy(dtype="float64")
    release = group["release_time"].to_numpy(dtype="float64")
    sentence, user_input = group["sentence"].iloc[0], group["user_input"].iloc[0]
    n, chars = len(group), len(user_input)
    duration = press[-1] - press[0]
    iki = np.diff(press)
    longer = max(len(sentence), chars)
    return pd.Series(
        {
            "keystroke_count": n,
            "wpm": (chars - 1) / (duration / 1000) * 60 / 5 if chars >= 2 and duration > 0 else np.nan,
            "error_rate": Levenshtein.distance(sentence, user_input) / longer * 100 if longer else np.nan,
            "kspc": n / chars if chars else np.nan,
            "iki_mean_ms": iki.mean() if n > 1 else np.nan,
            "iki_median_ms": np.median(iki) if n > 1 else np.nan,
            "hold_mean_ms": np.nanmean(release - press) if np.isfinite(release).any() else np.nan,
            "rollover": (press[1:] < release[:-1]).mean() if n > 1 else np.nan,
            "backspaces": int((group["letter"] == "BKSP").sum()),
        }
    )


def pandas_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    sections = frame.groupby(SECTION_KEY, sort=False).apply(pandas_section, include_groups=False)
    return sections.groupby("participant_id").mean()


def timed(fn):
    """Wall seconds, CPU seconds (all threads of this process) and the result of `fn()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keystrokes", type=int, default=10_000_000)
    parser.add_argument("--pandas-keystrokes", type=int, default=200_000)
    args = parser.parse_args()
    path = dataset(args.keystrokes)

    read_s, read_cpu, frame = timed(lambda: pl.read_parquet(path))
    rows, participants = frame.height, frame.get_column("participant_id").n_unique()

    def ours() -> pl.DataFrame:
        sections = section_metrics(pl.scan_parquet(path)).collect()
        return participant_metrics(sections)

    metrics_s, metrics_cpu, result = timed(ours)
    assert result.height == participants
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())

    # The recorder's case: one section's keystrokes after each sentence.
    first = frame.row(0, named=True)
    one = frame.filter(
        (pl.col("participant_id") == first["participant_id"])
        & (pl.col("test_section_id") == first["test_section_id"])
    )
    single = sorted(timed(lambda: section_metrics(one))[0] for _ in range(200))

    # Whole sections for pandas: the first participants up to the requested size.
    subset = frame.filter(
        pl.col("participant_id").is_in(result.get_column("participant_id").sort().implode())
    )
    counts = subset.group_by("participant_id").len().sort("participant_id")
    keep = counts.filter(pl.col("len").cum_sum() <= args.pandas_keystrokes).get_column("participant_id")
    subset = subset.filter(pl.col("participant_id").is_in(keep.implode())).to_pandas()
    del frame
    pandas_subset_s, pandas_subset_cpu, _ = timed(lambda: pandas_metrics(subset))
    scale = rows / len(subset)
    pandas_s, pandas_cpu = pandas_subset_s * scale, pandas_subset_cpu * scale

    print(f"data: {rows:,} keystrokes, {participants:,} participants ({path.relative_to(ROOT)})")
    print(
        f"machine: {os.cpu_count()} cores, load average {load} when timed (wall times include other users' load)"
    )
    print(f"bare read (pl.read_parquet, all columns): {read_s:8.3f} s wall {read_cpu:8.3f} s CPU")
    print(
        f"flowtype metrics (section + participant): {metrics_s:8.3f} s wall {metrics_cpu:8.3f} s CPU   target <= 3 s"
    )
    print(
        f"pandas groupby-apply, same definitions:   {pandas_s:8.1f} s wall {pandas_cpu:8.1f} s CPU   "
        f"extrapolated linearly from {len(subset):,} keystrokes ({pandas_subset_s:.2f} s wall)"
    )
    print(f"one section ({one.height} keys), as the recorder calls it: p50 {single[100] * 1000:.1f} ms")
    print(
        f"speed-up over pandas: {pandas_s / metrics_s:8.0f}x wall, {pandas_cpu / metrics_cpu:.0f}x CPU   target >= 100x"
    )
    print(
        f"metrics / bare read:  {metrics_s / read_s:8.2f}x wall, {metrics_cpu / read_cpu:.2f}x CPU   target <= 2.5x"
    )


if __name__ == "__main__":
    main()
