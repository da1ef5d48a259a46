"""Section + participant metrics on 10M keystrokes: flowtype_core.metrics vs pandas vs a bare read.

    .venv/bin/python bench/bench_metrics.py [--keystrokes 10000000] [--pandas-keystrokes 200000]

The data is the Aalto sample replicated under new participant ids, written once to bench/out/
(git-ignored) and reused, twice: raw keystrokes, and the silver shape (`keystroke_features`
added, as the pipeline's silver table keeps them). Timings, each file read inside its timing:
  read     `pl.read_parquet` of every column: the floor any engine pays to see the data;
  metrics  `section_metrics` + `participant_metrics` from raw keystrokes (putting presses in
           order included: on polars a check of the stored order, a sort only when it fails) and
           from silver rows (timing features already there, at silver time); collected on
           polars' in-memory engine, as the app and the pipeline do and as `read_parquet` does
           (ordering presses needs the whole scan at once; streaming it measured 10-25% slower);
  one      `section_metrics` on a single section (what the recorder does after each sentence);
  pandas   a plain pandas groupby-apply of the same definitions from raw keystrokes; timed on a
           subset of whole participants and extrapolated linearly (it says so): too slow for all.
Wall and CPU seconds are both printed: the machine is shared, so wall time carries others' load.
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
from polars.testing import assert_frame_equal
from rapidfuzz.distance import Levenshtein

from flowtype_core.datasets import read_aalto
from flowtype_core.metrics import keystroke_features, participant_metrics, section_metrics

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "datasets" / "aalto_sample" / "keystrokes"
OUT = ROOT / "bench" / "out"
SECTION_KEY = ["participant_id", "session_id", "test_section_id"]


def dataset(keystrokes: int) -> tuple[Path, Path]:
    """Raw and silver-shaped Parquet files of the sample replicated to `keystrokes` rows (cached)."""
    raw, silver = OUT / f"keystrokes_{keystrokes}.parquet", OUT / f"silver_keystrokes_{keystrokes}.parquet"
    if not raw.exists():
        base = read_aalto(SAMPLE).keystrokes
        copies = -(-keystrokes // base.height)
        frame = pl.concat(
            base.with_columns(
                pl.format("r{}_{}", pl.lit(i), pl.col("participant_id")).alias("participant_id")
            )
            for i in range(copies)
        ).head(keystrokes)
        OUT.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(raw)
    if not silver.exists():
        keystroke_features(pl.scan_parquet(raw)).collect().write_parquet(silver)
    return raw, silver


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
    raw, silver = dataset(args.keystrokes)

    def metrics(path: Path) -> pl.DataFrame:
        return participant_metrics(section_metrics(pl.scan_parquet(path)).collect(engine="in-memory"))

    read_s, read_cpu, frame = timed(lambda: pl.read_parquet(raw))
    rows, participants = frame.height, frame.get_column("participant_id").n_unique()
    first = frame.row(0, named=True)
    del frame  # not held in memory while the metrics run
    metrics_s, metrics_cpu, result = timed(lambda: metrics(raw))
    silver_read_s, silver_read_cpu, _ = timed(lambda: pl.read_parquet(silver))
    silver_s, silver_cpu, from_silver = timed(lambda: metrics(silver))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    assert result.height == participants
    assert_frame_equal(from_silver.sort("participant_id"), result.sort("participant_id"))

    # The recorder's case: one section's keystrokes after each sentence.
    one = (
        pl.scan_parquet(raw)
        .filter(
            (pl.col("participant_id") == first["participant_id"])
            & (pl.col("test_section_id") == first["test_section_id"])
        )
        .collect()
    )
    single = sorted(timed(lambda: section_metrics(one))[0] for _ in range(200))

    # Whole sections for pandas: the first participants up to the requested size.
    counts = pl.scan_parquet(raw).group_by("participant_id").len().sort("participant_id").collect()
    keep = counts.filter(pl.col("len").cum_sum() <= args.pandas_keystrokes).get_column("participant_id")
    subset = pl.scan_parquet(raw).filter(pl.col("participant_id").is_in(keep.implode())).collect().to_pandas()
    pandas_subset_s, pandas_subset_cpu, _ = timed(lambda: pandas_metrics(subset))
    scale = rows / len(subset)
    pandas_s, pandas_cpu = pandas_subset_s * scale, pandas_subset_cpu * scale

    def line(what: str, wall: float, cpu: float, note: str = "") -> None:
        print(f"{what:<46}{wall:9.3f} s wall {cpu:8.3f} s CPU  {note}")

    print(f"data: {rows:,} keystrokes, {participants:,} participants ({raw.relative_to(ROOT)})")
    print(f"machine: {os.cpu_count()} cores, load average {load} when timed")
    line("bare read, raw keystrokes (all columns)", read_s, read_cpu)
    line("metrics from raw keystrokes", metrics_s, metrics_cpu, "target <= 3 s")
    line("bare read, silver keystrokes (all columns)", silver_read_s, silver_read_cpu)
    line("metrics from silver keystrokes", silver_s, silver_cpu, "target <= 3 s")
    line("pandas groupby-apply from raw (extrapolated)", pandas_s, pandas_cpu)
    print(
        f"  pandas timed on {len(subset):,} keystrokes ({pandas_subset_s:.2f} s wall) and scaled "
        f"linearly by {scale:.1f}"
    )
    print(f"one section ({one.height} keys), as the recorder calls it: p50 {single[100] * 1000:.1f} ms")
    print(
        f"speed-up over pandas (raw): {pandas_s / metrics_s:6.0f}x wall {pandas_cpu / metrics_cpu:6.0f}x CPU"
        "   target >= 100x"
    )
    print(
        f"raw metrics / raw read:     {metrics_s / read_s:6.2f}x wall {metrics_cpu / read_cpu:6.2f}x CPU"
        "   target <= 2.5x"
    )
    print(
        f"silver metrics / silver read: {silver_s / silver_read_s:4.2f}x wall "
        f"{silver_cpu / silver_read_cpu:6.2f}x CPU   target <= 2.5x"
    )


if __name__ == "__main__":
    main()
