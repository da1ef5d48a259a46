"""`python -m flowtype_core ranker train|score` over a data directory holding real Aalto typists."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from flowtype_core.cli import main
from tests.conftest import AALTO_DIR

TYPISTS = 30


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    source = tmp_path / "aalto"
    source.mkdir()
    for path in sorted(AALTO_DIR.glob("*_keystrokes.txt"))[:TYPISTS]:
        shutil.copy(path, source)
    data = tmp_path / "data"
    assert main(["import-aalto", str(source), "--data-dir", str(data), "--json"]) == 0
    return data


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_train_prints_model_and_baselines_then_score_writes_every_section(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["ranker", "train", "--data-dir", str(imported), "--json"]) == 0
    first = _json(capsys)
    assert Path(first["model_path"], "model.txt").is_file()
    assert {"model", "random", "capitals_punctuation", "sentence_difficulty", "population_key_cost"} <= set(
        first["ndcg"]
    )
    for scores in first["ndcg"].values():
        assert set(scores) == {"ndcg@5", "ndcg@10"} and all(0 < v <= 1 for v in scores.values())
    assert first["evaluation"]["participants"] == TYPISTS

    assert main(["ranker", "train", "--data-dir", str(imported), "--json"]) == 0
    second = _json(capsys)
    assert second["ndcg"] == first["ndcg"] and second["model_path"] != first["model_path"]

    out = tmp_path / "scores.csv"
    assert (
        main(
            [
                "ranker",
                "score",
                "--model",
                first["model_path"],
                "--data-dir",
                str(imported),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    scores = pl.read_csv(out, schema_overrides={"participant_id": pl.String, "test_section_id": pl.String})
    assert scores.columns == ["participant_id", "test_section_id", "score"]
    assert scores.height == TYPISTS * 15 and scores.get_column("score").null_count() == 0
    assert scores.select("participant_id", "test_section_id").is_unique().all()


def test_score_with_a_missing_model_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["ranker", "score", "--model", str(tmp_path / "nope"), "--data-dir", str(tmp_path), "--out", "x.csv"]
    )
    assert code == 2
    assert "no ranker model" in capsys.readouterr().err
