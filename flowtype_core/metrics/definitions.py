"""Typing metrics of SPEC §3.5 (the Aalto study's definitions), written once for every engine.

The functions take and return native frames (a polars DataFrame or LazyFrame, a PySpark
DataFrame) and express their logic with narwhals, so the app, the notebooks and the medallion
pipeline on Spark all compute the same numbers from the same code. Within a section the presses
are ordered by press time (ties by keystroke id), never by keystroke id alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import narwhals as nw
from narwhals.typing import IntoFrame

from flowtype_core.engine import same_engine
from flowtype_core.metrics.edit_distance import with_edit_distance
from flowtype_core.metrics.press_order import PressOrdered, in_press_order, previous_name

# The ids a section's metrics are grouped by and carry (the table key `SECTIONS.key` plus the session).
SECTION_IDS = ("participant_id", "session_id", "test_section_id")
BACKSPACE = "BKSP"
TIMING_FEATURES = ("hold_ms", "iki_ms", "rollover")
PRESS_FEATURES = (*TIMING_FEATURES, "prev_letter", "digraph")  # what `keystroke_features` adds
# The keystroke columns a section's metrics read (besides the timing features or release time).
SECTION_COLUMNS = (*SECTION_IDS, "sentence", "user_input", "letter", "press_time", "keystroke_id")
# Metrics averaged from sections to sessions and participants, and summarised over participants.
SECTION_MEANS = (
    "wpm",
    "error_rate",
    "kspc",
    "iki_mean_ms",
    "iki_median_ms",
    "hold_mean_ms",
    "rollover",
    "consistency",
)
SUMMARY_METRICS = {
    "wpm": "wpm",
    "error_rate_pct": "error_rate",
    "iki_mean_ms": "iki_mean_ms",
    "hold_mean_ms": "hold_mean_ms",
    "rollover": "rollover",
    "kspc": "kspc",
    "consistency": "consistency",
}


def consistency_score(cv: nw.Expr) -> nw.Expr:
    """Monkeytype's consistency, 100·(1 − tanh(c + c³/3 + c⁵/5)) for a coefficient of variation c.

    Written as 200 / (exp(2x) + 1), the same value as 100·(1 − tanh x), so no engine needs tanh.
    """
    x = cv + cv**3 / 3 + cv**5 / 5
    return 200 / ((2 * x).exp() + 1)


def _with_timing(ks: nw.LazyFrame[Any], *previous: str) -> PressOrdered:
    """Add hold_ms, iki_ms and the rollover flag, plus `_prev_<c>` for each column in `previous`."""
    ordered = in_press_order(ks, ("press_time", "release_time", *previous))
    prev_press, prev_release = nw.col(previous_name("press_time")), nw.col(previous_name("release_time"))
    timed = ordered.frame.with_columns(
        (nw.col("release_time") - nw.col("press_time")).alias("hold_ms"),
        (nw.col("press_time") - prev_press).alias("iki_ms"),
        # Null for a section's first press; an unknown (never released) previous key is no rollover.
        nw.when(~prev_press.is_null())
        .then((nw.col("press_time") < prev_release).fill_null(value=False))
        .alias("rollover"),
    )
    return replace(ordered, frame=timed)


def section_inputs(columns: Sequence[str]) -> tuple[str, ...]:
    """The columns `section_metrics` reads from a frame with `columns`: its timing features when
    it carries them (silver rows), the release time otherwise. Lets a caller that reads in
    batches read no more than that."""
    if set(TIMING_FEATURES) <= set(columns):
        return (*SECTION_COLUMNS, *TIMING_FEATURES)
    return (*SECTION_COLUMNS, "release_time")


def _timing_of(ks: nw.LazyFrame[Any]) -> PressOrdered:
    """Per-press timing features: reused when the frame has them, computed otherwise.

    Silver keystrokes carry them (SPEC §3.7, from `keystroke_features`); ordering presses is most
    of the cost, so gold over silver rows does not pay for it twice.
    """
    columns = section_inputs(ks.collect_schema().names())
    if TIMING_FEATURES[0] in columns:
        return in_press_order(ks.select(*columns))
    return _with_timing(ks.select(*columns))


def _with_features(ks: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    prev_letter = nw.col(previous_name("letter"))
    both_chars = (nw.col("letter").str.len_chars() == 1) & (prev_letter.str.len_chars() == 1)
    ordered = _with_timing(ks, "letter")
    return ordered.frame.with_columns(
        prev_letter.alias("prev_letter"),
        # Only character pairs form a digraph: "SHIFT" then "T" is not the digraph "ST".
        nw.when(both_chars).then(nw.concat_str(prev_letter, nw.col("letter"))).alias("digraph"),
    ).drop(*(previous_name(c) for c in ("press_time", "release_time", "letter")), *ordered.helper_columns)


def _features_of(ks: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Per-press features: the frame itself when it carries them (silver rows), computed otherwise."""
    if set(PRESS_FEATURES) <= set(ks.collect_schema().names()):
        return ks
    return _with_features(ks)


@same_engine
def keystroke_features(ks: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Per press: hold_ms, iki_ms (from the previous press), rollover flag, prev_letter, digraph."""
    return _with_features(ks)


@same_engine
def section_metrics(ks: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """One row per (participant_id, session_id, test_section_id).

    Columns: sentence, user_input, keystroke_count, wpm, error_rate (uncorrected, percent), kspc,
    iki_mean_ms, iki_median_ms, hold_mean_ms, rollover (ratio), consistency (0-100), backspaces, duration_ms, and
    started_at / completed_at (first and last press time, epoch ms). A metric that is undefined for
    a section (wpm with fewer than 2 characters or no duration, ...) is null, so left out of means.
    `ks` may be raw keystrokes or the output of `keystroke_features` (whose timing is then reused).
    """
    n = nw.col("keystroke_count")
    input_chars = nw.col("user_input").str.len_chars()
    duration = nw.col("duration_ms")
    longer = nw.max_horizontal(nw.col("sentence").str.len_chars(), input_chars)
    timed = _timing_of(ks)
    # Per-press terms are computed before grouping, so every aggregation is a plain column one
    # (polars evaluates expressions inside a group-by several times slower).
    per_press = timed.frame.with_columns(
        nw.col("rollover").cast(nw.Int8),
        (nw.col("letter") == BACKSPACE).cast(nw.Int8).alias("_backspace"),
    )
    per_section = (
        replace(timed, frame=per_press)
        .per_section(
            nw.len().cast(nw.Int64).alias("keystroke_count"),
            nw.col("press_time").min().alias("started_at"),
            nw.col("press_time").max().alias("completed_at"),
            nw.col("iki_ms").mean().alias("iki_mean_ms"),
            nw.col("iki_ms").std(ddof=0).alias("_iki_sd"),
            nw.col("iki_ms").median().cast(nw.Float64).alias("iki_median_ms"),
            nw.col("hold_ms").mean().alias("hold_mean_ms"),
            nw.col("rollover").mean(),
            nw.col("_backspace").sum().cast(nw.Int64).alias("backspaces"),
            constants=(*SECTION_IDS, "sentence", "user_input"),
        )
        .with_columns((nw.col("completed_at") - nw.col("started_at")).alias("duration_ms"))
    )
    return with_edit_distance(per_section, "sentence", "user_input", "_edits").select(
        *SECTION_IDS,
        "sentence",
        "user_input",
        "keystroke_count",
        nw.when((input_chars >= 2) & (duration > 0))
        .then((input_chars - 1) / (duration / 1000) * 60 / 5)
        .alias("wpm"),
        nw.when(longer > 0).then(nw.col("_edits") / longer * 100).alias("error_rate"),
        nw.when(input_chars > 0).then(n / input_chars).alias("kspc"),
        "iki_mean_ms",
        "iki_median_ms",
        "hold_mean_ms",
        "rollover",
        # The IKIs' coefficient of variation (population SD, as Monkeytype computes it).
        nw.when(nw.col("iki_mean_ms") > 0)
        .then(consistency_score(nw.col("_iki_sd") / nw.col("iki_mean_ms")))
        .alias("consistency"),
        "backspaces",
        "duration_ms",
        "started_at",
        "completed_at",
    )


def _mean_over(sections: nw.LazyFrame[Any], by: tuple[str, ...]) -> nw.LazyFrame[Any]:
    return sections.group_by(*by).agg(
        nw.len().cast(nw.Int64).alias("n_sections"),
        nw.col("keystroke_count").sum().alias("keystrokes"),
        nw.col("backspaces").sum(),
        nw.col("started_at").min(),
        nw.col("completed_at").max(),
        *(nw.col(m).mean() for m in SECTION_MEANS),
    )


@same_engine
def session_metrics(sections: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """One row per (participant_id, session_id): means over its sections, counts, first/last press."""
    return _mean_over(sections, ("participant_id", "session_id"))


@same_engine
def participant_metrics(sections: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """One row per participant: the mean over their sections (SPEC §3.5), counts, first/last press."""
    return _mean_over(sections, ("participant_id",))


def population_summary(participants: IntoFrame) -> dict[str, float | int | None]:
    """Population figures from a `participant_metrics` frame: mean and sample SD (ddof=1) of each metric.

    Returns plain numbers (None where undefined) so it prints as JSON and compares with
    `PUBLISHED_CHI2018`.
    """
    frame = nw.from_native(participants).lazy()
    stats = [nw.len().cast(nw.Int64).alias("participants")]
    stats += [nw.col("n_sections").sum().alias("sections"), nw.col("keystrokes").sum()]
    present = set(frame.collect_schema().names())  # a table written before a metric existed lacks it
    for key, column in SUMMARY_METRICS.items():
        if column in present:
            stats += [
                nw.col(column).mean().alias(f"{key}_mean"),
                nw.col(column).std(ddof=1).alias(f"{key}_sd"),
            ]
    row = frame.select(*stats).collect().rows(named=True)[0]
    every = {f"{key}_{stat}": None for key in SUMMARY_METRICS for stat in ("mean", "sd")}
    return {k: _plain(v) for k, v in row.items()} | {k: None for k in every if k not in row}


def _plain(value: Any) -> float | int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, int) else float(value)


@same_engine
def digraph_latencies(ks: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Per (participant_id, digraph): mean and median latency (the IKI into the second key), count.

    `ks` may be raw keystrokes or silver rows, whose per-press features are then reused.
    """
    return (
        _features_of(ks)
        .filter(~nw.col("digraph").is_null() & ~nw.col("iki_ms").is_null())
        .group_by("participant_id", "digraph")
        .agg(
            nw.col("prev_letter").any_value().alias("first"),
            nw.col("letter").any_value().alias("second"),
            nw.col("iki_ms").mean().alias("latency_mean_ms"),
            nw.col("iki_ms").median().cast(nw.Float64).alias("latency_median_ms"),
            nw.len().cast(nw.Int64).alias("count"),
        )
    )


@same_engine
def key_stats(ks: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Per key: presses, mean hold, mean IKI into it, and how often the next press is a backspace.

    `backspace_rate` is the error-proneness of a key: the share of its presses that were
    immediately corrected. Silver rows' per-press features are reused.
    """
    features = _features_of(ks)
    per_key = (
        features.filter(~nw.col("letter").is_null())
        .group_by("letter")
        .agg(
            nw.len().cast(nw.Int64).alias("presses"),
            nw.col("hold_ms").mean().alias("hold_mean_ms"),
            nw.col("iki_ms").mean().alias("iki_mean_ms"),
        )
    )
    corrected = (
        features.filter((nw.col("letter") == BACKSPACE) & ~nw.col("prev_letter").is_null())
        .group_by("prev_letter")
        .agg(nw.len().cast(nw.Int64).alias("followed_by_backspace"))
        .rename({"prev_letter": "letter"})
    )
    return (
        per_key.join(corrected, on="letter", how="left")
        .with_columns(nw.col("followed_by_backspace").fill_null(0))
        .with_columns((nw.col("followed_by_backspace") / nw.col("presses")).alias("backspace_rate"))
    )
