"""Deleting an account, with its recorded data kept or removed, and removing a dataset typist's data.

Kept data stays under its id as a typist without an account; the id stays reserved
(`ownership.data_owner` refuses to register it again), so no later account inherits it.
Removed data leaves the CSV store at once and every configured lakehouse through the outbox
(`Publisher.erase`): a lakehouse that is down gets it when it is back, the id stays reserved
until then, and a resync afterwards has nothing to bring back because the store no longer
holds it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id

if TYPE_CHECKING:
    from flowtype_core.workbench import Workbench


@dataclass(frozen=True)
class Deletion:
    """What one deletion did."""

    participant_id: str
    account_deleted: bool
    data_removed: bool
    sessions_removed: int
    lakehouses: tuple[str, ...]  # where the removal is queued (empty when the data was kept)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lakehouses": list(self.lakehouses)}


def delete_account(wb: Workbench, username: str, *, by: str = "", remove_data: bool) -> Deletion:
    """Delete the account (never `by`'s own, never the last active researcher) and, with
    `remove_data`, everything recorded under it.

    The account goes first: if the data removal then fails, the data shows as a dataset typist
    and can be removed from there.
    """
    wb.accounts.delete_user(username, by=by)
    return (
        _erase(wb, username, account_deleted=True) if remove_data else Deletion(username, True, False, 0, ())
    )


def remove_typist_data(wb: Workbench, participant_id: str) -> Deletion:
    """Remove everything recorded under an id that has no account (an imported typist, an
    account deleted with its data kept)."""
    check_id(participant_id, "participant_id")
    if wb.accounts.get(participant_id) is not None:
        raise InvalidInput(
            f"{participant_id!r} is an account: delete the account and choose to remove its data"
        )
    if wb.accounts.data_owner is None or wb.accounts.data_owner(participant_id) is None:
        raise InvalidInput(f"no data is recorded under {participant_id!r}")
    return _erase(wb, participant_id, account_deleted=False)


def _erase(wb: Workbench, participant_id: str, *, account_deleted: bool) -> Deletion:
    sessions = wb.publisher.erase([participant_id])
    return Deletion(participant_id, account_deleted, True, sessions, tuple(wb.lakehouses))
