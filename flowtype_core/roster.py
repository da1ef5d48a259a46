"""Who is in the data: accounts, and dataset typists (ids that own sessions but have no account,
such as imported Aalto typists or accounts deleted with their data kept), each with their counts."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from flowtype_core.accounts import AccountStore, id_sort_key
from flowtype_core.schema import ColumnType
from flowtype_core.store.csv_store import SessionStore

COUNTS: dict[str, ColumnType] = {
    "sessions": pl.UInt32,
    "sentences": pl.Int64,
    "last_session": pl.Datetime("us", "UTC"),
}
ACCOUNT_SCHEMA: dict[str, ColumnType] = {
    "participant_id": pl.String,
    "name": pl.String,
    "role": pl.String,
    "active": pl.Boolean,
    **COUNTS,
}
TYPIST_SCHEMA: dict[str, ColumnType] = {"participant_id": pl.String, **COUNTS}


@dataclass(frozen=True)
class Roster:
    """Accounts and dataset typists apart, each in id order with numbers by value (`p2` < `p10`)."""

    accounts: pl.DataFrame  # ACCOUNT_SCHEMA
    typists: pl.DataFrame  # TYPIST_SCHEMA


def _in_id_order(frame: pl.DataFrame) -> pl.DataFrame:
    ids = frame.get_column("participant_id").to_list()
    order = sorted(range(len(ids)), key=lambda i: id_sort_key(ids[i]))
    return frame[order] if order else frame


def roster(store: SessionStore, accounts: AccountStore) -> Roster:
    """Every account and every dataset typist with their sessions, sentences and last session.

    Counts come from the CSV store (the durable record); an id without sessions counts 0 and
    has no last session.
    """
    keys = list(store.sessions())
    rows = store.read_many("session.csv", keys, ["participant_id", "created_at", "sentence_count"])
    counts = rows.group_by("participant_id").agg(
        pl.len().cast(pl.UInt32).alias("sessions"),
        pl.col("sentence_count").sum().alias("sentences"),
        pl.col("created_at").max().alias("last_session"),
    )
    users = pl.DataFrame(
        [(u.username, u.name, u.role, u.active) for u in accounts.users()],
        schema={c: ACCOUNT_SCHEMA[c] for c in ("participant_id", "name", "role", "active")},
        orient="row",
    )
    with_data = {p for p, _ in keys} | {p for p, _ in store.participant_files()}
    typists = pl.DataFrame(
        {"participant_id": sorted(with_data - set(users.get_column("participant_id").to_list()))},
        schema={"participant_id": pl.String},
    )
    filled = [pl.col("sessions").fill_null(0), pl.col("sentences").fill_null(0)]

    def counted(frame: pl.DataFrame, schema: dict[str, ColumnType]) -> pl.DataFrame:
        joined = frame.join(counts, on="participant_id", how="left").with_columns(filled)
        return _in_id_order(joined.select([pl.col(c).cast(t) for c, t in schema.items()]))

    return Roster(counted(users, ACCOUNT_SCHEMA), counted(typists, TYPIST_SCHEMA))
