"""The pipeline's transforms on PySpark equal polars: same bronze input, same silver and gold out.

Spark here has no Delta jars (no Maven access), so the frames are built from the same input in
memory and the outputs collected back; the storage side is covered by tests/pipeline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import narwhals as nw
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.datasets.aalto import read_aalto
from flowtype_core.pipeline import transforms
from flowtype_core.pipeline.tables import KEYSTROKE_KEY, SECTION_KEY, SOURCES
from flowtype_core.schema import KEYSTROKES, SECTIONS, TableSpec
from tests.conftest import AALTO_DIR

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark

PARTICIPANTS = 12
INGESTED_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PROCESSED_AT = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)
KEYS = {
    "silver": list(KEYSTROKE_KEY),
    "quarantine": [*KEYSTROKE_KEY, "press_time", "rule"],
    "gold_sections": list(SECTION_KEY),
    "gold_sessions": ["participant_id", "session_id"],
    "gold_participants": ["participant_id"],
    "gold_digraphs": ["participant_id", "digraph"],
    "gold_ranker_examples": list(SECTION_KEY),
    "gold_ranker_units": [*SECTION_KEY, "kind", "unit"],
}


def as_csv_text(frame: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    """What bronze holds: every column as the CSV store writes it, plus lineage."""
    text = [
        pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ") if dtype.is_temporal() else pl.col(c).cast(pl.String)
        for c, dtype in spec.columns.items()
    ]
    return frame.select(text).with_columns(
        pl.format("sessions/{}/{}/{}.csv", "participant_id", "session_id", pl.lit(spec.name)).alias(
            "_source_file"
        ),
        pl.lit("sha256-of-the-file").alias("_source_hash"),
    )


@pytest.fixture(scope="module")
def bronze_input() -> tuple[pl.DataFrame, pl.DataFrame]:
    sample = read_aalto(AALTO_DIR)
    people = sorted(sample.sections["participant_id"].unique().to_list())[:PARTICIPANTS]
    keystrokes = as_csv_text(sample.keystrokes.filter(pl.col("participant_id").is_in(people)), KEYSTROKES)
    first = keystrokes.row(0, named=True)
    bad = pl.DataFrame(
        [
            {**first, "keystroke_id": "9001", "press_time": "12x"},  # press_time_integer
            {**first, "keystroke_id": "9002", "release_time": "1"},  # release_not_before_press
            {**first, "keystroke_id": "9003", "participant_id": "../x"},  # participant_id_valid
            {**first, "keystroke_id": "9004", "created_at": "today"},  # created_at_timestamp
        ]
    )
    sections = as_csv_text(sample.sections.filter(pl.col("participant_id").is_in(people)), SECTIONS)
    # A provenance flag the recorder stored (the capture saw the tab hidden): gold carries it.
    hidden = pl.col("test_section_id") == first["test_section_id"]
    sections = sections.with_columns(
        pl.when(hidden).then(pl.lit("tab_hidden")).otherwise("quality_flags").alias("quality_flags")
    )
    return pl.concat([keystrokes, bad]), sections


def pipeline(keystrokes: Any, sections: Any, persist: Any) -> dict[str, Any]:
    """Bronze rows -> silver and quarantine -> every gold table, on whichever engine the frames are."""
    bronze_k = transforms.bronze_rows(keystrokes, SOURCES[0].columns, ingested_at=INGESTED_AT)
    bronze_s = transforms.bronze_rows(sections, SOURCES[1].columns, ingested_at=INGESTED_AT)
    silver, quarantine = transforms.silver_tables(bronze_k, bronze_s, processed_at=PROCESSED_AT)
    silver = persist(silver)
    return {"silver": silver, "quarantine": quarantine, **transforms.gold_tables(silver)}


def collected(frame: Any) -> pl.DataFrame:
    return nw.from_native(frame).lazy().collect(backend="polars").to_native()


def test_silver_and_gold_on_spark_equal_polars(
    spark: SparkSession, bronze_input: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    keystrokes, sections = bronze_input
    on_polars = pipeline(keystrokes.lazy(), sections.lazy(), lambda f: f.collect().lazy())
    on_spark = pipeline(
        spark.createDataFrame(keystrokes.to_arrow()),
        spark.createDataFrame(sections.to_arrow()),
        lambda f: f.cache(),
    )

    assert set(on_spark) == set(KEYS)
    for table, keys in KEYS.items():
        expected = collected(on_polars[table]).sort(keys)
        actual = collected(on_spark[table]).select(expected.columns).sort(keys)
        assert expected.height > 0, table
        assert_frame_equal(actual, expected, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-9)
    gold = collected(on_spark["gold_sections"])
    hidden = gold.filter(pl.col("quality_flags") == "tab_hidden")
    assert hidden.height == 1 and hidden["valid"].all()  # a provenance flag alone never invalidates
    rules = collected(on_spark["quarantine"])["rule"].sort().to_list()
    assert rules == [
        "created_at_timestamp",
        "participant_id_valid",
        "press_time_integer",
        "release_not_before_press",
    ]
