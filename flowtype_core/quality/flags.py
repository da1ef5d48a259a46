"""Apply the validity rules (`rules.py`) to section rows, once for every engine (narwhals).

The recorder (live sessions and the demo), the Aalto import and the pipeline's gold layer (polars
locally, PySpark on Databricks) all call `flag_sections`, so a section carries the same
`quality_flags` and `valid` wherever it was computed.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw

from flowtype_core.engine import same_engine
from flowtype_core.metrics import SECTION_IDS, keystroke_features
from flowtype_core.quality import rules as r

FEATURES = ("hold_ms", "iki_ms")
RECORDED = "quality_flags"


def _evidence(keystrokes: Any) -> nw.LazyFrame[Any]:
    """Per section, the keystroke counts the rules test (silver rows' features are reused)."""
    ks = nw.from_native(keystrokes).lazy()
    if not set(FEATURES) <= set(ks.collect_schema().names()):
        ks = nw.from_native(keystroke_features(ks.to_native())).lazy()
    iki, letter = nw.col("iki_ms"), nw.col("letter")
    capital = (letter.str.len_chars() == 1) & (letter.str.to_lowercase() != letter)
    per_press = ks.select(
        *SECTION_IDS,
        iki.cast(nw.Float64).alias("_iki"),
        (nw.col("hold_ms") < r.MIN_HOLD_MS).fill_null(value=False).cast(nw.Int64).alias("_bad_hold"),
        nw.col("release_time").is_null().cast(nw.Int64).alias("_unreleased"),
        ((iki < r.MIN_IKI_MS) | (iki > r.MAX_IKI_MS)).cast(nw.Float64).alias("_out_of_bounds"),
        capital.fill_null(value=False).cast(nw.Int64).alias("_capitals"),
        letter.is_in(r.CAPITALISING_KEYS).fill_null(value=False).cast(nw.Int64).alias("_shifts"),
    )
    return per_press.group_by(*SECTION_IDS).agg(
        nw.col("_bad_hold").sum(),
        nw.col("_unreleased").sum(),
        nw.col("_capitals").sum(),
        nw.col("_shifts").sum(),
        nw.col("_out_of_bounds").mean(),
        nw.col("_iki").count().alias("_ikis"),
        nw.col("_iki").max().alias("_longest_iki"),
        (nw.col("_iki").std(ddof=1) / nw.col("_iki").mean()).alias("_iki_cv"),
    )


def _recorded(name: str) -> nw.Expr:
    return nw.col(RECORDED).str.contains(f"(^|,){name}(,|$)")


def _provenance(names: set[str], rule: str) -> nw.Expr:
    """tab_hidden / focus_lost: from the capture's per-section count when the row has it, else
    from the flag an earlier run recorded (the pipeline reads stored section rows); else clean."""
    column = r.PROVENANCE_RULES[rule]
    if column in names:
        return nw.col(column) > 0
    if RECORDED in names:
        return _recorded(rule)
    return nw.lit(value=False)


def _conditions(names: set[str]) -> dict[str, nw.Expr]:
    ikis, typed = nw.col("_ikis"), nw.col("user_input").str.len_chars()
    return {
        "impossible_speed": nw.col("wpm") > r.MAX_WPM,
        "bad_hold": nw.col("_bad_hold") > 0,
        "interval_out_of_bounds": nw.col("_out_of_bounds") > r.MAX_OUT_OF_BOUNDS_SHARE,
        "long_idle": nw.col("_longest_iki") >= r.LONG_IDLE_MS,
        "tab_hidden": _provenance(names, "tab_hidden"),
        "focus_lost": _provenance(names, "focus_lost"),
        "incomplete_input": typed < nw.col("sentence").str.len_chars() * r.MIN_INPUT_SHARE,
        "uppercase_without_shift": (nw.col("_capitals") > 0) & (nw.col("_shifts") == 0),
        "key_never_released": nw.col("_unreleased") > 0,
        "too_regular": (ikis >= r.MIN_IKIS_FOR_RHYTHM) & (nw.col("_iki_cv") < r.MIN_IKI_CV),
    }


@same_engine
def flag_sections(sections: nw.LazyFrame[Any], keystrokes: Any) -> nw.LazyFrame[Any]:
    """`sections` (rows with the section key, sentence, user_input, wpm) plus `quality_flags` and
    `valid`, judged from their `keystrokes` (raw, or silver rows with per-press features).

    Optional columns on `sections`: `hidden_ms` and `blur_count` (the capture's provenance for
    that sentence) or an earlier `quality_flags`, whose provenance flags are kept; either is
    replaced by the new columns. A section without keystrokes is judged on its row alone.
    """
    names = set(sections.collect_schema().names())
    evidence = _evidence(keystrokes)
    tripped = {name: cond.fill_null(value=False) for name, cond in _conditions(names).items()}
    joined = sections.join(evidence, on=list(SECTION_IDS), how="left")
    flags = nw.concat_str(
        *(nw.when(tripped[name]).then(nw.lit(name)) for name in r.RULE_NAMES),
        separator=",",
        ignore_nulls=True,
    )
    invalid = nw.any_horizontal(
        *(tripped[name] for name in r.RULE_NAMES if name in r.INVALIDATING), ignore_nulls=True
    )
    keep = [c for c in sections.collect_schema().names() if c not in (RECORDED, "valid")]
    return joined.select(*keep, flags.fill_null("").alias(RECORDED), (~invalid).alias("valid"))
