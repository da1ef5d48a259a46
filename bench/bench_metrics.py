"""Section + participant metrics on 10M keystrokes: flowtype vs DuckDB SQL vs vectorised pandas.

    .venv/bin/python bench/bench_metrics.py [--keystrokes 10000000] [--repeat 3] [--engines ...]

The data is the Aalto sample replicated under new participant ids, written once to bench/out/
(git-ignored) and reused, twice: raw keystrokes, and the silver shape (`keystroke_features`
added, as the pipeline's silver table keeps them). Every engine runs in a fresh child process,
`--repeat` times, engines interleaved so that the machine's load hits them alike; each child's
peak resident memory is its own (`os.wait4` rusage), its wall time covers reading the file.
  read             `pl.read_parquet` of every column: the floor any engine pays to see the data;
  flowtype         `section_metrics_in_batches` + `participant_metrics` from raw keystrokes:
                   the SPEC §3.5 definitions (narwhals), fed a bounded batch of sections at a time;
  flowtype-silver  the same from silver rows (timing features already there, at silver time);
  flowtype-whole   `section_metrics` of the whole file collected at once (the pre-batch way);
  duckdb-sql       one DuckDB SQL query: window functions, built-in `levenshtein`, median IKI;
  pandas           vectorised pandas: sort, shift within sections, groupby-agg, rapidfuzz;
  one-section      `section_metrics` on a single section, as the recorder calls it (p50 of 200).
Every engine's population means (wpm, error rate, KSPC, median IKI, rollover) must agree to 3
decimals, or the bench fails. The machine is shared: compare ratios within one run.
Targets (issue 14): flowtype wall <= DuckDB SQL's, flowtype peak memory < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flowtype_core.datasets import read_aalto  # noqa: E402
from flowtype_core.metrics import keystroke_features, participant_metrics, section_metrics  # noqa: E402
from flowtype_core.metrics.batched import section_metrics_in_batches  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "datasets" / "aalto_sample" / "keystrokes"
OUT = ROOT / "bench" / "out"
SECTION_KEY = ["participant_id", "session_id", "test_section_id"]
ORDER_KEY = ["participant_id", "test_section_id"]  # SPEC §3.5: presses ordered within these
CHECKED = ("wpm", "error_rate", "kspc", "iki_median_ms", "rollover")
ENGINES = ("read", "flowtype", "flowtype-silver", "flowtype-whole", "duckdb-sql", "pandas", "one-section")


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


DUCKDB_SQL = """
WITH ordered AS (
  SELECT participant_id, session_id, test_section_id, sentence, user_input, letter, press_time,
         release_time - press_time AS hold_ms,
         press_time - lag(press_time) OVER w AS iki_ms,
         CASE WHEN lag(press_time) OVER w IS NOT NULL
              THEN coalesce(press_time < lag(release_time) OVER w, false) END AS rollover
  FROM read_parquet($path)
  WINDOW w AS (PARTITION BY participant_id, test_section_id ORDER BY press_time, keystroke_id)
), sections AS (
  SELECT participant_id, session_id, test_section_id,
         any_value(sentence) AS sentence, any_value(user_input) AS user_input, count(*) AS n,
         max(press_time) - min(press_time) AS duration, avg(iki_ms) AS iki_mean_ms,
         median(iki_ms) AS iki_median_ms, avg(hold_ms) AS hold_mean_ms,
         avg(rollover::INT) AS rollover, sum((letter = 'BKSP')::INT) AS backspaces
  FROM ordered GROUP BY ALL
), measured AS (
  SELECT *, length(user_input) AS chars, greatest(length(sentence), length(user_input)) AS longer,
         levenshtein(coalesce(sentence, ''), coalesce(user_input, '')) AS edits
  FROM sections
)
SELECT participant_id, count(*) AS n_sections, sum(n) AS keystrokes,
       avg(CASE WHEN chars >= 2 AND duration > 0 THEN (chars - 1) / (duration / 1000) * 60 / 5 END) AS wpm,
       avg(CASE WHEN longer > 0 THEN edits / longer * 100 END) AS error_rate,
       avg(CASE WHEN chars > 0 THEN n / chars END) AS kspc,
       avg(iki_mean_ms) AS iki_mean_ms, avg(iki_median_ms) AS iki_median_ms,
       avg(hold_mean_ms) AS hold_mean_ms, avg(rollover) AS rollover
FROM measured GROUP BY participant_id
"""


def duckdb_sql(raw: Path) -> pl.DataFrame:
    import duckdb

    return duckdb.connect().sql(DUCKDB_SQL, params={"path": str(raw)}).pl()


def pandas_vectorised(raw: Path) -> pd.DataFrame:
    """SPEC §3.5 the way a pandas user vectorises it: one sort, shifts, one groupby-agg."""
    columns = [*SECTION_KEY, "sentence", "user_input", "letter", "press_time", "release_time", "keystroke_id"]
    df = pd.read_parquet(raw, columns=columns)
    df = df.sort_values([*ORDER_KEY, "press_time", "keystroke_id"], kind="stable", ignore_index=True)
    first = (df[ORDER_KEY] != df[ORDER_KEY].shift()).any(axis=1)
    prev_press = df["press_time"].shift().where(~first)
    prev_release = df["release_time"].shift().where(~first)
    rolled = (df["press_time"] < prev_release).astype("float64")  # an unknown release: no rollover
    df = df.assign(
        iki_ms=df["press_time"] - prev_press,
        hold_ms=df["release_time"] - df["press_time"],
        rollover=rolled.where(prev_press.notna()),
        backspace=(df["letter"] == "BKSP").astype("int64"),
    )
    sections = df.groupby(SECTION_KEY, sort=False, dropna=False).agg(
        sentence=("sentence", "first"),
        user_input=("user_input", "first"),
        n=("press_time", "size"),
        started=("press_time", "min"),
        completed=("press_time", "max"),
        iki_mean_ms=("iki_ms", "mean"),
        iki_median_ms=("iki_ms", "median"),
        hold_mean_ms=("hold_ms", "mean"),
        rollover=("rollover", "mean"),
        backspaces=("backspace", "sum"),
    )
    sentence, typed = sections["sentence"].fillna(""), sections["user_input"].fillna("")
    edits = process.cpdist(sentence.tolist(), typed.tolist(), scorer=Levenshtein.distance, workers=1)
    chars, longer = typed.str.len(), np.maximum(sentence.str.len(), typed.str.len())
    duration = sections["completed"] - sections["started"]
    sections = sections.assign(
        wpm=((chars - 1) / (duration / 1000) * 60 / 5).where((chars >= 2) & (duration > 0)),
        error_rate=(edits / longer * 100).where(longer > 0),
        kspc=(sections["n"] / chars).where(chars > 0),
    )
    return sections.groupby("participant_id")[list(CHECKED)].mean()


def run_engine(engine: str, raw: Path, silver: Path) -> dict[str, object]:
    """Run one engine in this (child) process; its figures and population means as a dict."""
    started = time.perf_counter()
    if engine == "read":
        frame = pl.read_parquet(raw)
        return {"wall": time.perf_counter() - started, "rows": frame.height}
    if engine == "one-section":
        frame = pl.scan_parquet(raw).head(1).collect()
        key = pl.col("participant_id") == frame["participant_id"][0]
        one = pl.scan_parquet(raw).filter(key & (pl.col("test_section_id") == frame["test_section_id"][0]))
        section = one.collect()
        samples = []
        for _ in range(200):
            at = time.perf_counter()
            section_metrics(section)
            samples.append(time.perf_counter() - at)
        return {"wall": statistics.median(samples), "rows": section.height}
    if engine in ("flowtype", "flowtype-silver"):
        sections = section_metrics_in_batches(pl.scan_parquet(silver if engine == "flowtype-silver" else raw))
        result = participant_metrics(sections)
    elif engine == "flowtype-whole":
        result = participant_metrics(section_metrics(pl.scan_parquet(raw)).collect(engine="in-memory"))
    elif engine == "duckdb-sql":
        result = duckdb_sql(raw)
    elif engine == "pandas":
        result = pl.from_pandas(pandas_vectorised(raw).reset_index())
    else:
        raise SystemExit(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    wall = time.perf_counter() - started
    means = result.select(pl.col(c).mean().round(3) for c in CHECKED).row(0, named=True)
    return {"wall": wall, "participants": result.height, "means": means}


def in_child(engine: str, raw: Path, silver: Path) -> dict[str, object]:
    """Run `engine` in a fresh interpreter; adds its CPU seconds and peak RSS (bytes) from wait4."""
    command = [sys.executable, __file__, "--child", engine, "--raw", str(raw), "--silver", str(silver)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{engine} failed with exit code {child.returncode}")
    figures = json.loads(out.strip().splitlines()[-1])
    figures["cpu"] = usage.ru_utime + usage.ru_stime
    figures["peak_rss"] = usage.ru_maxrss * 1024  # Linux reports KiB
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keystrokes", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine, interleaved (default 3)")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--silver", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_engine(args.child, args.raw, args.silver)))
        return
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    raw, silver = dataset(args.keystrokes)
    runs: dict[str, list[dict[str, object]]] = {engine: [] for engine in args.engines}
    for _ in range(args.repeat):
        for engine in args.engines:
            runs[engine].append(in_child(engine, raw, silver))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())

    means = {e: dict(r[0]["means"]) for e, r in runs.items() if "means" in r[0]}
    # DuckDB's `levenshtein` counts UTF-8 bytes (levenshtein('é', 'e') = 2), SPEC §3.5 characters:
    # its error rate differs wherever a sentence has a non-ASCII character, so it is shown apart.
    duckdb_error_rate = means.get("duckdb-sql", {}).pop("error_rate", None)
    agreed = max(means.values(), key=len, default={})
    if any(value != agreed[key] for m in means.values() for key, value in m.items()):
        raise SystemExit(f"engines disagree on the population means: {json.dumps(means, indent=1)}")
    rows = pl.scan_parquet(raw).select(pl.len()).collect().item()
    print(
        f"data: {rows:,} keystrokes ({raw.relative_to(ROOT)}); {args.repeat} runs per engine, fresh processes"
    )
    print(f"machine: {os.cpu_count()} cores, load average {load} at the end (1, 5, 15 min)")
    if means:
        print(f"population means, equal for every engine: {agreed}")
    if duckdb_error_rate is not None:
        print(
            f"  except DuckDB's error rate, {duckdb_error_rate} (its levenshtein counts bytes, not characters)"
        )
    reference = "duckdb-sql" if "duckdb-sql" in runs else None
    best = {e: min(float(r["wall"]) for r in rs) for e, rs in runs.items()}

    def walls_of(engine: str) -> list[float]:
        return [float(r["wall"]) for r in runs[engine]]

    print(f"\n| engine | wall median (min-max) s | CPU s | peak RSS MB | wall / {reference or '-'} |")
    print("|---|---|---|---|---|")
    for engine, results in runs.items():
        walls = [float(r["wall"]) for r in results]
        cpu = statistics.median(float(r["cpu"]) for r in results)
        peak = max(int(r["peak_rss"]) for r in results) / 1e6
        ratio = "-"
        if engine == "one-section":
            wall = f"p50 {statistics.median(walls) * 1000:.1f} ms ({results[0]['rows']} keys)"
        else:
            wall = f"{statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f})"
            if reference:
                ratio = f"{statistics.median(walls) / statistics.median(walls_of(reference)):.2f}x"
        print(f"| {engine} | {wall} | {cpu:.2f} | {peak:.0f} | {ratio} |")
    if reference and "flowtype" in runs:
        print(
            f"\nflowtype / duckdb-sql, best runs: {best['flowtype'] / best['duckdb-sql']:.2f}x   target <= 1"
        )
    if "flowtype" in runs:
        peak = max(int(r["peak_rss"]) for r in runs["flowtype"]) / 1e9
        print(f"flowtype peak RSS: {peak:.2f} GB   target < 1 GB")


if __name__ == "__main__":
    main()
