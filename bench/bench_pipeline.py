"""Bronze -> silver -> gold on 1M new keystrokes, then a no-op re-run; polars, PySpark and pandas.

    .venv/bin/python bench/bench_pipeline.py [--keystrokes 1000000] [--no-spark] [--no-pandas]

The input is the Aalto sample replicated under new participant ids and written as the CSV session
store writes it (one keystrokes.csv and sections.csv per session), cached under bench/out/.
  polars   the pipeline as the app runs it: `run_bronze/run_silver/run_gold` over fresh local Delta
           tables (reads the CSV files, writes every table), then the same again with nothing new;
  pyspark  the same transforms (`transforms.silver_tables`, `transforms.gold_tables`) on local
           PySpark in .venv-spark, as a subprocess, CSV in and every table computed (Spark has no
           Delta jars here, so nothing is written); JVM start-up is reported apart;
  pandas   a plain pandas version of the steps (read, validate, de-duplicate, features,
           section/session/participant metrics, digraphs, silver/sections/digraphs written as
           Parquet). It skips: hashing and the file manifest, the quarantine table, sentence ids,
           the ranker tables, Delta commits, and incremental state (it always does everything).
Each polars run and the pandas baseline run in a child process: peak RSS is that process's own
(`os.wait4`). `--keystrokes 10000000` is issue 14's bounded-memory case (peak <= 4 GB, time
within 1.2x linear of 1M).
Targets (issue 5): 1M keystrokes <= 5 s, no-op re-run <= 1 s (polars, 2 shared cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
from rapidfuzz.distance import Levenshtein

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flowtype_core.datasets import read_aalto  # noqa: E402
from flowtype_core.pipeline.catalog import LocalDeltaCatalog  # noqa: E402
from flowtype_core.pipeline.layers import LAYERS, PipelineContext  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "datasets" / "aalto_sample" / "keystrokes"
OUT = ROOT / "bench" / "out"
SPARK_PYTHON = ROOT / ".venv-spark" / "bin" / "python"
MEDALLION = ("bronze", "silver", "gold")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"


def session_store(keystrokes: int) -> Path:
    """`<out>/sessions` holding at least `keystrokes` presses in per-session CSV files (cached)."""
    root = OUT / f"pipeline_store_{keystrokes}"
    sessions = root / "sessions"
    if (root / "done").exists():
        return sessions
    shutil.rmtree(root, ignore_errors=True)
    sample = read_aalto(SAMPLE)
    copies = -(-keystrokes // sample.keystrokes.height)
    for copy in range(copies):
        suffix = pl.col("participant_id") + f"x{copy}"
        ks = sample.keystrokes.with_columns(suffix)
        sections = sample.sections.with_columns(suffix)
        for (participant, session), part in ks.group_by("participant_id", "session_id"):
            folder = sessions / participant / session
            folder.mkdir(parents=True)
            part.sort("test_section_id", "keystroke_id").write_csv(
                folder / "keystrokes.csv", datetime_format=TIME_FORMAT
            )
            sections.filter(pl.col("participant_id") == participant).write_csv(
                folder / "sections.csv", datetime_format=TIME_FORMAT
            )
    (root / "done").touch()
    return sessions


def polars_run(sessions: Path, work: Path) -> dict[str, object]:
    """One run of bronze -> silver -> gold over the local Delta tables under `work` (child process)."""
    context = PipelineContext(LocalDeltaCatalog(work / "lakehouse"), sessions, work / "models")
    started, cpu = time.perf_counter(), time.process_time()
    results, layers_cpu = [], {}
    for layer in MEDALLION:  # CPU per layer too: on shared cores wall time alone misleads
        layer_cpu = time.process_time()
        results.append(LAYERS[layer](context))
        layers_cpu[layer] = round(time.process_time() - layer_cpu, 2)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "layers": {r.layer: r.seconds for r in results},
        "layers_cpu": layers_cpu,
        "rows_in": {r.layer: r.rows_in for r in results},
        "rows_written": sum(r.rows_written for r in results),
        "groups": {r.layer: r.details.get("groups") for r in results},
    }


def in_child(*args: str) -> dict[str, object]:
    """This script's `--child` mode in a fresh process; its JSON plus peak RSS in GB (wait4)."""
    child = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, text=True)
    out = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"child {args[0]} failed")
    figures = json.loads(out.strip().splitlines()[-1])
    figures["peak_rss_gb"] = round(usage.ru_maxrss * 1024 / 1e9, 2)  # Linux reports KiB
    return figures


def run_polars(sessions: Path) -> dict[str, object]:
    """The pipeline on fresh tables, then again with nothing new: each run in its own process."""
    work = Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    try:
        return {label: in_child("polars", str(sessions), str(work)) for label in ("new", "noop")}
    finally:
        shutil.rmtree(work, ignore_errors=True)


SPARK_JOB = r"""
import json, os, sys, time
from datetime import UTC, datetime
from pathlib import Path
started = time.perf_counter()
from pyspark.sql import SparkSession, functions as F
import narwhals as nw
spark = (SparkSession.builder.master("local[2]").config("spark.driver.host", "127.0.0.1")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.shuffle.partitions", "4").config("spark.sql.session.timeZone", "UTC")
         .config("spark.driver.memory", "4g").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
from flowtype_core.pipeline import transforms
from flowtype_core.pipeline.tables import SOURCES
jvm = time.perf_counter() - started
sessions = Path(sys.argv[1])
now = datetime.now(UTC)
t0 = time.perf_counter()
frames = []
for source in SOURCES:
    raw = (spark.read.csv(str(sessions / "*" / "*" / source.file_name), header=True, inferSchema=False, multiLine=True, escape='"')
           .withColumn("_source_file", F.col("_metadata.file_path")).withColumn("_source_hash", F.lit("h")))
    frames.append(transforms.bronze_rows(raw, source.columns, ingested_at=now))
bronze_k = frames[0].cache(); bronze_k.count()
t1 = time.perf_counter()
silver, quarantine = transforms.silver_tables(bronze_k, frames[1], processed_at=now)
silver = silver.cache(); rows = silver.count(); quarantine.write.format("noop").mode("overwrite").save()
t2 = time.perf_counter()
for name, frame in transforms.gold_tables(silver).items():
    frame.write.format("noop").mode("overwrite").save()
t3 = time.perf_counter()
print(json.dumps({"jvm_start_s": round(jvm, 1), "seconds": round(t3 - t0, 2), "silver_rows": rows,
                  "layers": {"bronze": round(t1 - t0, 2), "silver": round(t2 - t1, 2), "gold": round(t3 - t2, 2)}}))
"""


def run_spark(sessions: Path) -> dict[str, object]:
    if not SPARK_PYTHON.exists():
        return {"skipped": "no .venv-spark (python3 scripts/spark_env.py builds it)"}
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [str(SPARK_PYTHON), "-c", SPARK_JOB, str(sessions)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        return {"failed": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- a plain pandas version of the same steps, for scale ----------------------------------------
def run_pandas(sessions: Path) -> dict[str, object]:
    started = time.perf_counter()
    files = sorted(sessions.glob("*/*/keystrokes.csv"))
    raw = pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False).assign(_source_file=str(f)) for f in files]
    )
    t_bronze = time.perf_counter()
    ints = {c: pd.to_numeric(raw[c], errors="coerce") for c in ("keystroke_id", "press_time", "release_time")}
    valid = (
        raw["participant_id"].str.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
        & ints["keystroke_id"].notna()
        & ints["press_time"].notna()
        & ((raw["release_time"] == "") | (ints["release_time"] >= ints["press_time"]))
        & ~raw.duplicated(["participant_id", "test_section_id", "keystroke_id"], keep=False)
    )
    ks = raw[valid].assign(**{c: v[valid].astype("int64") for c, v in ints.items() if c != "release_time"})
    ks["release_time"] = ints["release_time"][valid]
    ks = ks.sort_values(["participant_id", "session_id", "test_section_id", "press_time", "keystroke_id"])
    grouped = ks.groupby(["participant_id", "session_id", "test_section_id"], sort=False)
    ks["hold_ms"] = ks["release_time"] - ks["press_time"]
    ks["iki_ms"] = grouped["press_time"].diff()
    ks["rollover"] = np.where(
        ks["iki_ms"].isna(), np.nan, (ks["press_time"] < grouped["release_time"].shift()).astype(float)
    )
    ks["prev_letter"] = grouped["letter"].shift()
    t_silver = time.perf_counter()
    sections = grouped.agg(
        sentence=("sentence", "first"),
        user_input=("user_input", "first"),
        keystroke_count=("press_time", "size"),
        first=("press_time", "min"),
        last=("press_time", "max"),
        iki_mean_ms=("iki_ms", "mean"),
        hold_mean_ms=("hold_ms", "mean"),
        rollover=("rollover", "mean"),
    ).reset_index()
    chars = sections["user_input"].str.len()
    duration = sections["last"] - sections["first"]
    sections["wpm"] = np.where(
        (chars >= 2) & (duration > 0), (chars - 1) / (duration / 1000) * 60 / 5, np.nan
    )
    edits = [
        Levenshtein.distance(a, b) for a, b in zip(sections["sentence"], sections["user_input"], strict=True)
    ]
    sections["error_rate"] = np.array(edits) / np.maximum(sections["sentence"].str.len(), chars) * 100
    sections["kspc"] = sections["keystroke_count"] / chars
    means = ["wpm", "error_rate", "kspc", "iki_mean_ms", "hold_mean_ms", "rollover"]
    sections.groupby(["participant_id", "session_id"])[means].mean()
    sections.groupby("participant_id")[means].mean()
    pairs = ks[ks["iki_ms"].notna() & (ks["letter"].str.len() == 1) & (ks["prev_letter"].str.len() == 1)]
    digraphs = (
        pairs.assign(digraph=pairs["prev_letter"] + pairs["letter"])
        .groupby(["participant_id", "digraph"])["iki_ms"]
        .agg(["mean", "median", "size"])
    )
    with tempfile.TemporaryDirectory(prefix="bench_pandas_") as out:  # the tables written, as Parquet
        for name, frame in {"silver": ks, "sections": sections, "digraphs": digraphs}.items():
            frame.to_parquet(Path(out) / f"{name}.parquet")
    done = time.perf_counter()
    return {
        "seconds": round(done - started, 2),
        "layers": {
            "bronze": round(t_bronze - started, 2),
            "silver": round(t_silver - t_bronze, 2),
            "gold": round(done - t_silver, 2),
        },
        "silver_rows": len(ks),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keystrokes", type=int, default=1_000_000)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--no-pandas", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *paths = args.child
        run = polars_run(Path(paths[0]), Path(paths[1])) if kind == "polars" else run_pandas(Path(paths[0]))
        print(json.dumps(run))
        return 0
    sessions = session_store(args.keystrokes)
    files = len(list(sessions.glob("*/*/keystrokes.csv")))
    print(
        f"input: {files} sessions under {sessions} ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.1f})"
    )
    figures = {"polars": run_polars(sessions)}
    if not args.no_pandas:
        figures["pandas"] = in_child("pandas", str(sessions))
    if not args.no_spark:
        figures["pyspark"] = run_spark(sessions)
    print(json.dumps(figures, indent=1))
    polars = figures["polars"]
    print(
        f"polars: new {polars['new']['seconds']} s wall / {polars['new']['cpu_seconds']} s CPU, "
        f"peak RSS {polars['new']['peak_rss_gb']} GB (targets: 1M <= 5 s; 10M <= 4 GB) "
        f"wall {polars['new']['layers']} CPU {polars['new']['layers_cpu']}; "
        f"no-op {polars['noop']['seconds']} s (target <= 1 s), "
        f"{polars['noop']['rows_written']} rows written, peak RSS {polars['noop']['peak_rss_gb']} GB; "
        f"load average now {os.getloadavg()[0]:.1f}"
    )
    if "pandas" in figures:
        pandas = figures["pandas"]
        print(f"pandas: {pandas['seconds']} s {pandas['layers']}, peak RSS {pandas['peak_rss_gb']} GB")
    if "pyspark" in figures and "seconds" in figures["pyspark"]:
        spark = figures["pyspark"]
        print(
            f"pyspark (local[2]): {spark['seconds']} s {spark['layers']} + JVM start {spark['jvm_start_s']} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
