"""Silver's data-quality rules, declared once: a name, what it protects, and a narwhals check.

Checks read the bronze text (so a value that cannot even be parsed is caught, not cast to null
silently) and are evaluated in declaration order; a failing row goes to the quarantine table
with the name of the first rule it broke. Integer columns are parsed once (`parsed_integers`):
their rules test the parsed value, and silver keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import narwhals as nw

from flowtype_core import ids
from flowtype_core.pipeline.tables import KEYSTROKE_KEY, RULE

ID_PATTERN = f"^{ids.ID_PATTERN.pattern}$"
COUNT_PATTERN = r"^[0-9]{1,18}$"  # non-negative, fits BIGINT
INT32_PATTERN = r"^-?[0-9]{1,9}$"
TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$"


# The integer columns of a keystrokes file and the text each must match.
INTEGERS = {
    "keystroke_id": COUNT_PATTERN,
    "press_time": COUNT_PATTERN,
    "release_time": COUNT_PATTERN,
    "keycode": INT32_PATTERN,
}
PARSED_PREFIX = "_parsed_"
PARSED_COLUMNS = tuple(PARSED_PREFIX + column for column in INTEGERS)  # what `parsed_integers` adds


def parsed_int(column: str, pattern: str = COUNT_PATTERN) -> nw.Expr:
    """The column's text as an integer, null where it is not one (never a cast error on any engine)."""
    text = nw.col(column)
    return nw.when(text.str.contains(pattern)).then(text).cast(nw.Int64)


def parsed_integers() -> list[nw.Expr]:
    """Each integer column parsed once, beside its text (as `parsed(column)`), for rules and silver."""
    return [parsed_int(column, pattern).alias(PARSED_PREFIX + column) for column, pattern in INTEGERS.items()]


def parsed(column: str) -> nw.Expr:
    """An integer column as `parsed_integers` parsed it: null where its text is not such an integer."""
    return nw.col(PARSED_PREFIX + column)


def _is_integer(column: str) -> nw.Expr:
    return ~parsed(column).is_null()  # the text matched the column's pattern


def _is_id(column: str) -> nw.Expr:
    text = nw.col(column)
    return text.str.contains(ID_PATTERN) & ~text.str.contains("..", literal=True)


def _absent_or_integer(column: str) -> nw.Expr:
    return nw.col(column).is_null() | _is_integer(column)


@dataclass(frozen=True)
class Expectation:
    """A rule every silver row satisfies; `check` is true where a row passes (on bronze rows with
    `parsed_integers`)."""

    name: str
    description: str
    check: Callable[[], nw.Expr]


EXPECTATIONS: tuple[Expectation, ...] = (
    Expectation(
        "participant_id_valid", "a safe id (letters, digits, _ . -)", lambda: _is_id("participant_id")
    ),
    Expectation("session_id_valid", "a safe id", lambda: _is_id("session_id")),
    Expectation("test_section_id_valid", "a safe id", lambda: _is_id("test_section_id")),
    Expectation(
        "keystroke_id_integer",
        "a non-negative integer",
        lambda: _is_integer("keystroke_id"),
    ),
    Expectation(
        "press_time_integer",
        "epoch milliseconds as a non-negative integer",
        lambda: _is_integer("press_time"),
    ),
    Expectation(
        "release_time_integer",
        "absent (never released) or epoch milliseconds",
        lambda: _absent_or_integer("release_time"),
    ),
    Expectation(
        "release_not_before_press",
        "a key is released after it is pressed",
        lambda: parsed("release_time").is_null() | (parsed("release_time") >= parsed("press_time")),
    ),
    Expectation("keycode_integer", "absent or a 32-bit integer", lambda: _absent_or_integer("keycode")),
    Expectation(
        "created_at_timestamp",
        "an ISO-8601 UTC time as the store writes it",
        lambda: nw.col("created_at").str.contains(TIMESTAMP_PATTERN),
    ),
    Expectation(
        "keystroke_key_unique",
        "one row per (participant_id, test_section_id, keystroke_id) in an ingestion",
        lambda: nw.len().over(*KEYSTROKE_KEY) == 1,
    ),
)


def first_failed_rule() -> nw.Expr:
    """The name of the first expectation a row breaks, null when it passes them all.

    A flat `coalesce` rather than nested when/otherwise: polars evaluates the checks side by side.
    """
    broken = (nw.when(~e.check().fill_null(value=False)).then(nw.lit(e.name)) for e in EXPECTATIONS)
    return nw.coalesce(*broken).alias(RULE)


def has_valid_section_key() -> nw.Expr:
    """Rows whose section key can name rows to replace downstream (both ids are safe)."""
    return (_is_id("participant_id") & _is_id("test_section_id")).fill_null(value=False)
