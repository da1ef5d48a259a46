"""`python -m flowtype_core pipeline ...` and `metrics --source gold` over a real data directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from flowtype_core.cli import main
from flowtype_core.pipeline.tables import SILVER_KEYSTROKES
from flowtype_core.store.csv_store import SessionStore
from tests.support import reference_metrics as reference


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_run_prints_per_layer_figures_and_a_rerun_writes_nothing(
    store_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = store_copy(3)
    keystrokes = SessionStore(data_dir).read_all("keystrokes.csv")

    code, first = run_cli(
        capsys, "pipeline", "run", "all", "--data-dir", str(data_dir), "--runner", "local", "--json"
    )

    assert code == 0 and first["state"] == "succeeded"
    assert list(first["tasks"]) == ["bronze", "silver", "gold", "train_ranker"]
    for layer in first["tasks"].values():
        assert {"rows_in", "rows_written", "quarantined", "seconds"} <= set(layer)
    train = first["tasks"]["train_ranker"]
    assert Path(train["model_path"]).parent == data_dir / "models"
    assert 0 < train["ndcg@5"] <= 1
    assert first["tasks"]["silver"]["tables"][SILVER_KEYSTROKES] == keystrokes.height

    code, second = run_cli(capsys, "pipeline", "run", "all", "--data-dir", str(data_dir), "--json")
    assert code == 0
    assert [t["rows_written"] for t in second["tasks"].values()] == [0, 0, 0, 0]

    code, status = run_cli(capsys, "pipeline", "status", "--data-dir", str(data_dir), "--json")
    assert [r["run_id"] for r in status["runs"]] == [second["run_id"], first["run_id"]]

    code, summary = run_cli(capsys, "metrics", "--source", "gold", "--data-dir", str(data_dir), "--json")
    # SPEC §3.5 computed a second way (DuckDB SQL), sharing no code with what gold runs.
    expected = reference.population(
        reference.means_over(reference.section_metrics(keystrokes), ["participant_id"])
    )
    counts = {key: summary.pop(key) for key in ("flagged_sections", "invalid_sections")}  # tests/quality
    assert summary == pytest.approx(expected, rel=1e-9)
    assert 0 <= counts["invalid_sections"] <= counts["flagged_sections"] < expected["sections"]


def test_metrics_from_gold_before_any_run_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["metrics", "--source", "gold", "--data-dir", str(tmp_path)]) == 2
    assert "pipeline run all" in capsys.readouterr().err


def test_engine_spark_connect_without_databricks_connect_fails_naming_the_extra(
    store_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARK_REMOTE", "sc://127.0.0.1:9")  # never dialled: the package is missing first
    data_dir = store_copy(1)
    code, summary = run_cli(
        capsys,
        "pipeline",
        "run",
        "bronze",
        "--engine",
        "spark-connect",
        "--data-dir",
        str(data_dir),
        "--json",
    )
    assert code == 1 and summary["details"]["engine"] == "spark-connect"
    assert summary["tasks"]["bronze"]["state"] == "failed"
    assert "pip install 'flowtype[connect]'" in summary["tasks"]["bronze"]["error"]


def test_engine_spark_connect_does_not_combine_with_the_databricks_runner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARK_REMOTE", "sc://127.0.0.1:9")
    monkeypatch.setenv("DATABRICKS_HOST", "https://adb-1234567890123456.7.azuredatabricks.net")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test-token-0123456789")
    argv = ["pipeline", "run", "bronze", "--engine", "spark-connect", "--runner", "databricks"]
    assert main([*argv, "--data-dir", str(tmp_path)]) == 2
    assert "drop one of the two" in capsys.readouterr().err
