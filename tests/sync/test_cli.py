"""`python -m flowtype_core sync ...` as a researcher or a cron job runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl

from flowtype_core import Workbench
from flowtype_core.sync.report import COUNT_MISMATCH, IN_SYNC, REPORT_SCHEMA, STATUSES
from tests.sync.conftest import cli_env, with_demo

ROOT = Path(__file__).resolve().parents[2]


def run(backend: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtype_core", "sync", *args, "--data-dir", str(backend.data_dir)],
        cwd=ROOT,
        env=cli_env(backend),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_validate_resync_history_from_the_command_line(backend: Any, sync_wb: Workbench) -> None:
    with_demo(sync_wb, participants=2, sessions=1, sentences=2)
    section = sync_wb.store.read_all("sections.csv").row(0, named=True)
    backend.delete_rows(
        "keystrokes",
        f"participant_id = '{section['participant_id']}' AND test_section_id = '{section['test_section_id']}'"
        " AND keystroke_id = 0",
    )

    validate = run(backend, "validate", "--json")
    assert validate.returncode == 0, validate.stderr
    report = json.loads(validate.stdout)
    assert report["counts"] == {**dict.fromkeys(STATUSES, 0), IN_SYNC: 3, COUNT_MISMATCH: 1}
    assert len(report["sections"]) == 4 and set(report["sections"][0]) == set(REPORT_SCHEMA)
    bad = [s for s in report["sections"] if s["status"] != IN_SYNC]
    assert [(s["test_section_id"], s["lakehouse"]) for s in bad] == [
        (section["test_section_id"], backend.kind)
    ]
    assert bad[0]["csv_rows"] == bad[0]["lakehouse_rows"] + 1

    check = run(backend, "validate", "--check", "--full")
    assert (
        check.returncode == 1
        and COUNT_MISMATCH in check.stdout
        and section["test_section_id"] in check.stdout
    )

    resync = run(backend, "resync", "--participant", section["participant_id"])
    assert resync.returncode == 0, resync.stderr
    assert "pushed 2 section(s)" in resync.stdout

    assert run(backend, "validate", "--check").returncode == 0
    history = json.loads(run(backend, "history", "--json").stdout)["runs"]
    runs = [(r["kind"], r["status"]) for r in history if r["kind"] != "publish"]
    assert runs == [
        ("validate", "out_of_sync"),
        ("validate", "out_of_sync"),
        ("resync", "ok"),
        ("validate", "ok"),
    ]
    shown = run(backend, "history")
    text = shown.stdout.splitlines()
    assert shown.returncode == 0, shown.stderr
    assert len(text) == len(history) and "resync" in text[-2] and backend.kind in text[-1]
    assert json.loads(run(backend, "outbox", "--json").stdout) == {"entries": []}


def test_unknown_lakehouse_is_a_clear_error(backend: Any, sync_wb: Workbench) -> None:
    result = run(backend, "resync", "--lakehouse", "nowhere")
    assert result.returncode == 2
    assert "unknown lakehouse" in result.stderr and "nowhere" in result.stderr
    assert pl.DataFrame(json.loads(run(backend, "validate", "--json").stdout)["sections"]).is_empty()
