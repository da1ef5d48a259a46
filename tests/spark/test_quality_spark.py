"""The validity rules give the same flags on PySpark as on polars (one definition, two engines)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import narwhals as nw
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.datasets import read_aalto
from flowtype_core.metrics import SECTION_IDS, section_metrics
from flowtype_core.quality import flag_sections
from tests.conftest import AALTO_DIR
from tests.quality.test_rules import human_ikis, typed

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark

PARTICIPANTS = 12


def hand_made() -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    """One section per rule (and a clean one), with provenance columns on their rows."""
    idle, rng = human_ikis(61, 3), random.Random(4)
    idle[10] = 7_000
    cases = {
        "clean": ({}, ""),
        "short": ({"text": "The quick"}, "incomplete_input"),
        "idle": ({"ikis": idle}, "long_idle"),
        "metronome": ({"ikis": [150 + rng.uniform(-4, 4) for _ in range(61)]}, "too_regular"),
        "fast": ({"ikis": [v / 8 for v in human_ikis(61, 3)]}, "impossible_speed,interval_out_of_bounds"),
        "broken": (
            {"holds": {4: -3, 9: None}, "shift": None},
            "bad_hold,uppercase_without_shift,key_never_released",
        ),
        "hidden": ({}, "tab_hidden,focus_lost"),
    }
    keystrokes = pl.concat([typed(section=("p", "s", name), **kw) for name, (kw, _) in cases.items()])
    hidden = pl.col("test_section_id") == "hidden"
    sections = section_metrics(keystrokes).with_columns(
        pl.when(hidden).then(1_200).otherwise(0).alias("hidden_ms"),
        pl.when(hidden).then(2).otherwise(0).alias("blur_count"),
    )
    return keystrokes, sections, {name: flags for name, (_, flags) in cases.items()}


def on_both(
    spark: SparkSession, sections: pl.DataFrame, keystrokes: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    on_polars = flag_sections(sections, keystrokes)
    native = flag_sections(
        spark.createDataFrame(sections.to_arrow()), spark.createDataFrame(keystrokes.to_arrow())
    )
    on_spark = nw.from_native(native).lazy().collect(backend="polars").to_native()
    return on_polars.sort(SECTION_IDS), on_spark.select(on_polars.columns).sort(SECTION_IDS)


def test_every_rule_trips_the_same_on_spark(spark: SparkSession) -> None:
    keystrokes, sections, expected = hand_made()
    on_polars, on_spark = on_both(spark, sections, keystrokes)
    assert_frame_equal(on_spark, on_polars, check_dtypes=False, rel_tol=1e-9)
    assert dict(on_spark.select("test_section_id", "quality_flags").iter_rows()) == expected
    invalid = set(on_spark.filter(~pl.col("valid"))["test_section_id"])
    assert invalid == {"short", "metronome", "fast", "broken"}


def test_aalto_sections_flag_the_same_on_spark(spark: SparkSession) -> None:
    sample = read_aalto(AALTO_DIR)
    people = sorted(sample.sections["participant_id"].unique().to_list())[:PARTICIPANTS]
    ks = sample.keystrokes.filter(pl.col("participant_id").is_in(people))
    on_polars, on_spark = on_both(spark, section_metrics(ks), ks)
    assert on_polars.height == PARTICIPANTS * 15
    assert_frame_equal(on_spark, on_polars, check_dtypes=False, rel_tol=1e-9)
