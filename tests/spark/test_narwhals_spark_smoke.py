"""One narwhals definition gives equal results on polars and on PySpark (the parity premise of §3.7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import narwhals as nw
import polars as pl
import pytest
from polars.testing import assert_frame_equal

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark

# Two sections; keystroke ids deliberately out of press order (as in the Aalto data) and one key
# never released, so ordering and null handling both show up in the result.
KEYSTROKES = {
    "participant_id": ["p1", "p1", "p1", "p1", "p1", "p2", "p2", "p2"],
    "test_section_id": ["s1", "s1", "s1", "s1", "s2", "s3", "s3", "s3"],
    "keystroke_id": [0, 2, 1, 3, 0, 0, 1, 2],
    "press_time": [1000, 1300, 1120, 1500, 5000, 200, 420, 390],
    "release_time": [1090, 1380, 1310, None, 5070, 300, 500, 450],
}


def section_features(frame: nw.LazyFrame) -> nw.LazyFrame:
    """IKI, hold and rollover per press, then per-section aggregates: the silver/gold shape in miniature."""
    per_press = frame.with_columns(
        iki=nw.col("press_time").diff().over("test_section_id", order_by="press_time"),
        previous_release=nw.col("release_time").shift(1).over("test_section_id", order_by="press_time"),
        hold=nw.col("release_time") - nw.col("press_time"),
    ).with_columns(
        # Spark cannot average booleans: cast before mean (see FIELD_NOTES).
        rollover=(nw.col("press_time") < nw.col("previous_release")).cast(nw.Float64),
    )
    return per_press.group_by("participant_id", "test_section_id").agg(
        presses=nw.len(),
        mean_iki=nw.col("iki").mean(),
        mean_hold=nw.col("hold").mean(),
        rollover_ratio=nw.col("rollover").mean(),
        first_press=nw.col("press_time").min(),
        last_press=nw.col("press_time").max(),
    )


def collect_sorted(frame: nw.LazyFrame) -> pl.DataFrame:
    """Bring any backend's result to polars in a canonical row order for comparison."""
    return frame.collect(backend="polars").to_native().sort("participant_id", "test_section_id")


def test_local_spark_session_is_loopback_and_small(spark: SparkSession) -> None:
    assert spark.sparkContext.master == "local[2]"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"
    assert spark.sparkContext.uiWebUrl is None
    assert spark.range(10).selectExpr("sum(id) AS total").collect()[0]["total"] == 45


def test_narwhals_gives_equal_results_on_polars_and_spark(spark: SparkSession) -> None:
    source = pl.DataFrame(KEYSTROKES, schema_overrides={"release_time": pl.Int64})
    on_polars = collect_sorted(section_features(nw.from_native(source.lazy())))
    on_spark = collect_sorted(section_features(nw.from_native(spark.createDataFrame(source.to_arrow()))))

    assert on_polars["presses"].to_list() == [4, 1, 3]
    # s1 in press order: 1000, 1120, 1300, 1500 -> IKIs 120, 180, 200; s3: 200, 390, 420 -> 190, 30.
    assert on_polars["mean_iki"].to_list() == pytest.approx([500 / 3, None, 110.0], nan_ok=True)
    # Rollover: s1 1300 < 1310 (1 of 3); s3 420 < 450 (1 of 2). Hold skips the unreleased key.
    assert on_polars["rollover_ratio"].to_list() == pytest.approx([1 / 3, None, 0.5], nan_ok=True)
    assert on_polars["mean_hold"].to_list() == pytest.approx([120.0, 70.0, 80.0])
    assert_frame_equal(on_spark, on_polars, check_dtypes=False, check_column_order=False)
    assert on_spark.schema["presses"].is_integer()
