"""`spark_session()` gives a notebook a Spark Connect session configured like the rest of FlowType."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flowtype_core import spark_session
from flowtype_core.config import load_settings
from flowtype_core.pipeline import local_context
from flowtype_core.pipeline.spark_catalog import SparkComputeCatalog

pytestmark = pytest.mark.connect


def test_spark_session_comes_from_databricks_connect(
    connect_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARK_REMOTE", connect_url)
    spark = spark_session()  # the plain call a notebook makes

    assert type(spark).__module__ == "pyspark.sql.connect.session"  # Spark Connect, not a local JVM
    assert spark.range(5).selectExpr("sum(id) AS s").collect()[0]["s"] == 10


def test_strict_mode_names_what_the_engine_misses_without_a_remote() -> None:
    with pytest.raises(Exception, match="DATABRICKS_HOST"):
        load_settings({"FLOWTYPE_ENGINE": "spark-connect"}, environ={}, secrets_file="/nonexistent")


def test_a_notebook_context_on_the_session_round_trips_frames(connect_url: str, tmp_path: Path) -> None:
    spark = spark_session(
        load_settings(
            environ={"SPARK_REMOTE": connect_url, "FLOWTYPE_ENGINE": "spark-connect"},
            secrets_file="/nonexistent",
        )
    )
    context = local_context(tmp_path, spark=spark)
    catalog = context.catalog
    assert isinstance(catalog, SparkComputeCatalog)

    data = pl.DataFrame({"participant_id": ["a", "b"], "n": [1, 2]})
    written = catalog.write("t", catalog.frame(data).filter("n > 1"))
    assert written == 1
    assert catalog.to_polars(catalog.scan("t")).rows() == [("b", 2)]
    assert pl.read_delta(str(tmp_path / "lakehouse" / "t")).rows() == [("b", 2)]  # stored by delta-rs
