"""Whose data an id already names, so a new account never inherits someone else's (issue 13 item 4)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flowtype_core.errors import FlowTypeError
from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.store.csv_store import SessionStore
from flowtype_core.sync.outbox import ERASE, Outbox

log = logging.getLogger(__name__)


def data_owner(
    store: SessionStore,
    lakehouses: Mapping[str, Lakehouse],
    participant_id: str,
    outbox: Outbox | None = None,
) -> str | None:
    """Where data under `participant_id` (compared case-insensitively) already lives, or None.

    An imported typist, or an account deleted with its data kept, owns its id in the CSV store
    or a lakehouse; an erased one keeps it until the erasure has reached every lakehouse (its
    outbox entry is done). A lakehouse that cannot be reached is skipped (the CSV store, the
    durable record, and the outbox are always asked).
    """
    wanted = participant_id.lower()
    if any(folder.name.lower() == wanted for folder in store.root.iterdir() if folder.is_dir()):
        return "the session store"
    for entry in outbox.entries() if outbox is not None else ():
        if entry.section == ERASE and entry.participant_id.lower() == wanted:
            return f"the {entry.lakehouse} lakehouse (its erasure is still queued)"
    for name, lakehouse in lakehouses.items():
        try:
            held = lakehouse.read_table("sessions").get_column("participant_id").str.to_lowercase()
        except FlowTypeError as exc:  # down, or refusing: the CSV store answered already
            log.warning("cannot ask lakehouse %s who owns %r: %s", name, participant_id, exc)
            continue
        if (held == wanted).any():
            return f"the {name} lakehouse"
    return None
