"""Dataset imports through the live write path, refused when they would touch an account's data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flowtype_core.accounts import AccountStore
from flowtype_core.datasets.aalto import read_aalto
from flowtype_core.errors import InvalidInput
from flowtype_core.progress import Progress, silent, within
from flowtype_core.recorder import Recorder
from flowtype_core.store.csv_store import SessionStore


def refuse_account_targets(
    store: SessionStore, accounts: AccountStore, targets: Iterable[tuple[str, str]]
) -> None:
    """Raise when an import's (participant, session) would write into an account's data.

    A participant id that is an account, or whose folder holds sessions the import does not
    write (an account's live sessions, kept after the account was deleted), is off limits:
    the import is refused whole, before anything is written.
    """
    by_participant: dict[str, set[str]] = {}
    for participant_id, session_id in targets:
        by_participant.setdefault(participant_id, set()).add(session_id)
    usernames = {user.username for user in accounts.users()}
    for participant_id, sessions in sorted(by_participant.items()):
        if participant_id in usernames:
            raise InvalidInput(
                f"the import would write into {participant_id!r}, which is an account: nothing was "
                "imported. Rename the file's participant id or remove that account."
            )
        others = sorted({s for _, s in store.sessions(participant_id)} - sessions)
        if others:
            raise InvalidInput(
                f"the import would write into {participant_id!r}, whose data holds sessions it did not "
                f"write ({', '.join(others[:3])}): nothing was imported."
            )


def import_aalto(
    store: SessionStore,
    accounts: AccountStore,
    recorder: Recorder,
    directory: str | Path,
    *,
    progress: Progress | None = None,
    wait: bool = True,
) -> dict[str, Any]:
    """Import the Aalto dataset's `<id>_keystrokes.txt` files; with `wait`, publish them too.

    Progress is honest over the three phases, weighted roughly by their cost on the sample:
    reading the files, writing the CSV store, then pushing to the lakehouse.
    """
    report_to = progress or silent
    data = read_aalto(directory, progress=within(report_to, 0.0, 0.2, "Reading files"))
    refuse_account_targets(store, accounts, data.sessions.select("participant_id", "session_id").iter_rows())
    report = recorder.ingest(
        data.keystrokes,
        data.sections,
        data.sessions,
        progress=within(report_to, 0.2, 0.6, "Writing sessions to the CSV store"),
    )
    publisher = recorder.publisher
    if wait:
        publisher.drain(progress=within(report_to, 0.6, 0.98, "Writing to the lakehouse"))
    published = publisher.wait_idle(timeout=600) if wait else False
    report_to(
        1.0, "Imported" if published or not wait else "Imported; some lakehouse writes wait in the outbox"
    )
    return {
        "participants": data.sessions.height,
        "sections": data.sections.height,
        "keystrokes": data.keystrokes.height,
        "malformed_rows": sum(data.malformed.values()),
        "malformed_by_file": data.malformed,
        "dropped_rows": data.dropped,
        "dropped_by_file": {f.file: f.dropped for f in data.files if f.dropped},
        "lossy_rows": sum(f.lossy for f in data.files),
        "lossy_by_file": {f.file: f.lossy for f in data.files if f.lossy},
        "renamed_letters": sum(f.renamed for f in data.files),
        "unreadable_files": data.unreadable,
        **asdict(report),
        "published": published,
        "pending_in_outbox": len(publisher.pending()),
    }
