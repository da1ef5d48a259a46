"""A durable outbox of lakehouse work, drained by a background publisher (SPEC §3.3, §3.4).

Submitting a sentence writes the CSV (the durable record) and then an outbox entry naming the
section; the participant never waits for a lakehouse. Entries reference the CSV rather than
carrying data, so a drain always pushes the latest content and replaying it is idempotent.
A failed push stays in the outbox with exponential backoff and jitter; a crash loses nothing,
because the entry is on disk until the lakehouse has accepted the section.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from flowtype_core.fingerprint import PARTICIPANT_ROW
from flowtype_core.ids import check_id
from flowtype_core.redaction import redact
from flowtype_core.store.atomic import atomic_write_many, atomic_write_text, folder_lock

SESSION_ROW = "_session"  # entry name for "push the session row"
ERASE = "_erase"  # session and section name of "remove every row of the participant" (an erasure)
PARTICIPANT_WIDE = (PARTICIPANT_ROW, ERASE)  # entries about a participant, not about one session
PENDING = "pending"
REJECTED = "rejected"  # the lakehouse refused it for good: kept, shown, never retried until re-put
BASE_DELAY_S = 1.0
MAX_DELAY_S = 300.0


@dataclass
class OutboxEntry:
    """One unit of pending work: a section (or the session row) to push to one lakehouse."""

    lakehouse: str
    participant_id: str
    session_id: str
    section: str  # a test_section_id, or SESSION_ROW; PARTICIPANT_ROW / ERASE as session and section
    seq: int = field(default_factory=time.time_ns)
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str = ""
    status: str = PENDING

    @property
    def filename(self) -> str:
        return f"{self.participant_id}~{self.session_id}~{self.section}.json"


def backoff_delay(attempts: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after `attempts` failures: doubling from BASE_DELAY_S, ±50 % jitter so that
    writers failing together do not retry together, never more than MAX_DELAY_S."""
    base = BASE_DELAY_S * 2 ** min(max(0, attempts - 1), 30)
    jitter: float = (rng or random).random()
    return min(MAX_DELAY_S, base * (0.5 + jitter))


class Outbox:
    """Entries as small JSON files under `<data-dir>/outbox/<lakehouse>/`."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "outbox"
        self.root.mkdir(parents=True, exist_ok=True)

    def _dir(self, lakehouse: str) -> Path:
        return self.root / check_id(lakehouse, "lakehouse")

    @staticmethod
    def _new_entry(lakehouse: str, participant_id: str, session_id: str, section: str) -> OutboxEntry:
        check_id(participant_id, "participant_id")
        if not (session_id == section and section in PARTICIPANT_WIDE):
            check_id(session_id, "session_id")
            if section != SESSION_ROW:
                check_id(section, "test_section_id")
        return OutboxEntry(lakehouse, participant_id, session_id, section)

    def put(self, lakehouse: str, participant_id: str, session_id: str, section: str) -> OutboxEntry:
        """Record work to do; a newer put for the same section supersedes the older one."""
        return self.put_many(lakehouse, [(participant_id, session_id, section)])[0]

    def put_many(self, lakehouse: str, keys: Iterable[tuple[str, str, str]]) -> list[OutboxEntry]:
        """`put` for many (participant_id, session_id, section) at once (a sentence, an import, a resync).

        One lock, each file written whole (temp file, fsync, rename) and one folder fsync for the
        lot, so entries survive a crash or a power cut and never appear half-written.
        """
        entries = [self._new_entry(lakehouse, p, s, n) for p, s, n in keys]
        if entries:
            folder = self._dir(lakehouse)
            with folder_lock(folder):
                atomic_write_many(
                    folder, [(e.filename, json.dumps(asdict(e)).encode("utf-8")) for e in entries]
                )
        return entries

    def entries(self, lakehouse: str | None = None, *, due_only: bool = False) -> list[OutboxEntry]:
        """Pending entries, oldest first; `due_only` leaves out those still backing off."""
        now = time.time()
        folders = (
            [self._dir(lakehouse)] if lakehouse else sorted(p for p in self.root.iterdir() if p.is_dir())
        )
        found = []
        for folder in folders:
            for path in folder.glob("*.json"):
                with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                    entry = OutboxEntry(**json.loads(path.read_text("utf-8")))
                    if not due_only or (entry.status == PENDING and entry.next_attempt_at <= now):
                        found.append(entry)
        return sorted(found, key=lambda e: e.seq)

    def done(self, entry: OutboxEntry) -> bool:
        """Remove the entry unless a newer put replaced it meanwhile (that one must still run)."""
        return self.done_many([entry]) == 1

    def done_many(self, entries: Iterable[OutboxEntry]) -> int:
        """`done` for a pushed batch, one lock per lakehouse; returns how many were removed."""
        by_lakehouse: dict[str, list[OutboxEntry]] = {}
        for entry in entries:
            by_lakehouse.setdefault(entry.lakehouse, []).append(entry)
        removed = 0
        for lakehouse, group in by_lakehouse.items():
            folder = self._dir(lakehouse)
            with folder_lock(folder):
                for entry in group:
                    current = self._load(folder / entry.filename)
                    if current is not None and current.seq == entry.seq:
                        (folder / entry.filename).unlink()
                        removed += 1
        return removed

    def failed(
        self, entry: OutboxEntry, error: BaseException | str, *, permanent: bool = False
    ) -> OutboxEntry:
        """Keep the entry, schedule its retry (or mark it `rejected` when `permanent`), and remember
        the (redacted) error."""
        folder = self._dir(entry.lakehouse)
        with folder_lock(folder):
            current = self._load(folder / entry.filename)
            if current is None or current.seq != entry.seq:
                return current or entry  # superseded: the newer entry keeps its own schedule
            current.attempts += 1
            current.next_attempt_at = time.time() + backoff_delay(current.attempts)
            current.status = REJECTED if permanent else PENDING
            current.last_error = redact(error)[:2000]
            atomic_write_text(folder / entry.filename, json.dumps(asdict(current)))
            return current

    def release_backoff(self, lakehouse: str | None = None) -> int:
        """Make every entry due now (a manual "retry now")."""
        count = 0
        for entry in self.entries(lakehouse):
            folder = self._dir(entry.lakehouse)
            with folder_lock(folder):
                current = self._load(folder / entry.filename)
                if current is not None and current.next_attempt_at > 0:
                    current.next_attempt_at = 0.0
                    atomic_write_text(folder / entry.filename, json.dumps(asdict(current)))
                    count += 1
        return count

    @staticmethod
    def _load(path: Path) -> OutboxEntry | None:
        try:
            return OutboxEntry(**json.loads(path.read_text("utf-8")))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
