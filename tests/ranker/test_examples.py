"""The gold tables: labels are per-typist grades of relative slowness; units count what was typed."""

from __future__ import annotations

import polars as pl

from flowtype_core.metrics import keystroke_features, section_metrics
from flowtype_core.ranker import TrainingData, build_examples, build_units
from flowtype_core.ranker.examples import EXAMPLE_COLUMNS, UNIT_COLUMNS, sentence_features
from flowtype_core.ranker.units import text_units


def _presses(letters: list[str], times: list[int], section: str = "s1") -> pl.DataFrame:
    n = len(letters)
    return pl.DataFrame(
        {
            "participant_id": ["p1"] * n,
            "session_id": ["x"] * n,
            "test_section_id": [section] * n,
            "sentence": ["the"] * n,
            "user_input": ["the"] * n,
            "keystroke_id": list(range(n)),
            "press_time": times,
            "release_time": [t + 80 for t in times],
            "letter": letters,
            "keycode": [0] * n,
        }
    )


def test_every_section_has_a_row_and_grades_split_each_typist_evenly(gold: TrainingData, aalto) -> None:
    examples = gold.examples
    assert examples.columns == list(EXAMPLE_COLUMNS)
    assert examples.height == aalto.sections.height == 2340
    per_grade = examples.group_by("participant_id", "label").len()
    assert per_grade.get_column("len").unique().to_list() == [3]  # 15 sections -> 5 grades of 3
    bounds = examples.group_by("participant_id", "label").agg(
        pl.col("relative_slowness").min().alias("lo"), pl.col("relative_slowness").max().alias("hi")
    )
    ordered = bounds.sort("participant_id", "label").with_columns(
        pl.col("hi").shift(1).over("participant_id").alias("below")
    )
    # A harder grade never holds a section faster than any section of an easier grade.
    assert ordered.filter(pl.col("lo") < pl.col("below")).height == 0
    slowest = examples.sort("relative_slowness", descending=True).group_by("participant_id").first()
    assert slowest.get_column("label").unique().to_list() == [4]


def test_text_counts_and_shift_units() -> None:
    counted = sentence_features(pl.DataFrame({"sentence": ["Can you call me at home?", "it is 4 pm"]}))
    first = counted.row(0, named=True)
    assert (first["chars"], first["capitals"], first["punctuation"], first["shifted"], first["spaces"]) == (
        24,
        1,
        1,
        2,
        5,
    )
    assert counted.row(1, named=True)["digits"] == 1
    units = dict(text_units(["Hi?"]).select("uid", "t").iter_rows())
    # "H" is the first character (no IKI counts for it); "i" follows "H"; "?" needs Shift.
    assert units == {"digraph:hi": 1.0, "key:?": 1.0, "key:SHIFT": 1.0}


def test_units_count_presses_latency_and_corrections() -> None:
    # t h r BKSP e: "r" was corrected, and so was the digraph "hr" it ended.
    features = keystroke_features(_presses(["t", "h", "r", "BKSP", "e"], [0, 100, 250, 400, 3900]))
    units = build_units(features)
    assert units.columns == list(UNIT_COLUMNS)
    rows = {(r["kind"], r["unit"]): r for r in units.iter_rows(named=True)}
    assert rows[("key", "r")]["corrected"] == 1
    assert rows[("digraph", "hr")]["corrected"] == 1
    assert rows[("key", "h")]["corrected"] == 0
    assert rows[("key", "h")]["iki_sum_ms"] == 100
    assert rows[("key", "e")]["iki_sum_ms"] == 2000  # a 3.5 s pause is capped
    assert ("key", "t") not in rows  # the first press has no IKI


def test_examples_work_on_lazy_frames_and_keep_sentence_ids() -> None:
    keystrokes = pl.concat(
        [_presses(["t", "h", "e"], [0, 100, 300], "s1"), _presses(["t", "h", "e"], [0, 50, 100], "s2")]
    )
    sections = section_metrics(keystrokes).with_columns(pl.lit("c0001").alias("sentence_id"))
    examples = build_examples(sections.lazy(), keystroke_features(keystrokes).lazy()).collect()
    by_id = {r["test_section_id"]: r for r in examples.iter_rows(named=True)}
    assert by_id["s1"]["label"] > by_id["s2"]["label"]  # s1 was slower for p1
    assert by_id["s1"]["sentence_id"] == "c0001"
    assert by_id["s1"]["iki_count"] == 2 and by_id["s1"]["iki_sum_ms"] == 300
