"""Sync tests run against every lakehouse backend through one parametrised `backend` fixture.

A backend here is a real one: local Delta tables in a tmp dir, or the Databricks backend talking
through the real `databricks-sql-connector` to the stand-in warehouse over a socket. Each knows how
to go away and come back (`stop` / `start`) and how to change rows behind the app's back.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from databricks import sql as dbsql
from deltalake import DeltaTable, write_deltalake

from flowtype_core import Workbench, backends, open_workbench
from flowtype_core.demo import generate_demo
from flowtype_core.errors import LakehouseUnavailable
from flowtype_core.lakehouse.local_delta import LocalDeltaLakehouse
from flowtype_core.schema import TABLES
from flowtype_core.sync.report import IN_SYNC
from flowtype_core.sync.service import SyncService
from tests.support.databricks_sql_server import DatabricksSqlServer

TOKEN = "dapi5f3c0ffee5f3c0ffee5f3c0ffee5f3c0f"


class FailingLocalDelta(LocalDeltaLakehouse):
    """Local Delta whose every read and write fails with `message`, as a client that echoes its
    credentials in errors would."""

    message = ""

    def _fail(self, *_: object, **__: object) -> Any:
        raise LakehouseUnavailable(self.message)

    replace_sections = upsert_sessions = delete_sections = read_table = _fail


class LocalBackend:
    """Local Delta tables; an outage is the lakehouse folder becoming unusable."""

    kind = "local"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "lakehouse"
        self.away = data_dir / "lakehouse.unmounted"

    def settings(self) -> dict[str, str]:
        """Setting names and values, usable as `open_workbench` overrides and as environment."""
        return {"FLOWTYPE_DATA_DIR": str(self.data_dir), "FLOWTYPE_LAKEHOUSE": "local"}

    def stop(self) -> None:
        self.root.rename(self.away)
        self.root.write_text("not a directory: the disk holding the lakehouse is gone\n")

    def start(self) -> None:
        self.root.unlink()
        self.away.rename(self.root)

    def _table(self, name: str) -> str:
        return str(self.root / name)

    def delete_rows(self, table: str, where: str) -> None:
        DeltaTable(self._table(table)).delete(where)

    def update_rows(self, table: str, where: str, column: str, sql_value: str) -> None:
        DeltaTable(self._table(table)).update(predicate=where, updates={column: sql_value})

    def append_rows(self, table: str, frame: pl.DataFrame) -> None:
        write_deltalake(self._table(table), frame.to_arrow(), mode="append")

    def writes(self) -> list[str]:
        """The table of every commit so far (Delta versions after the creating one)."""
        return [t for t in TABLES for _ in range(DeltaTable(self._table(t)).version())]

    def force_errors(self, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """Lakehouses opened from now on fail every read and write with `message`."""
        monkeypatch.setattr(FailingLocalDelta, "message", message)
        monkeypatch.setitem(backends.LAKEHOUSES, "local", f"{__name__}:FailingLocalDelta")

    def close(self) -> None:
        if self.away.exists():
            self.start()


class DatabricksBackend:
    """The Databricks backend through the real connector to the stand-in warehouse on a socket."""

    kind = "databricks"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.server = DatabricksSqlServer(data_dir.parent / "warehouse", token=TOKEN).start()

    def settings(self) -> dict[str, str]:
        return {
            "FLOWTYPE_DATA_DIR": str(self.data_dir),
            "FLOWTYPE_LAKEHOUSE": "databricks",
            "FLOWTYPE_DATABRICKS_SERVER_URL": self.server.url,
            "DATABRICKS_HTTP_PATH": self.server.http_path,
            "DATABRICKS_ACCESS_TOKEN": self.server.token,
            "DATABRICKS_CATALOG": "main",
            "DATABRICKS_SCHEMA": "flowtype",
            "DATABRICKS_VOLUME": "staging",
        }

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def _sql(self, statement: str, rows: list[dict[str, Any]] | None = None) -> None:
        """Run SQL as another client of the warehouse would (a notebook, a colleague)."""
        with dbsql.connect(**self.server.connect_kwargs()) as conn, conn.cursor() as cursor:
            for params in rows or [None]:
                cursor.execute(statement, params)

    def delete_rows(self, table: str, where: str) -> None:
        self._sql(f"DELETE FROM main.flowtype.{table} WHERE {where}")

    def update_rows(self, table: str, where: str, column: str, sql_value: str) -> None:
        self._sql(f"UPDATE main.flowtype.{table} SET {column} = {sql_value} WHERE {where}")

    def append_rows(self, table: str, frame: pl.DataFrame) -> None:
        columns = ", ".join(frame.columns)
        markers = ", ".join(f":{c}" for c in frame.columns)
        self._sql(f"INSERT INTO main.flowtype.{table} ({columns}) VALUES ({markers})", frame.to_dicts())

    def writes(self) -> list[str]:
        """The first word of every statement that is not a read (MERGE, PUT, REMOVE, ...)."""
        words = [sql.lstrip().split(None, 1)[0].upper() for sql, _ in self.server.statement_log]
        return [w for w in words if w not in ("SELECT", "CREATE", "USE")]

    def force_errors(self, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
        """Every statement from now on fails with `message`."""
        self.server.fail_next(r".", "UNAUTHENTICATED", message, times=1_000_000)

    def close(self) -> None:
        self.server.stop()


BACKENDS = {"local": LocalBackend, "databricks": DatabricksBackend}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Any]:
    env = BACKENDS[request.param](data_dir)
    yield env
    env.close()


@pytest.fixture
def sync_wb(backend: Any) -> Iterator[Workbench]:
    wb = open_workbench(**backend.settings())
    yield wb
    wb.close()


def with_demo(
    wb: Workbench, *, participants: int = 2, sessions: int = 2, sentences: int = 3
) -> dict[str, int]:
    """Demo sessions through the live write path, pushed to every lakehouse."""
    totals = generate_demo(
        wb.recorder,
        participants=participants,
        sessions_per_participant=sessions,
        sentences_per_session=sentences,
    )
    assert wb.publisher.drain().ok
    return totals


def assert_exactly_once(wb: Workbench) -> None:
    """Every lakehouse holds each CSV row once: no duplicate keys, same totals, every section in sync."""
    csv_keystrokes = wb.store.read_all("keystrokes.csv")
    csv_sections = wb.store.read_all("sections.csv")
    for name, lakehouse in wb.lakehouses.items():
        for table, frame, key in (
            ("keystrokes", csv_keystrokes, ["participant_id", "test_section_id", "keystroke_id"]),
            ("sections", csv_sections, ["participant_id", "test_section_id"]),
        ):
            held = lakehouse.read_table(table)
            duplicates = held.group_by(key).len().filter(pl.col("len") > 1)
            assert duplicates.is_empty(), f"{name}.{table} holds duplicates: {duplicates.head()}"
            assert held.height == frame.height, f"{name}.{table}: {held.height} rows, CSV {frame.height}"
            assert held.select(key).sort(key).equals(frame.select(key).sort(key))
    report = SyncService.for_workbench(wb).validate(full=True)
    assert report.counts()[IN_SYNC] == report.sections.height > 0, report.out_of_sync()


def cli_env(backend: Any) -> dict[str, str]:
    """The environment for a `python -m flowtype_core` subprocess over this backend."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWTYPE_", "DATABRICKS_"))}
    env.update(
        {k: v for k, v in os.environ.items() if k in ("FLOWTYPE_SECRETS_FILE", "DATABRICKS_CONFIG_FILE")}
    )
    env.update(backend.settings())
    return env


def files_under(root: Path) -> Iterator[tuple[Path, bytes]]:
    """Every regular file under `root` with its bytes (for leak checks)."""
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            yield path, path.read_bytes()
