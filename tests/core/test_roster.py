"""The Participants page's table: accounts and typists with sessions, one row each."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from flowtype_core.accounts import User
from flowtype_core.roster import account_roster
from flowtype_core.schema import SESSIONS


def test_accounts_and_typists_without_an_account_each_get_one_row_with_their_counts() -> None:
    day = datetime(2026, 11, 1, tzinfo=UTC)
    sessions = pl.DataFrame(
        {
            "participant_id": ["p1", "p1", "aalto-7"],
            "created_at": [day, day.replace(day=3), day],
            "sentence_count": [5, 3, 15],
        }
    )
    users = [User("p1", "Pat", "participant"), User("rita", "Rita", "researcher")]

    roster = account_roster(users, sessions)

    assert roster.select("participant_id", "name", "sessions", "sentences", "last_session").rows() == [
        ("aalto-7", None, 1, 15, day),
        ("p1", "Pat", 2, 8, day.replace(day=3)),
        ("rita", "Rita", None, None, None),
    ]
    assert account_roster(users, SESSIONS.empty())["sessions"].to_list() == [None, None]
