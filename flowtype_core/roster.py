"""Who is registered and who has typed: one row per account or participant, for researchers."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from flowtype_core.accounts import User


def account_roster(users: Iterable[User], sessions: pl.DataFrame) -> pl.DataFrame:
    """Every account and every participant with sessions (imported typists have no account):
    name, role, how many sessions and sentences, and when the last session began."""
    accounts = pl.DataFrame(
        [{"participant_id": u.username, "name": u.name, "role": u.role} for u in users],
        schema={"participant_id": pl.String, "name": pl.String, "role": pl.String},
    )
    counts = sessions.group_by("participant_id").agg(
        pl.len().cast(pl.Int64).alias("sessions"),
        pl.col("sentence_count").sum().alias("sentences"),
        pl.col("created_at").max().alias("last_session"),
    )
    return accounts.join(counts, on="participant_id", how="full", coalesce=True).sort("participant_id")
