"""Bounded work per layer: the files and participants of one run split into groups of about N rows.

A layer run holds one group in memory at a time instead of everything new: bronze reads the new
CSV files a group at a time (by bytes), silver and gold take whole participants (every row of a
section, and every section of a participant, is in the same group, so each transform sees all it
needs). Groups are consecutive in participant order, so a group's filter is a narrow key range
that the tables' file statistics prune. A catalog without a batch size (Spark, which spills by
itself) gets one group.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

PARTICIPANT = "participant_id"
COUNT = "rows"
CSV_ROW_BYTES = 100  # a keystrokes.csv row of the store is ~90-110 bytes


def participant_groups(counts: pl.DataFrame, rows: int | None) -> list[list[str | None]]:
    """Participant ids (`counts`: participant_id, rows) in consecutive groups of about `rows` rows.

    A participant with more rows than `rows` is a group of their own; a null id (rows that will be
    quarantined) is grouped like any other. `rows=None` puts everyone in one group.
    """
    if counts.is_empty():
        return []
    ordered = counts.sort(PARTICIPANT, nulls_last=False)
    if rows is None:
        return [ordered.get_column(PARTICIPANT).to_list()]
    numbers = _group_numbers(ordered.get_column(COUNT).to_list(), rows)
    grouped = ordered.with_columns(pl.Series("_group", numbers))
    return [
        part.get_column(PARTICIPANT).to_list() for _, part in grouped.group_by("_group", maintain_order=True)
    ]


def _group_numbers(sizes: list[int], limit: int) -> list[int]:
    """A group number per item, in order: a new group starts where the next item would overflow."""
    numbers, group, held = [], 0, 0
    for size in sizes:
        if held and held + size > limit:
            group, held = group + 1, 0
        numbers.append(group)
        held += size
    return numbers


def of_participants(ids: list[str | None]) -> nw.Expr:
    """Rows of these participants: an id list plus its key range, which file statistics prune."""
    present = sorted(i for i in ids if i is not None)
    column = nw.col(PARTICIPANT)
    match = (
        column.is_in(present) & (column >= nw.lit(present[0])) & (column <= nw.lit(present[-1]))
        if present
        else nw.lit(value=False)
    )
    return match | column.is_null() if None in ids else match


def by_participants(
    frame: nw.LazyFrame[Any], counts: pl.DataFrame, rows: int | None
) -> list[tuple[list[str | None], nw.LazyFrame[Any]]]:
    """`frame`'s rows per group of participants (ids, rows); one group is `frame` unfiltered."""
    groups = participant_groups(counts, rows)
    if len(groups) == 1:
        return [(groups[0], frame)]
    return [(ids, frame.filter(of_participants(ids))) for ids in groups]


def file_groups(files: pl.DataFrame, rows: int | None) -> list[pl.DataFrame]:
    """Source files (with `path` and `size`) in path order, in groups of about `rows` CSV rows."""
    if files.is_empty():
        return []
    ordered = files.sort("path")
    if rows is None:
        return [ordered]
    numbers = _group_numbers(ordered.get_column("size").to_list(), rows * CSV_ROW_BYTES)
    grouped = ordered.with_columns(pl.Series("_group", numbers))
    return [part.drop("_group") for _, part in grouped.group_by("_group", maintain_order=True)]
