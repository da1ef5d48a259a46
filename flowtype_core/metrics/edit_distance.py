"""Levenshtein distance between two string columns: the one primitive narwhals does not offer.

Every metric is written once with narwhals; this module is the only place that knows which engine
runs it, and it adds nothing of ours: it hands the two columns to the engine's own library
(rapidfuzz for polars, the built-in `levenshtein` for Spark). Supporting another engine means one
more entry in `_ADAPTERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl
from narwhals import Implementation
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein


def _distinct_pair_distances(pairs: pl.Series) -> pl.Series:
    """Distances for a struct column of (a, b), computed once per distinct pair (sentences repeat)."""
    frame = pairs.struct.unnest()
    a, b = frame.columns
    distinct = frame.unique()
    left = distinct[a].fill_null("").to_list()
    right = distinct[b].fill_null("").to_list()
    distances = process.cpdist(left, right, scorer=Levenshtein.distance, dtype=np.int64, workers=1)
    distinct = distinct.with_columns(pl.Series("_d", distances, dtype=pl.Int64))
    return frame.join(distinct, on=[a, b], how="left", nulls_equal=True, maintain_order="left")["_d"]


def _polars(native: pl.LazyFrame, a: str, b: str, name: str) -> pl.LazyFrame:
    expr = pl.struct(a, b).map_batches(_distinct_pair_distances, return_dtype=pl.Int64)
    return native.with_columns(expr.alias(name))


def _spark(native: Any, a: str, b: str, name: str) -> Any:
    from pyspark.sql import functions as F

    return native.withColumn(name, F.levenshtein(F.coalesce(a, F.lit("")), F.coalesce(b, F.lit(""))))


_ADAPTERS: dict[Implementation, Callable[[Any, str, str, str], Any]] = {
    Implementation.POLARS: _polars,
    Implementation.PYSPARK: _spark,
    Implementation.PYSPARK_CONNECT: _spark,
}


def with_edit_distance(frame: nw.LazyFrame[Any], a: str, b: str, name: str) -> nw.LazyFrame[Any]:
    """Add column `name` = Levenshtein(a, b) in characters; a null string counts as empty."""
    adapter = _ADAPTERS.get(frame.implementation)
    if adapter is None:
        raise NotImplementedError(
            f"edit distance has no adapter for {frame.implementation}; supported: "
            + ", ".join(str(i) for i in _ADAPTERS)
        )
    added: nw.LazyFrame[Any] = nw.from_native(adapter(frame.to_native(), a, b, name))
    return added
