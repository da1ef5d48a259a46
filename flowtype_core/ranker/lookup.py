"""Integer codes and sorted-key lookups: joins as numpy passes, for features computed many times.

`FeatureBuilder` codes participants, units and sentences once (`vocabulary`, `coded`) and then
looks sums up by integer key (`Index`) for every cross-validation fold, with no hash join.
"""

from __future__ import annotations

import numpy as np
import polars as pl


def vocabulary(*values: pl.Series) -> pl.Series:
    """The sorted distinct values: a value's position is its integer code."""
    return pl.concat([v.cast(pl.String) for v in values]).drop_nulls().unique().sort()


def code(column: str, vocabulary: pl.Series, alias: str) -> pl.Expr:
    """Integer codes by casting to an Enum of `vocabulary` (a hash lookup, no join)."""
    return pl.col(column).cast(pl.Enum(vocabulary), strict=False).to_physical().cast(pl.Int64).alias(alias)


def floats(frame: pl.DataFrame, *columns: str) -> dict[str, np.ndarray]:
    filled = frame.select(pl.col(c).cast(pl.Float64).fill_null(0.0) for c in columns)
    return {c: filled.get_column(c).to_numpy() for c in columns}


def coded(
    frame: pl.DataFrame, codes: dict[str, tuple[str, pl.Series]], values: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Integer codes (-1 for null or unknown) and float values of `frame` as numpy arrays."""
    selected = frame.select(
        *(code(column, vocabulary, name).fill_null(-1) for name, (column, vocabulary) in codes.items()),
        *(pl.col(c).cast(pl.Float64).fill_null(0.0) for c in values),
    )
    return {c: selected.get_column(c).to_numpy() for c in selected.columns}


class Index:
    """Rows by a unique int64 key, for vectorised lookups (a join by binary search, no hashing)."""

    def __init__(self, keys: np.ndarray, values: dict[str, np.ndarray]) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.values = {name: column[order] for name, column in values.items()}

    def find(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each query key's position and whether it is present."""
        if not len(self.keys):
            return np.zeros(len(query), dtype=np.int64), np.zeros(len(query), dtype=bool)
        position = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        return position, self.keys[position] == query

    def take(self, query: np.ndarray, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The columns at each query key, zero where the key is absent."""
        if not len(self.keys):
            return {c: np.zeros(len(query)) for c in columns}
        position, found = self.find(query)
        return {c: np.where(found, self.values[c][position], 0.0) for c in columns}


def aligned(vocabulary: pl.Series, table: pl.DataFrame, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """`table`'s columns as arrays indexed by the code of its first column (zero where absent)."""
    key = table.columns[0]
    frame = pl.DataFrame({key: vocabulary}).join(table, on=key, how="left", maintain_order="left")
    return floats(frame, *columns)
