"""The ranker's gold tables: training examples and per-section key/digraph history.

Contract with the medallion pipeline (`flowtype_core.pipeline`, gold layer)
--------------------------------------------------------------------------
Inputs are frames the pipeline already has, of any engine narwhals supports (a polars
DataFrame/LazyFrame locally, a PySpark DataFrame on Databricks); outputs are the same engine:

- ``sections``: gold sections, i.e. `metrics.section_metrics` output (participant_id, session_id,
  test_section_id, sentence, wpm, ...; a ``sentence_id`` column is carried when present).
- ``features``: silver keystrokes, i.e. `metrics.keystroke_features` output (per press: letter,
  prev_letter, digraph, iki_ms, ...).

``build_examples(sections, features)`` -> table ``gold_ranker_examples``, key
(participant_id, test_section_id), one row per section, columns `EXAMPLE_COLUMNS`:
``relative_slowness`` = participant's mean WPM / section WPM and ``label`` = that section's grade
0-4 within its participant (4 = hardest; null when the section's WPM is undefined), the capped
IKI sum/count of the section (a typist's speed, for leave-one-section-out), and text counts of the
sentence (`sentence_features`).

``build_units(features)`` -> table ``gold_ranker_units``, key (participant_id, test_section_id,
kind, unit), columns `UNIT_COLUMNS`: per section, for each key (``kind="key"``, the letter as
typed, e.g. ``T``, ``SHIFT``) and each digraph (``kind="digraph"``, lower-cased) the presses with
an IKI, their capped IKI sum, and how many were corrected at once (next press Backspace).

Both tables depend on nothing but the participant's own sections, but ``label`` depends on ALL of
them: when any section of a participant changes, replace that participant's rows of both tables
(as gold does for sessions and participants). Nothing here depends on a train/held-out split:
population statistics and leave-one-section-out typist features are computed at training time
(`flowtype_core.ranker.features`), never stored in gold.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from flowtype_core.engine import same_engine
from flowtype_core.metrics import keystroke_features, section_metrics
from flowtype_core.metrics.definitions import BACKSPACE, SECTION_IDS
from flowtype_core.metrics.press_order import in_press_order, previous_name

EXAMPLES_TABLE = "gold_ranker_examples"
UNITS_TABLE = "gold_ranker_units"
GRADES = 5
# Longer gaps are distraction, not typing: capping keeps one pause from swamping a key's latency.
IKI_CAP_MS = 2000
# Characters typed with Shift on a US layout; each costs a Shift press before the key.
SHIFTED_CHARS = 'A-Z!@#$%^&*()_+{}|:"<>?~'
# Escape only what is special inside a class for both Rust (polars) and Java (Spark) regexes.
SHIFTED_CLASS = "[" + "".join("\\" + c if c in "^&~" else c for c in SHIFTED_CHARS) + "]"
_TEXT_PATTERNS = {
    "capitals": "[A-Z]",
    "digits": "[0-9]",
    "punctuation": "[^A-Za-z0-9 ]",
    "spaces": "[ ]",
    "shifted": SHIFTED_CLASS,
}
TEXT_COLUMNS = ("chars", *_TEXT_PATTERNS)
_FLOATS = ("wpm", "relative_slowness", "iki_sum_ms")
_INTS = ("label", "iki_count", "presses", "corrected", *TEXT_COLUMNS)
# Column names and types of both tables, whatever engine wrote them (readers conform to these).
EXAMPLE_COLUMNS = (
    *SECTION_IDS,
    "sentence_id",
    "sentence",
    "wpm",
    "relative_slowness",
    "label",
    "iki_sum_ms",
    "iki_count",
    *TEXT_COLUMNS,
)
UNIT_COLUMNS = (*SECTION_IDS, "kind", "unit", "presses", "iki_sum_ms", "corrected")


def _schema(columns: tuple[str, ...]) -> dict[str, pl.DataType]:
    return {c: pl.Float64() if c in _FLOATS else pl.Int64() if c in _INTS else pl.String() for c in columns}


EXAMPLE_SCHEMA = _schema(EXAMPLE_COLUMNS)
UNIT_SCHEMA = _schema(UNIT_COLUMNS)
UNIT_KINDS = ("key", "digraph")


def _lazy(frame: Any) -> nw.LazyFrame[Any]:
    wrapped = nw.from_native(frame)
    return wrapped.lazy() if isinstance(wrapped, nw.DataFrame) else wrapped


def _count(pattern: str) -> nw.Expr:
    """Characters of the sentence matching a one-character regex class (Rust and Java alike)."""
    text = nw.col("sentence")
    return (text.str.len_chars() - text.str.replace_all(pattern, "").str.len_chars()).cast(nw.Int64)


def text_feature_exprs() -> list[nw.Expr]:
    """Counts over the sentence text: length, capitals, digits, punctuation, spaces, Shift chars."""
    return [
        nw.col("sentence").str.len_chars().cast(nw.Int64).alias("chars"),
        *(_count(pattern).alias(name) for name, pattern in _TEXT_PATTERNS.items()),
    ]


@same_engine
def sentence_features(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """`frame` (any engine, with a `sentence` column) plus the `TEXT_COLUMNS` counts."""
    return frame.with_columns(*text_feature_exprs())


def _capped_iki() -> nw.Expr:
    return nw.col("iki_ms").clip(upper_bound=IKI_CAP_MS)


@same_engine
def build_examples(sections: nw.LazyFrame[Any], features: Any) -> nw.LazyFrame[Any]:
    """`gold_ranker_examples`: one row per section with its grade label and sentence counts.

    The grade orders a participant's sections by relative slowness and cuts them into `GRADES`
    equal bands; ties share the lower band, so the label never depends on row order or engine.
    """
    has_id = "sentence_id" in sections.collect_schema().names()
    speed = (
        _lazy(features)
        .filter(~nw.col("iki_ms").is_null())
        .group_by(*SECTION_IDS)
        .agg(
            _capped_iki().sum().cast(nw.Float64).alias("iki_sum_ms"),
            nw.len().cast(nw.Int64).alias("iki_count"),
        )
    )
    usable_wpm = nw.when(nw.col("wpm") > 0).then(nw.col("wpm"))
    rel = nw.col("relative_slowness")
    graded = rel.count().over("participant_id")
    return (
        sections.select(
            *SECTION_IDS,
            (nw.col("sentence_id") if has_id else nw.lit(None, dtype=nw.String)).alias("sentence_id"),
            "sentence",
            usable_wpm.cast(nw.Float64).alias("wpm"),
        )
        .with_columns(
            (nw.col("wpm").mean().over("participant_id") / nw.col("wpm")).alias("relative_slowness")
        )
        .with_columns(
            ((rel.rank("min").over("participant_id") - 1) * GRADES // graded).cast(nw.Int64).alias("label")
        )
        .join(speed, on=list(SECTION_IDS), how="left")
        .with_columns(
            nw.col("iki_sum_ms").fill_null(0.0),
            nw.col("iki_count").fill_null(0),
            *text_feature_exprs(),
        )
        .select(*EXAMPLE_COLUMNS)
    )


@same_engine
def build_units(features: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """`gold_ranker_units`: per section, presses, capped IKI sum and corrections per key and digraph.

    A press counts as corrected when the next press is Backspace; the Backspace row names it
    through `prev_letter` (and the digraph it ended through the previous row's digraph).
    """
    presses = features.with_columns(
        _capped_iki().alias("_iki"),
        nw.col("digraph").str.to_lowercase().alias("_digraph"),
    )
    ordered = in_press_order(presses, ("_digraph",))
    keys = list(ordered.section_keys)
    presses = ordered.frame.rename({previous_name("_digraph"): "_prev_digraph"})
    backspaces = presses.filter(nw.col("letter") == BACKSPACE)
    parts = []
    for kind, unit, corrected_unit in (
        ("key", "letter", "prev_letter"),
        ("digraph", "_digraph", "_prev_digraph"),
    ):
        timed = ordered.per_section(
            nw.len().cast(nw.Int64).alias("presses"),
            nw.col("_iki").sum().cast(nw.Float64).alias("iki_sum_ms"),
            constants=SECTION_IDS,
            by=(unit,),
            rows=presses.filter(~nw.col(unit).is_null() & ~nw.col("_iki").is_null()),
        ).rename({unit: "unit"})
        corrected = (
            backspaces.filter(~nw.col(corrected_unit).is_null())
            .group_by(*keys, corrected_unit)
            .agg(nw.len().cast(nw.Int64).alias("corrected"))
            .rename({corrected_unit: "unit"})
        )
        parts.append(
            timed.join(corrected, on=[*keys, "unit"], how="left").select(
                *SECTION_IDS,
                nw.lit(kind).alias("kind"),
                "unit",
                "presses",
                "iki_sum_ms",
                nw.col("corrected").fill_null(0),
            )
        )
    return nw.concat(parts)


def examples_from_keystrokes(keystrokes: pl.DataFrame | pl.LazyFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both gold tables straight from a keystrokes table (what gold holds, without the pipeline)."""
    features = keystroke_features(keystrokes.lazy())
    return build_examples(section_metrics(keystrokes.lazy()), features).collect(), build_units(
        features
    ).collect()
