"""Each press next to the one before it in its section: the ordering every timing metric needs.

SPEC §3.5 orders a section's presses by press time, ties by keystroke id. On Spark that is an
ordered window over the section, the engine's own plan. On polars an ordered window per section
costs several times the read, while keystrokes are nearly always stored section by section in
press order (the recorder, the importer and silver write them so). So on polars the rows are
checked for that order in one vectorised pass, sorted only when it does not hold, and the previous
press is then simply the previous row; sections are numbered by their run of rows, which polars
groups far faster than two string keys, and each run's first row is flagged, so a section's ids
and texts are read off that row instead of being gathered by a group-by. Both paths hand back the
same columns, so each metric is still defined once, in narwhals.
"""

from __future__ import annotations

import itertools
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
FIRST_ROW = "_section_first_row"
FLAG_SLICE_ROWS = 1 << 17


def previous_name(column: str) -> str:
    """The column holding `column`'s value at the previous press of the same section."""
    return f"_prev_{column}"


@dataclass(frozen=True)
class PressOrdered:
    """Keystrokes with `previous_name(c)` columns added, and how to reach each section.

    `section_keys` may be a row-run number rather than SECTION_ID (a run is exactly one section).
    `first_row`, when the engine has it for free, names a flag column marking each section's
    first row, so per-section constants are read off one row instead of gathered by a group-by.
    """

    frame: nw.LazyFrame[Any]
    section_keys: tuple[str, ...]
    first_row: str | None = None

    @property
    def helper_columns(self) -> tuple[str, ...]:
        """Added columns that are not keystroke columns: dropped before rows are handed back."""
        keys = tuple(k for k in self.section_keys if k not in SECTION_ID)
        return keys if self.first_row is None else (*keys, self.first_row)

    def per_section(
        self,
        *aggregations: nw.Expr,
        constants: Sequence[str],
        by: Sequence[str] = (),
        rows: nw.LazyFrame[Any] | None = None,
    ) -> nw.LazyFrame[Any]:
        """One row per section (and value of `by`): its section keys, `constants`, `aggregations`.

        `rows` (default: every row) is a filter or extension of `frame`, keeping its columns.
        `constants` are columns equal on all of a section's rows (its ids, sentence, input).
        Taking them from the first rows spares polars a group-by gathering long strings.
        """
        keys = self.section_keys
        rows = self.frame if rows is None else rows
        wanted = [c for c in constants if c not in keys]
        if self.first_row is None:
            return rows.group_by(*keys, *by).agg(*(nw.col(c).any_value() for c in wanted), *aggregations)
        firsts = self.frame.filter(nw.col(self.first_row)).select(*keys, *wanted)
        return rows.group_by(*keys, *by).agg(*aggregations).join(firsts, on=list(keys))


def _run_starts(frame: pl.DataFrame) -> tuple[pl.Series, bool]:
    """Where each row begins a new section, and whether some press precedes its predecessor row.

    Null ids compare equal, like a group key. Computed slice by slice: comparing a column with its
    shifted self copies it whole, and on 10M rows those copies are fresh pages (page faults) that
    cost more than the comparisons; slices' copies stay small and are reused.
    """
    press, key = (pl.col(c) for c in PRESS_ORDER)
    after_previous = (press.shift(1) < press) | ((press.shift(1) == press) & (key.shift(1) <= key))
    flags = [
        pl.any_horizontal(*(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in SECTION_ID)).alias("start"),
        after_previous.fill_null(value=False).alias("after_previous"),
    ]
    parts = []
    for at in range(0, frame.height, FLAG_SLICE_ROWS):
        overlap = 1 if at else 0  # the previous slice's last row, to compare the first one with
        parts.append(frame.lazy().slice(at - overlap, FLAG_SLICE_ROWS + overlap).select(flags).slice(overlap))
    both = (
        pl.concat(pl.collect_all(parts, engine="in-memory"))  # the slices run side by side
        if parts
        else pl.DataFrame(schema=dict.fromkeys(("start", "after_previous"), pl.Boolean))
    )
    starts = both.get_column("start")
    if len(starts):
        starts[0] = True  # a first row with null ids equals its missing predecessor
    return starts, (~starts & ~both.get_column("after_previous")).any()


def _split(frame: pl.DataFrame, starts: pl.Series) -> bool:
    """Whether some section is spread over several runs of rows."""
    return frame.select(SECTION_ID).filter(starts).is_duplicated().any()


def _polars_rows(frame: pl.DataFrame, previous: Sequence[str]) -> pl.DataFrame:
    starts, disordered = _run_starts(frame)
    if _split(frame, starts):
        frame = frame.sort(*SECTION_ID, *PRESS_ORDER, nulls_last=False)
        starts, disordered = _run_starts(frame)[0], False
    run = starts.cum_sum().set_sorted().alias(RUN)
    if disordered:
        # Each section is one run (stored in keystroke-id order, say): presses are put in
        # order within their runs by integer keys; the runs, and `starts`, stay in place.
        frame = frame.sort(pl.lit(run), *PRESS_ORDER, nulls_last=False, maintain_order=True)
    within = ~pl.lit(starts)
    added = frame.select(
        run,
        pl.lit(starts).alias(FIRST_ROW),
        *(pl.when(within).then(pl.col(c).shift(1)).alias(previous_name(c)) for c in previous),
    )
    return frame.hstack(_chunked_like(added, frame.get_column(PRESS_ORDER[0]).chunk_lengths()))


def _chunked_like(added: pl.DataFrame, lengths: list[int]) -> list[pl.Series]:
    """The added columns cut (zero-copy) into the frame's chunk lengths.

    A scan hands over many chunks; a frame whose columns are chunked differently is re-aligned by
    polars' next operation, which copies every column, strings included: on 10M keystrokes that
    copy cost more than the whole order check.
    """
    offsets = list(itertools.accumulate(lengths, initial=0))
    return [
        pl.concat([whole.slice(at, n) for at, n in zip(offsets, lengths, strict=False)], rechunk=False)
        for whole in added.rechunk().iter_columns()
    ]


def _polars(native: pl.LazyFrame, previous: Sequence[str]) -> PressOrdered:
    schema = native.collect_schema()
    added = {RUN: pl.UInt32, FIRST_ROW: pl.Boolean, **{previous_name(c): schema[c] for c in previous}}
    rows = native.map_batches(partial(_polars_rows, previous=tuple(previous)), schema={**schema, **added})
    # Callers branch from these rows (per key, per digraph, first rows); polars does not share an
    # opaque function's result between branches by itself, and would order the presses each time.
    return PressOrdered(nw.from_native(rows.cache()), (RUN,), FIRST_ROW)


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
