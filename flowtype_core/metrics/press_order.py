"""Each press next to the one before it in its section: the ordering every timing metric needs.

SPEC §3.5 orders a section's presses by press time, ties by keystroke id. On Spark that is an
ordered window over the section, the engine's own plan. On polars an ordered window per section
costs several times the read, while keystrokes are nearly always stored section by section in
press order (the recorder, the importer and silver write them so). So on polars the rows are
checked for that order in one vectorised pass, sorted only when it does not hold, and the previous
press is then simply the previous row; sections are numbered by their run of rows, which polars
groups far faster than two string keys. Both paths hand back the same columns, so each metric
is still defined once, in narwhals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import narwhals as nw
import polars as pl
from narwhals import Implementation

SECTION_ID = ("participant_id", "test_section_id")
PRESS_ORDER = ("press_time", "keystroke_id")
RUN = "_section_run"


def previous_name(column: str) -> str:
    """The column holding `column`'s value at the previous press of the same section."""
    return f"_prev_{column}"


@dataclass(frozen=True)
class PressOrdered:
    """Keystrokes with `previous_name(c)` columns added, and the columns to group sections by.

    `section_keys` may be a row-run number rather than SECTION_ID; callers group by it and take
    the id columns with `any_value`, which is exact because a run is exactly one section.
    """

    frame: nw.LazyFrame[Any]
    section_keys: tuple[str, ...]

    @property
    def helper_columns(self) -> tuple[str, ...]:
        """Section keys that are not keystroke columns: dropped before rows are handed back."""
        return tuple(k for k in self.section_keys if k not in SECTION_ID)


def _run_starts(frame: pl.DataFrame) -> pl.Series:
    """True where a row begins a new section (null ids compare equal, like a group key)."""
    changed = [pl.col(c).ne_missing(pl.col(c).shift(1)) for c in SECTION_ID]
    return frame.select(pl.any_horizontal(pl.int_range(pl.len()) == 0, *changed)).to_series()


def _order_faults(frame: pl.DataFrame, starts: pl.Series) -> tuple[bool, bool]:
    """(some press comes before its predecessor row, some section is split over several runs)."""
    press, key = (pl.col(c) for c in PRESS_ORDER)
    after_previous = (press.shift(1) < press) | ((press.shift(1) == press) & (key.shift(1) <= key))
    checks = frame.select(
        (~pl.lit(starts) & ~after_previous.fill_null(value=False)).any().alias("disordered"),
        pl.struct(*SECTION_ID).filter(pl.lit(starts)).is_duplicated().any().alias("split"),
    )
    return bool(checks.item(0, "disordered")), bool(checks.item(0, "split"))


def _polars_rows(frame: pl.DataFrame, previous: Sequence[str]) -> pl.DataFrame:
    starts = _run_starts(frame)
    disordered, split = _order_faults(frame, starts)
    if split:
        frame = frame.sort(*SECTION_ID, *PRESS_ORDER, nulls_last=False)
        starts, disordered = _run_starts(frame), False
    run = starts.cum_sum().set_sorted().alias(RUN)
    if disordered:
        # Each section is one run (stored in keystroke-id order, say): presses are put in
        # order within their runs by integer keys; the runs, and `starts`, stay in place.
        frame = frame.with_columns(run).sort(RUN, *PRESS_ORDER, nulls_last=False, maintain_order=True)
    within = ~pl.lit(starts)
    return frame.with_columns(
        run,
        *(pl.when(within).then(pl.col(c).shift(1)).alias(previous_name(c)) for c in previous),
    )


def _polars(native: pl.LazyFrame, previous: Sequence[str]) -> PressOrdered:
    schema = native.collect_schema()
    added = {RUN: pl.UInt32, **{previous_name(c): schema[c] for c in previous}}
    rows = native.map_batches(partial(_polars_rows, previous=tuple(previous)), schema={**schema, **added})
    return PressOrdered(nw.from_native(rows), (RUN,))


def _window(frame: nw.LazyFrame[Any], previous: Sequence[str]) -> PressOrdered:
    prev = [
        nw.col(c).shift(1).over(*SECTION_ID, order_by=list(PRESS_ORDER)).alias(previous_name(c))
        for c in previous
    ]
    return PressOrdered(frame.with_columns(*prev) if prev else frame, SECTION_ID)


def in_press_order(frame: nw.LazyFrame[Any], previous: Sequence[str] = ()) -> PressOrdered:
    """`frame` with each column in `previous` also taken from the previous press of its section."""
    if frame.implementation is Implementation.POLARS:
        return _polars(frame.to_native(), previous)
    return _window(frame, previous)
