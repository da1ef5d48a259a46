"""`pipeline run --engine spark-connect` through databricks-connect equals the polars run, table by table.

The same demo data directory is copied twice; one copy runs bronze, silver and gold on polars, the
other through the CLI with `--engine spark-connect` against the local Spark Connect server (what a
laptop does against a Databricks cluster). Every silver and gold table must hold the same rows;
only the run's own timestamps (`_ingested_at`, `_processed_at`) differ between two runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.pipeline.tables import INGESTED_AT, PIPELINE_TABLES, PROCESSED_AT

pytestmark = pytest.mark.connect

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("bronze", "silver", "gold")
COMPARED = [t for t in PIPELINE_TABLES if t.startswith(("silver_", "gold_"))]
RUN_TIMES = (INGESTED_AT, PROCESSED_AT)


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtype_core", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def table(data_dir: Path, name: str) -> pl.DataFrame:
    frame = pl.read_delta(str(data_dir / "lakehouse" / name))
    frame = frame.drop([c for c in RUN_TIMES if c in frame.columns])
    return frame.sort([c for c, dtype in frame.schema.items() if not dtype.is_nested()])  # a total order


def test_pipeline_cli_on_spark_connect_writes_the_tables_polars_writes(
    connect_url: str, tmp_path: Path
) -> None:
    on_polars, on_spark = tmp_path / "polars", tmp_path / "spark"
    made = cli("demo", "--participants", "3", "--data-dir", str(on_polars), env={})
    assert made.returncode == 0, made.stderr
    shutil.copytree(on_polars, on_spark)

    for layer in LAYERS:
        local = cli("pipeline", "run", layer, "--data-dir", str(on_polars), "--json", env={})
        remote = cli(
            "pipeline", "run", layer, "--engine", "spark-connect", "--data-dir", str(on_spark), "--json",
            env={"SPARK_REMOTE": connect_url},
        )  # fmt: skip
        assert local.returncode == 0, local.stdout + local.stderr
        assert remote.returncode == 0, remote.stdout + remote.stderr
        summary = json.loads(remote.stdout)
        assert summary["state"] == "succeeded" and summary["details"]["engine"] == "spark-connect"
        assert (
            summary["tasks"][layer]["rows_written"]
            == json.loads(local.stdout)["tasks"][layer]["rows_written"]
        )

    for name in COMPARED:
        expected, actual = table(on_polars, name), table(on_spark, name)
        if name != "silver_quarantine":  # demo typists break no expectation
            assert expected.height > 0, name
        assert_frame_equal(
            actual.select(expected.columns), expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-9
        )


def test_a_rerun_on_spark_connect_with_nothing_new_writes_nothing(connect_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli("demo", "--participants", "2", "--data-dir", str(data), env={}).returncode == 0
    runs = []
    for _ in range(2):
        done = cli(
            "pipeline", "run", "bronze", "--engine", "spark-connect", "--data-dir", str(data), "--json",
            env={"SPARK_REMOTE": connect_url},
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        runs.append(json.loads(done.stdout)["tasks"]["bronze"])
    assert runs[0]["rows_written"] > 0 and runs[1]["rows_written"] == 0
