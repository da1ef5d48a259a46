"""A data dir written by the previous main opens, gains the new columns in place, and loses nothing.

The old data is made by the previous main's own code (exported from git at PREVIOUS_MAIN and run
in a subprocess): session CSVs, both lakehouse backends, and (locally) the pipeline's tables.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import DeltaTable

from flowtype_core import open_workbench
from flowtype_core.fingerprint import PARTICIPANT_ROW
from flowtype_core.lakehouse.local_delta import TABLE_PROPERTIES
from flowtype_core.pipeline.tables import BRONZE_SECTIONS, GOLD_SECTIONS
from flowtype_core.schema import PARTICIPANTS, SECTIONS, SESSIONS, TABLES
from flowtype_core.store.csv_store import FILES
from flowtype_core.sync.report import IN_SYNC
from flowtype_core.sync.service import SyncService
from tests.sync.conftest import cli_env, with_demo

PREVIOUS_MAIN = "6d0c2da"  # the main these columns were added on top of
REPO = Path(__file__).resolve().parents[2]


def previous_code(target: Path) -> Path:
    """The previous main's `flowtype_core`, exported from git (nothing is committed as data)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", PREVIOUS_MAIN, "flowtype_core"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def run_previous(code: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flowtype_core", *args],
        env={**env, "PYTHONPATH": str(code)},
        cwd=code,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def csv_text(root: Path) -> dict[str, pl.DataFrame]:
    """Every session file as text, by path relative to the store."""
    return {
        str(path.relative_to(root)): pl.read_csv(path, infer_schema=False)
        for path in sorted(root.rglob("*.csv"))
    }


def test_a_data_dir_of_the_previous_main_migrates_in_place(backend: Any, tmp_path: Path) -> None:
    code = previous_code(tmp_path / "previous")
    env = cli_env(backend)
    run_previous(code, env, "demo", "--participants", "2", "--sessions", "2", "--sentences", "3")
    if backend.kind == "local":
        run_previous(code, env, "pipeline", "run", "all", "--json")
    sessions_root = backend.data_dir / "sessions"
    before = csv_text(sessions_root)
    assert before and all(SECTIONS.added.keys().isdisjoint(frame.columns) for frame in before.values()), (
        "the previous main must predate the new columns"
    )

    wb = open_workbench(**backend.settings())
    try:
        # CSV store: on first use every file is rewritten with the new columns, the old ones kept
        # value for value (compared as text).
        assert wb.store.migrate() == 0, "the first use of the store migrates; a second finds nothing"
        after = csv_text(sessions_root)
        assert after.keys() == before.keys()
        for name, old in before.items():
            spec = FILES[Path(name).name]
            assert after[name].columns == list(spec.columns), name
            assert after[name].select(old.columns).equals(old), name
            assert after[name].select(list(spec.added)).null_count().row(0) == (old.height,) * len(spec.added)

        # Lakehouse: every table has every column, the same rows, the new columns null.
        csv_sections = wb.store.read_all("sections.csv")
        for table, spec in TABLES.items():
            held = wb.lakehouse.read_table(table)
            assert held.columns == list(spec.columns)
            if backend.kind == "local":  # and the table properties that keep commits flat
                configured = DeltaTable(str(wb.lakehouse.path(table))).metadata().configuration
                assert TABLE_PROPERTIES.items() <= configured.items(), table
        sections = wb.lakehouse.read_table("sections")
        assert sections.height == csv_sections.height > 0
        never_assessed = sections.select(list(SECTIONS.added)).null_count().row(0)
        assert never_assessed == (sections.height,) * len(SECTIONS.added)
        assert wb.lakehouse.read_table("sessions").height == wb.store.read_all("session.csv").height
        report = SyncService.for_workbench(wb).validate(full=True)
        assert report.counts()[IN_SYNC] == report.sections.height > 0, report.out_of_sync()

        # New data with the new columns lands beside the old and stays in sync.
        pid = csv_sections.get_column("participant_id")[0]
        wb.store.upsert_participants(
            PARTICIPANTS.conform(
                pl.DataFrame(
                    {
                        "participant_id": [pid],
                        "study_id": ["pilot"],
                        "protocol_version": ["1"],
                        "condition": ["A"],
                        "answers": [json.dumps({"age": 31})],
                        "recruitment": [json.dumps({"PROLIFIC_PID": "5f0a"})],
                        "created_at": [sections.get_column("started_at")[0]],
                        "updated_at": [sections.get_column("started_at")[0]],
                    }
                )
            )
        )
        wb.publisher.enqueue_participants([pid])
        with_demo(wb, participants=1, sessions=1, sentences=2)
        report = SyncService.for_workbench(wb).validate(full=True)
        assert report.counts()[IN_SYNC] == report.sections.height, report.out_of_sync()
        assert report.sections.filter(pl.col("session_id") == PARTICIPANT_ROW).height == 1
        assert wb.lakehouse.read_table("participants").get_column("condition").to_list() == ["A"]
        assert wb.lakehouse.read_table("sessions").columns == list(SESSIONS.columns)
    finally:
        wb.close()

    if backend.kind == "local":
        # The pipeline's tables written by the previous main evolve on the next run.
        done = subprocess.run(
            [sys.executable, "-m", "flowtype_core", "pipeline", "run", "all", "--json"],
            env={**env, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        lake = backend.data_dir / "lakehouse"
        bronze = pl.read_delta(str(lake / BRONZE_SECTIONS))
        assert set(SECTIONS.added) <= set(bronze.columns)
        gold = pl.read_delta(str(lake / GOLD_SECTIONS))
        assert gold.select("participant_id", "test_section_id").unique().height == csv_sections.height + 2
