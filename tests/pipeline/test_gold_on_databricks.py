"""With the Databricks runner configured, gold readers read the job's Unity Catalog tables.

The job's notebooks write gold on Databricks; here those tables are put into the stand-in SQL
warehouse (`tests/support/databricks_sql_server.py`) as the job would leave them: Delta tables
`main.flowtype.gold_*`, created from Parquet in a volume (`CREATE TABLE ... AS SELECT * FROM
read_files(...)`, https://docs.databricks.com/aws/en/sql/language-manual/functions/read_files).
The laptop's data directory holds no gold and no keystrokes at all, so every figure the CLI
prints must have come through the real SQL connector.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flowtype_core import open_workbench
from flowtype_core.cli import main
from flowtype_core.pipeline import local_context, run_targets
from flowtype_core.pipeline.catalog import LocalDeltaCatalog
from flowtype_core.pipeline.ranker_task import read_gold
from flowtype_core.pipeline.tables import (
    GOLD_PARTICIPANTS,
    GOLD_RANKER_EXAMPLES,
    GOLD_RANKER_UNITS,
    GOLD_SECTIONS,
)
from flowtype_core.pipeline.warehouse_catalog import WarehouseCatalog
from flowtype_core.ranker.model import ModelRegistry
from flowtype_core.workspace.sql import Warehouse
from tests.lakehouse.conftest import databricks_settings
from tests.support.databricks_sql_server import DatabricksSqlServer

GOLD = (GOLD_SECTIONS, GOLD_PARTICIPANTS, GOLD_RANKER_EXAMPLES, GOLD_RANKER_UNITS)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DatabricksSqlServer]:
    with DatabricksSqlServer(tmp_path / "warehouse") as server:
        yield server


@pytest.fixture
def job_gold(store_copy: Callable[..., Path]) -> LocalDeltaCatalog:
    """Gold of four Aalto typists, computed where the job computes it (not on the laptop)."""
    context = local_context(store_copy(4))
    run_targets(["bronze", "silver", "gold"], context)
    assert isinstance(context.catalog, LocalDeltaCatalog)
    return context.catalog


def publish(server: DatabricksSqlServer, gold: LocalDeltaCatalog, staging: Path) -> None:
    """Leave `gold`'s tables in the warehouse as the Databricks job writes them."""
    staging.mkdir()
    warehouse = Warehouse(databricks_settings(server, staging).databricks, staging_dir=staging)
    try:
        warehouse.execute("CREATE SCHEMA IF NOT EXISTS `main`.`flowtype`")
        warehouse.execute("CREATE VOLUME IF NOT EXISTS `main`.`flowtype`.`staging`")
        for table in GOLD:
            local = staging / f"{table}.parquet"
            gold.to_polars(gold.scan(table)).write_parquet(local)
            remote = f"/Volumes/main/flowtype/staging/{table}.parquet"
            warehouse.execute(f"PUT '{local}' INTO '{remote}' OVERWRITE")
            warehouse.execute(
                f"CREATE TABLE `main`.`flowtype`.`{table}` AS "
                f"SELECT * FROM read_files('{remote}', format => 'parquet')"
            )
    finally:
        warehouse.close()


@pytest.fixture
def laptop(
    tmp_path: Path, warehouse: DatabricksSqlServer, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], Path]:
    """An empty data directory; `configure(runner)` sets the environment a user would."""
    data_dir = tmp_path / "laptop"

    def configure(runner: str) -> Path:
        for name, value in {
            "FLOWTYPE_RUNNER": runner,
            "FLOWTYPE_DATABRICKS_SERVER_URL": warehouse.url,
            "DATABRICKS_TOKEN": warehouse.token,
            "DATABRICKS_HTTP_PATH": warehouse.http_path,
            "DATABRICKS_CATALOG": "main",
            "DATABRICKS_SCHEMA": "flowtype",
            "DATABRICKS_JOB_ID": "1",
        }.items():
            monkeypatch.setenv(name, value)
        return data_dir

    return configure


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    capsys.readouterr()
    assert main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_the_workbench_catalog_follows_the_runner(
    laptop: Callable[[str], Path], warehouse: DatabricksSqlServer, job_gold: LocalDeltaCatalog, tmp_path: Path
) -> None:
    publish(warehouse, job_gold, tmp_path / "staging")
    wb = open_workbench(data_dir=laptop("databricks"))
    try:
        assert isinstance(wb.catalog, WarehouseCatalog)
        remote = wb.catalog.to_polars(wb.catalog.scan(GOLD_SECTIONS))
        expected = job_gold.to_polars(job_gold.scan(GOLD_SECTIONS))
        key = ["participant_id", "test_section_id"]
        assert remote.sort(key).equals(expected.sort(key))
        assert wb.catalog.scan("gold_digraphs") is None  # not written by the job (yet)
        with pytest.raises(Exception, match="written by its own jobs"):
            wb.pipeline_context()
    finally:
        wb.close()
    local = open_workbench(data_dir=laptop("local"))
    assert isinstance(local.catalog, LocalDeltaCatalog) and local.catalog.root == local.data_dir / "lakehouse"


def test_metrics_from_gold_read_the_databricks_tables_when_the_runner_is_databricks(
    laptop: Callable[[str], Path],
    warehouse: DatabricksSqlServer,
    job_gold: LocalDeltaCatalog,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    publish(warehouse, job_gold, tmp_path / "staging")
    # What the job's own data directory reports from its local gold: the reference.
    expected = run_json(
        capsys, "metrics", "--source", "gold", "--data-dir", str(job_gold.root.parent), "--json"
    )
    data_dir = laptop("local")
    assert main(["metrics", "--source", "gold", "--data-dir", str(data_dir)]) == 2  # no local gold
    assert "pipeline run all" in capsys.readouterr().err

    laptop("databricks")
    before = len(warehouse.statement_log)
    remote = run_json(capsys, "metrics", "--source", "gold", "--data-dir", str(data_dir), "--json")

    assert remote == pytest.approx(expected, rel=1e-12)
    assert remote["participants"] == 4 and remote["sections"] > 0
    read = [sql for sql, _ in warehouse.statement_log[before:]]
    assert any("`main`.`flowtype`.`gold_sections`" in sql for sql in read), read


def test_ranker_train_learns_from_the_databricks_gold_tables(
    laptop: Callable[[str], Path],
    warehouse: DatabricksSqlServer,
    job_gold: LocalDeltaCatalog,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    publish(warehouse, job_gold, tmp_path / "staging")
    data_dir = laptop("databricks")

    trained = run_json(capsys, "ranker", "train", "--data-dir", str(data_dir), "--json")

    record = ModelRegistry(data_dir / "models").versions()[-1]
    assert trained["version"] == record.version
    remote_gold = read_gold(job_gold)
    assert remote_gold is not None
    assert record.training_data["source"] == "gold"  # not the (empty) keystrokes fallback
    assert record.training_data["fingerprint"] == remote_gold.fingerprint()
    assert record.training_data["participants"] == 4
    assert record.training_data["unit_rows"] == remote_gold.units.height
