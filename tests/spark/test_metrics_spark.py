"""The metric definitions give the same numbers on PySpark as on polars (one definition, two engines)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import narwhals as nw
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.datasets import read_aalto
from flowtype_core.metrics import (
    digraph_latencies,
    key_stats,
    keystroke_features,
    participant_metrics,
    population_summary,
    section_metrics,
    session_metrics,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark

SAMPLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "aalto_sample" / "keystrokes"
PARTICIPANTS = 12


def edge_cases(ks: pl.DataFrame) -> pl.DataFrame:
    """Real sections bent into the definitions' edge cases: one character, no time, no release, no input."""
    first = ks.group_by("participant_id").agg(pl.col("test_section_id").min()).sort("participant_id")
    one_char, zero_time, unreleased, empty, *_ = first.get_column("test_section_id").to_list()
    section = pl.col("test_section_id")
    return ks.with_columns(
        pl.when(section == one_char)
        .then(pl.lit("x"))
        .when(section == empty)
        .then(pl.lit(""))
        .otherwise(pl.col("user_input"))
        .alias("user_input"),
        pl.when(section == zero_time)
        .then(pl.lit(1_000, dtype=pl.Int64))
        .otherwise(pl.col("press_time"))
        .alias("press_time"),
        pl.when((section == unreleased) & (pl.col("keystroke_id") % 3 == 0))
        .then(None)
        .otherwise(pl.col("release_time"))
        .alias("release_time"),
    )


@pytest.fixture(scope="module")
def keystrokes() -> pl.DataFrame:
    ks = read_aalto(SAMPLE).keystrokes.drop("created_at")
    keep = ks.get_column("participant_id").unique().sort().head(PARTICIPANTS)
    return edge_cases(ks.filter(pl.col("participant_id").is_in(keep.implode())))


def to_polars(frame: Any) -> pl.DataFrame:
    return nw.from_native(frame).lazy().collect(backend="polars").to_native()


def assert_same(on_polars: pl.DataFrame, on_spark: Any, key: list[str]) -> None:
    assert_frame_equal(
        to_polars(on_spark).sort(key),
        on_polars.sort(key),
        check_column_order=False,
        check_dtypes=False,
        rel_tol=1e-12,
    )


def test_section_session_and_participant_metrics_match(keystrokes: pl.DataFrame, spark: SparkSession) -> None:
    frame = spark.createDataFrame(keystrokes.to_pandas())
    sections = section_metrics(keystrokes)
    spark_sections = section_metrics(frame)
    assert type(spark_sections) is type(frame)  # frames come back in the engine they came in
    assert_same(sections, spark_sections, ["participant_id", "session_id", "test_section_id"])
    # The edge cases reached both engines: undefined WPM and KSPC, an unreleased key's hold left out.
    assert sections.get_column("wpm").null_count() >= 2 and sections.get_column("kspc").null_count() == 1
    assert_same(session_metrics(sections), session_metrics(spark_sections), ["participant_id", "session_id"])
    participants = participant_metrics(sections)
    spark_participants = participant_metrics(spark_sections)
    assert_same(participants, spark_participants, ["participant_id"])
    on_polars, on_spark = population_summary(participants), population_summary(spark_participants)
    assert on_spark.keys() == on_polars.keys()
    for name, value in on_polars.items():
        assert on_spark[name] == pytest.approx(value, rel=1e-12), name


def test_keystroke_digraph_and_key_features_match(keystrokes: pl.DataFrame, spark: SparkSession) -> None:
    frame = spark.createDataFrame(keystrokes.to_pandas())
    assert_same(
        keystroke_features(keystrokes),
        keystroke_features(frame),
        ["participant_id", "test_section_id", "keystroke_id"],
    )
    assert_same(digraph_latencies(keystrokes), digraph_latencies(frame), ["participant_id", "digraph"])
    assert_same(key_stats(keystrokes), key_stats(frame), ["letter"])
