"""The Participants page's roster: accounts and dataset typists apart, ids by value, counts per id."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl

from flowtype_core.accounts import AccountStore
from flowtype_core.roster import ACCOUNT_SCHEMA, TYPIST_SCHEMA, roster
from flowtype_core.store.csv_store import SessionStore
from tests.lakehouse.rows import T0, session

PASSWORD = "correct horse battery"


def test_an_empty_data_dir_has_only_the_researcher_and_no_typists(data_dir: Path) -> None:
    accounts = AccountStore(data_dir)
    accounts.create_user("rita", PASSWORD, role="researcher")
    people = roster(SessionStore(data_dir), accounts)
    assert people.accounts.schema == pl.Schema(ACCOUNT_SCHEMA)
    assert people.accounts.rows() == [("rita", "rita", "researcher", True, 0, 0, None)]
    assert people.typists.is_empty() and people.typists.schema == pl.Schema(TYPIST_SCHEMA)


def test_accounts_and_typists_apart_in_numeric_order_with_their_counts(data_dir: Path) -> None:
    accounts = AccountStore(data_dir)
    for username in ("rita", "p10", "p2"):
        accounts.create_user(username, PASSWORD, role="researcher" if username == "rita" else "participant")
    accounts.set_active("p10", False)
    store = SessionStore(data_dir)
    later = session("p2", "b", count=4).with_columns(pl.lit(T0 + timedelta(days=3)).alias("created_at"))
    store.upsert_sessions(pl.concat([session("p2", "a", count=3), later]))
    store.upsert_sessions(pl.concat([session(p, "a", count=5) for p in ("109", "9", "aalto-10", "aalto-9")]))

    people = roster(store, accounts)
    assert people.accounts.get_column("participant_id").to_list() == ["p2", "p10", "rita"]
    p2 = people.accounts.row(0, named=True)
    assert (p2["sessions"], p2["sentences"], p2["last_session"]) == (2, 7, T0 + timedelta(days=3))
    assert people.accounts.get_column("active").to_list() == [True, False, True]
    assert people.typists.get_column("participant_id").to_list() == ["9", "109", "aalto-9", "aalto-10"]
    assert people.typists.get_column("sessions").to_list() == [1, 1, 1, 1]
    assert people.typists.get_column("sentences").to_list() == [5, 5, 5, 5]
