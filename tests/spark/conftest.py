"""Fixtures of the Spark tier, which runs only in `.venv-spark` (never beside databricks-connect).

Run it with `python3 scripts/spark_env.py -- -m pytest -m spark tests/spark`: the script builds or
refreshes the venv, then runs pytest inside it. pyspark is imported inside the fixture so that this
directory still collects (and is deselected by `-m "not spark"`) in the main `.venv`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def pytest_configure(config: pytest.Config) -> None:
    # pyspark 4.3 warns on every session that pandas 3 is not fully supported; the tier pins pandas 3
    # to match the app, and the features it uses (Arrow conversion) work.
    config.addinivalue_line(
        "filterwarnings", "ignore:PySpark does not yet fully support pandas:FutureWarning"
    )


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    """One local Spark for the whole session: the JVM takes seconds to start, a query milliseconds."""
    # The JVM inherits the environment at launch: bind to loopback, never the host's public address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.fail(
            "pyspark is not installed in this interpreter; the Spark tier runs in .venv-spark: "
            "python3 scripts/spark_env.py -- -m pytest -m spark tests/spark"
        )
    work = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("flowtype-tests")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(work / "warehouse"))
        .config("spark.local.dir", str(work / "local"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
