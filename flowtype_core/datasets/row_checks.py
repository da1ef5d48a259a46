"""Live capture's rules (`flowtype_core.capture`) applied to imported rows, one reason per dropped row.

A browser batch that breaks a rule is refused whole; a dataset row that breaks one is dropped and
counted under the rule's name, so an import reports what it left out and why.
"""

from __future__ import annotations

import polars as pl

from flowtype_core.capture import (
    MAX_EXACT_INT,
    MAX_HOLD_MS,
    MAX_KEY_NAME,
    MAX_KEYCODE,
    MAX_TEXT,
    text_problem,
)

# The rules in the order they are tried; a row is counted under the first it breaks.
TIME_OUT_OF_RANGE = "time_out_of_range"
RELEASE_BEFORE_PRESS = "release_before_press"
HOLD_TOO_LONG = "hold_too_long"
KEYCODE_OUT_OF_RANGE = "keycode_out_of_range"
BAD_LETTER = "bad_letter"
BAD_TEXT = "bad_text"


def _bad_values(frame: pl.DataFrame, column: str, limit: int, *, allow_empty: bool) -> pl.Expr:
    """Rows whose text breaks capture's text rule (checked once per distinct value)."""
    values = frame.get_column(column).drop_nulls().unique().to_list()
    bad = [v for v in values if text_problem(v, limit, allow_empty=allow_empty) is not None]
    return pl.col(column).is_in(pl.Series(bad, dtype=pl.String).implode())


def broken_rule(frame: pl.DataFrame) -> pl.Expr:
    """The first capture rule each row (Aalto columns, typed) breaks, null when it passes all."""
    press, release, code = pl.col("PRESS_TIME"), pl.col("RELEASE_TIME"), pl.col("KEYCODE")

    def out_of_range(time: pl.Expr) -> pl.Expr:
        return (time < 0) | (time > MAX_EXACT_INT)

    rules = [
        (out_of_range(press) | out_of_range(release).fill_null(value=False), TIME_OUT_OF_RANGE),
        ((release < press).fill_null(value=False), RELEASE_BEFORE_PRESS),
        ((release - press > MAX_HOLD_MS).fill_null(value=False), HOLD_TOO_LONG),
        (((code < 0) | (code > MAX_KEYCODE)).fill_null(value=False), KEYCODE_OUT_OF_RANGE),
        (_bad_values(frame, "LETTER", MAX_KEY_NAME, allow_empty=True), BAD_LETTER),
        (
            _bad_values(frame, "SENTENCE", MAX_TEXT, allow_empty=True)
            | _bad_values(frame, "USER_INPUT", MAX_TEXT, allow_empty=True),
            BAD_TEXT,
        ),
    ]
    expr = pl.when(rules[0][0]).then(pl.lit(rules[0][1]))
    for condition, name in rules[1:]:
        expr = expr.when(condition).then(pl.lit(name))
    return expr.otherwise(pl.lit(None, dtype=pl.String))
