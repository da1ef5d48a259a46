"""Both lakehouse backends behind one fixture, and builders for contract-shaped rows.

`local` is the delta-rs backend on a temporary directory; `databricks` is the real
`databricks-sql-connector` talking over a socket to the stand-in warehouse
(`tests/support/databricks_sql_server.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flowtype_core.config import DatabricksSettings, Settings
from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.lakehouse.databricks import DatabricksLakehouse
from flowtype_core.lakehouse.registry import open_lakehouse
from tests.support.databricks_sql_server import DatabricksSqlServer

BACKENDS = ("local", "databricks")


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DatabricksSqlServer]:
    with DatabricksSqlServer(tmp_path / "warehouse") as server:
        yield server


def databricks_settings(server: DatabricksSqlServer, data_dir: Path, **changes: str) -> Settings:
    """Settings that point the Databricks backend at the stand-in, as a user would configure it."""
    fields = {
        "http_path": server.http_path,
        "token": server.token,
        "catalog": "main",
        "schema": "flowtype",
        "volume": "staging",
        "server_url": server.url,
        **changes,
    }
    return Settings(data_dir=data_dir, lakehouses=("databricks",), databricks=DatabricksSettings(**fields))


@pytest.fixture
def open_backend(
    tmp_path: Path, warehouse: DatabricksSqlServer, request: pytest.FixtureRequest
) -> Callable[[str], Lakehouse]:
    """Build a backend by registry name; each is closed after the test, before the warehouse stops."""
    built = 0

    def build(name: str) -> Lakehouse:
        nonlocal built
        built += 1
        data_dir = tmp_path / f"data-{name}-{built}"
        if name == "local":
            backend = open_lakehouse("local", Settings(data_dir=data_dir))
        else:
            backend = open_lakehouse("databricks", databricks_settings(warehouse, data_dir))
        request.addfinalizer(backend.close)
        return backend

    return build


@pytest.fixture(params=BACKENDS)
def lakehouse(request: pytest.FixtureRequest, open_backend: Callable[[str], Lakehouse]) -> Lakehouse:
    return open_backend(request.param)


@pytest.fixture
def databricks(warehouse: DatabricksSqlServer, tmp_path: Path) -> Iterator[DatabricksLakehouse]:
    backend = DatabricksLakehouse(databricks_settings(warehouse, tmp_path / "data"))
    backend.ensure_tables()
    yield backend
    backend.close()
