"""`import-aalto` then `metrics --json` on the real sample, through the command line."""

from __future__ import annotations

import json

import polars as pl
import pytest
from deltalake import DeltaTable

from flowtype_core.analytics import csv_bytes
from flowtype_core.cli import main
from tests.conftest import AALTO_DIR

BANDS = {
    "wpm_mean": (45, 58),
    "iki_mean_ms_mean": (220, 270),
    "hold_mean_ms_mean": (105, 130),
    "error_rate_pct_mean": (0.7, 1.6),
    "kspc_mean": (1.12, 1.22),
    "rollover_mean": (0.15, 0.30),
}


def _run(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_import_is_idempotent_and_metrics_match_the_published_table(data_dir, capsys):
    first = _run(capsys, "import-aalto", str(AALTO_DIR), "--data-dir", str(data_dir), "--json")
    assert first["participants"] == 156 and first["keystrokes"] == 112_704
    assert first["written_sessions"] == 156 and first["pending_in_outbox"] == 0
    versions = {t: DeltaTable(str(data_dir / "lakehouse" / t)).version() for t in ("keystrokes", "sections")}

    second = _run(capsys, "import-aalto", str(AALTO_DIR), "--data-dir", str(data_dir), "--json")
    assert second["written_sessions"] == 0 and second["unchanged_sessions"] == 156
    assert versions == {t: DeltaTable(str(data_dir / "lakehouse" / t)).version() for t in versions}

    summary = _run(capsys, "metrics", "--data-dir", str(data_dir), "--json")
    assert summary["participants"] == 156 and summary["sections"] == 2340
    for key, (low, high) in BANDS.items():
        assert low <= summary[key] <= high, (key, summary[key])
    for m in ("wpm", "error_rate_pct", "iki_mean_ms", "hold_mean_ms", "rollover", "kspc"):
        assert summary[f"{m}_sd"] > 0
    # Validity rules (tests/quality/test_aalto_flags.py): 22 sections flagged, 4 invalid (bad_hold).
    assert (summary["flagged_sections"], summary["invalid_sections"]) == (22, 4)
    valid = _run(capsys, "metrics", "--data-dir", str(data_dir), "--json", "--valid-only")
    assert valid["sections"] == 2336 and valid["participants"] == 156
    assert (valid["flagged_sections"], valid["invalid_sections"]) == (22, 4)
    assert valid["keystrokes"] < summary["keystrokes"]


def test_import_of_a_missing_directory_is_a_clear_error(data_dir, capsys):
    assert main(["import-aalto", str(data_dir / "nope"), "--data-dir", str(data_dir)]) == 2
    assert "no *_keystrokes.txt files" in capsys.readouterr().err


@pytest.mark.parametrize("cell", ["=cmd()", "+1", "-2+3", "@SUM(A1)", "\tx"])
def test_csv_export_neutralises_formulas(cell):
    rows = pl.read_csv(csv_bytes(pl.DataFrame({"user_input": [cell, "plain"], "n": [1, 2]})))
    assert rows.get_column("user_input").to_list() == [f"'{cell}", "plain"]
