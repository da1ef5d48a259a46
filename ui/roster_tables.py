"""The Participants page's two tables: human column labels, dates for people, never a "None" cell."""

from __future__ import annotations

import polars as pl
import streamlit as st

COUNT_LABELS = {"sessions": "Sessions", "sentences": "Sentences", "last_session": "Last session (UTC)"}
ACCOUNT_LABELS = {
    "participant_id": "Username",
    "name": "Name",
    "role": "Role",
    "status": "Status",
    **COUNT_LABELS,
}
TYPIST_LABELS = {"participant_id": "Typist id", **COUNT_LABELS}


def _table(frame: pl.DataFrame, labels: dict[str, str]) -> None:
    """The columns under their labels; the id column stays in view while a narrow screen scrolls."""
    st.dataframe(
        frame.with_columns(pl.col("last_session").dt.strftime("%Y-%m-%d %H:%M").fill_null("—")).select(
            [pl.col(c).alias(label) for c, label in labels.items()]
        ),
        hide_index=True,
        width="stretch",
        column_config={
            next(iter(labels.values())): st.column_config.TextColumn(pinned=True),
            **{
                COUNT_LABELS[c]: st.column_config.NumberColumn(width="small")
                for c in ("sessions", "sentences")
            },
        },
    )


def accounts_table(accounts: pl.DataFrame) -> None:
    """`roster.Roster.accounts`, with `active` shown as a word."""
    status = pl.when(pl.col("active")).then(pl.lit("active")).otherwise(pl.lit("deactivated"))
    _table(accounts.with_columns(status.alias("status")), ACCOUNT_LABELS)


def typists_table(typists: pl.DataFrame) -> None:
    """`roster.Roster.typists`."""
    _table(typists, TYPIST_LABELS)
