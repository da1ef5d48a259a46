"""The units of typing: every key and digraph named in one vocabulary, and what each sentence takes.

A character typed with Shift is the key itself plus a Shift press; any other character is the
digraph from the character before it (its own key is the back-off for a rare digraph).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from flowtype_core.ranker.examples import SHIFTED_CLASS

SHIFT = "SHIFT"


def unit_id(kind: str, unit: str) -> str:
    """One string per key or digraph (`key:T`, `digraph:th`): a single vocabulary for both kinds."""
    return f"{kind}:{unit}"


def uid_expr(kind: pl.Expr, unit: pl.Expr) -> pl.Expr:
    return pl.concat_str(kind, pl.lit(":"), unit)


def text_units(sentences: Iterable[str] | pl.Series) -> pl.DataFrame:
    """What typing each sentence takes: (sentence, uid, prior_uid, t) with t occurrences.

    A character typed with Shift is `key:<char>` plus `key:SHIFT`; any other character is the
    digraph from the character before it (`prior_uid` = its own key, the back-off).
    """
    values = sentences if isinstance(sentences, pl.Series) else list(sentences)
    frame = pl.DataFrame({"sentence": pl.Series(values, dtype=pl.String)}).unique()
    chars = (
        frame.with_columns(pl.col("sentence").str.split("").alias("c"))
        .explode("c")
        .with_columns(
            pl.int_range(pl.len()).over("sentence").alias("i"),
            pl.col("c").shift(1).over("sentence").alias("prev"),
            pl.col("c").str.contains(SHIFTED_CLASS).alias("shifted"),
        )
        .filter(pl.col("i") > 0)
    )
    kind = pl.when(pl.col("shifted")).then(pl.lit("key")).otherwise(pl.lit("digraph"))
    unit = (
        pl.when(pl.col("shifted")).then(pl.col("c")).otherwise(pl.concat_str("prev", "c").str.to_lowercase())
    )
    typed = chars.select(
        "sentence",
        uid_expr(kind, unit).alias("uid"),
        pl.when(~pl.col("shifted")).then(uid_expr(pl.lit("key"), pl.col("c"))).alias("prior_uid"),
    )
    shifts = chars.filter("shifted").select(
        "sentence",
        pl.lit(unit_id("key", SHIFT)).alias("uid"),
        pl.lit(None, dtype=pl.String).alias("prior_uid"),
    )
    return (
        pl.concat([typed, shifts])
        .group_by("sentence", "uid", "prior_uid")
        .agg(pl.len().cast(pl.Float64).alias("t"))
        .sort("sentence", "uid")
    )
