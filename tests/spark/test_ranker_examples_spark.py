"""The ranker's gold tables (flowtype_core.ranker.examples) are equal on PySpark and on polars."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import narwhals as nw
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.datasets import read_aalto
from flowtype_core.metrics import keystroke_features, section_metrics
from flowtype_core.ranker.examples import EXAMPLE_COLUMNS, UNIT_COLUMNS, build_examples, build_units

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark

SAMPLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "aalto_sample" / "keystrokes"
PARTICIPANTS = 6


@pytest.fixture(scope="module")
def keystrokes() -> pl.DataFrame:
    """Real typists, plus a section with one character (WPM undefined: no label) and a WPM tie."""
    ks = read_aalto(SAMPLE).keystrokes.drop("created_at")
    keep = ks.get_column("participant_id").unique().sort().head(PARTICIPANTS)
    ks = ks.filter(pl.col("participant_id").is_in(keep.implode()))
    first, second, third = (
        ks.filter(pl.col("participant_id") == keep[0]).get_column("test_section_id").unique().sort().head(3)
    )
    section = pl.col("test_section_id")
    start = pl.col("press_time").min().over("test_section_id")
    return ks.with_columns(
        pl.when(section == first).then(pl.lit("x")).otherwise(pl.col("user_input")).alias("user_input"),
        # The third section typed exactly like the second: equal WPM, so they share a grade.
        pl.when(section == third)
        .then(pl.col("press_time") - start + ks.filter(section == second).get_column("press_time").min())
        .otherwise(pl.col("press_time"))
        .alias("press_time"),
    )


def _polars(frame: Any) -> pl.DataFrame:
    return nw.from_native(frame).lazy().collect(backend="polars").to_native()


def test_examples_and_units_match_on_spark(keystrokes: pl.DataFrame, spark: SparkSession) -> None:
    frame = spark.createDataFrame(keystrokes.to_pandas())
    features, spark_features = keystroke_features(keystrokes), keystroke_features(frame)
    examples = build_examples(section_metrics(keystrokes), features)
    spark_examples = _polars(build_examples(section_metrics(frame), spark_features))
    assert spark_examples.columns == list(EXAMPLE_COLUMNS)
    assert examples.get_column("label").null_count() == 1
    key = ["participant_id", "test_section_id"]
    assert_frame_equal(spark_examples.sort(key), examples.sort(key), check_dtypes=False, rel_tol=1e-12)

    units = build_units(features)
    spark_units = _polars(build_units(spark_features))
    assert spark_units.columns == list(UNIT_COLUMNS)
    assert units.get_column("corrected").sum() > 0
    key = [*key, "kind", "unit"]
    assert_frame_equal(spark_units.sort(key), units.sort(key), check_dtypes=False, rel_tol=1e-12)
