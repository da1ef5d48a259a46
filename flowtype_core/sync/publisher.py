"""Pushes outbox entries to the lakehouses, in the background or on demand.

One drain at a time per process; the CSV store is read at push time, so the lakehouse always
receives the latest accepted content of a section, once, by replacement.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from flowtype_core.errors import PermanentWriteError
from flowtype_core.fingerprint import PARTICIPANT_ROW
from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.progress import Progress, counted
from flowtype_core.redaction import redact
from flowtype_core.store.csv_store import SessionStore
from flowtype_core.sync.history import SyncHistory, SyncRun
from flowtype_core.sync.outbox import ERASE, REJECTED, SESSION_ROW, Outbox, OutboxEntry

log = logging.getLogger(__name__)
IDLE_POLL_S = 5.0
SESSIONS_PER_PUSH = 500
MAINTAIN_EVERY = 200  # pushes per lakehouse between two maintain() runs (compaction, clustering)


@dataclass
class DrainReport:
    """What one drain did, per lakehouse."""

    pushed_sections: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


class Publisher:
    """Moves work from the outbox into every configured lakehouse."""

    def __init__(
        self,
        store: SessionStore,
        outbox: Outbox,
        lakehouses: Mapping[str, Lakehouse],
        history: SyncHistory,
        *,
        maintain_every: int = MAINTAIN_EVERY,
        sessions_per_push: int = SESSIONS_PER_PUSH,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.lakehouses = dict(lakehouses)
        self.history = history
        self.maintain_every = maintain_every
        self.sessions_per_push = sessions_per_push
        self._commits_since_maintain: dict[str, int] = defaultdict(int)
        self._drain_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def enqueue(
        self, participant_id: str, session_id: str, sections: list[str], *, session_row: bool
    ) -> None:
        """Durably note that these sections (and the session row) must reach every lakehouse."""
        names = [*sections, SESSION_ROW] if session_row else list(sections)
        for lakehouse in self.lakehouses:
            self.outbox.put_many(lakehouse, [(participant_id, session_id, name) for name in names])
        self._wake.set()

    def enqueue_participants(self, participant_ids: list[str], *, erase: bool = False) -> None:
        """Durably note that these participants' participants rows must reach every lakehouse, or
        with `erase` that every row of theirs must leave every lakehouse (after the CSV store's)."""
        name = ERASE if erase else PARTICIPANT_ROW
        for lakehouse in self.lakehouses:
            self.outbox.put_many(lakehouse, [(p, name, name) for p in participant_ids])
        self._wake.set()

    def erase(self, participant_ids: list[str]) -> int:
        """Remove these participants' data from the CSV store and queue its removal from every
        lakehouse; returns the session folders removed.

        Both happen under the drain lock, so no drain of this process pushes the store's copy
        back in between. The outbox entry is written first: a crash before the store's part
        leaves the data in both places (run it again), never in a lakehouse alone.
        """
        with self._drain_lock:
            self.enqueue_participants(participant_ids, erase=True)
            return sum(self.store.remove_participant(p) for p in participant_ids)

    def drain(self, *, force: bool = False, progress: Progress | None = None) -> DrainReport:
        """Push every due entry now (all of them with `force`), in batches of whole sessions.

        Progress is reported after each batch, counted in outbox entries.
        """
        report = DrainReport()
        with self._drain_lock:
            by_lakehouse: dict[str, dict[tuple[str, str], list[OutboxEntry]]] = defaultdict(
                lambda: defaultdict(list)
            )
            total = done = 0
            for entry in self.outbox.entries(due_only=not force):
                if entry.lakehouse in self.lakehouses and entry.status != REJECTED:
                    by_lakehouse[entry.lakehouse][(entry.participant_id, entry.session_id)].append(entry)
                    total += 1
            for name, sessions in by_lakehouse.items():
                keys = list(sessions)
                for start in range(0, len(keys), self.sessions_per_push):
                    batch = {key: sessions[key] for key in keys[start : start + self.sessions_per_push]}
                    self._push_batch(name, batch, report)
                    done += sum(len(group) for group in batch.values())
                    counted(progress, done, total, "outbox entries pushed")
        return report

    def _push_batch(
        self, name: str, batch: dict[tuple[str, str], list[OutboxEntry]], report: DrainReport
    ) -> None:
        entries = [e for group in batch.values() for e in group]
        started = time.perf_counter()
        try:
            sections, rows = self._push(name, batch)
        except Exception as exc:  # any failure keeps the work in the outbox
            permanent = isinstance(exc, PermanentWriteError)
            message = redact(f"{type(exc).__name__}: {exc}")
            report.failures[name] = message
            log.warning(
                "lakehouse %s: push of %d session(s) failed, %s: %s",
                name,
                len(batch),
                "rejected for good, kept in the outbox as rejected (resync after fixing)"
                if permanent
                else "will retry",
                message,
            )
            for entry in entries:
                self.outbox.failed(entry, message, permanent=permanent)
            self.history.record(
                SyncRun(
                    "publish",
                    name,
                    seconds=round(time.perf_counter() - started, 4),
                    sections=len(entries),
                    status=REJECTED if permanent else "failed",
                    error=message,
                )
            )
            return
        self.outbox.done_many(entries)
        report.pushed_sections[name] += sections
        report.rows[name] += rows
        self.history.record(
            SyncRun(
                "publish", name, seconds=round(time.perf_counter() - started, 4), sections=sections, rows=rows
            )
        )
        self._maybe_maintain(name)

    def _push(self, name: str, batch: dict[tuple[str, str], list[OutboxEntry]]) -> tuple[int, int]:
        lakehouse = self.lakehouses[name]
        erased = [p for p, s in batch if s == ERASE]
        if erased:  # before anything else of theirs in the batch, which the store may hold anew
            lakehouse.delete_participants(erased)
            self._requeue_held(name, erased)
            batch = {key: entries for key, entries in batch.items() if key[1] != ERASE}
        participants = [p for p, s in batch if s == PARTICIPANT_ROW]
        if participants:  # a participant without the file (yet, or any more) holds no rows
            lakehouse.replace_participants(participants, self.store.read_participants(participants))
            batch = {key: entries for key, entries in batch.items() if key[1] != PARTICIPANT_ROW}
        key = ["participant_id", "session_id", "test_section_id"]
        wanted = pl.DataFrame(
            sorted(
                {
                    (p, s, e.section)
                    for (p, s), entries in batch.items()
                    for e in entries
                    if e.section != SESSION_ROW
                }
            ),
            schema={c: pl.String for c in key},
            orient="row",
        )
        with_sections = wanted.select("participant_id", "session_id").unique().rows()
        # Each file kind is parsed once for the whole batch, not once per session.
        sections = self.store.read_many("sections.csv", with_sections).join(wanted, on=key, how="semi")
        keystrokes = self.store.read_many("keystrokes.csv", with_sections).join(wanted, on=key, how="semi")
        gone = wanted.join(sections, on=key, how="anti")
        if (
            not gone.is_empty()
        ):  # listed but no longer in the CSV store: the lakehouse must not keep them either
            lakehouse.delete_sections(gone.select("participant_id", "test_section_id"))
        if not sections.is_empty():
            lakehouse.replace_sections(sections, keystrokes)
        # The session row travels with every push of its sections, so counts never lag behind.
        session_rows = self.store.read_many("session.csv", list(batch))
        if not session_rows.is_empty():
            lakehouse.upsert_sessions(session_rows)
        return sections.height, keystrokes.height

    def _requeue_held(self, name: str, participant_ids: list[str]) -> None:
        """Queue again whatever the CSV store holds under ids just erased from lakehouse `name`.

        Normally nothing (the store's copy went first); but an id that got data again before
        the erasure reached this lakehouse keeps that data: the erasure removes what was there.
        """
        held = [key for p in participant_ids for key in self.store.sessions(p)]
        sections = self.store.read_many(
            "sections.csv", held, ["participant_id", "session_id", "test_section_id"]
        )
        keys = [
            *sections.iter_rows(),
            *((p, s, SESSION_ROW) for p, s in held),
            *(
                (p, PARTICIPANT_ROW, PARTICIPANT_ROW)
                for p, _ in self.store.participant_files()
                if p in participant_ids
            ),
        ]
        if keys:
            self.outbox.put_many(name, keys)

    def _maybe_maintain(self, name: str) -> None:
        """Compact after every `maintain_every` pushes: small files come from commits, not rows."""
        self._commits_since_maintain[name] += 1
        if self._commits_since_maintain[name] < self.maintain_every:
            return
        self._commits_since_maintain[name] = 0
        started = time.perf_counter()
        try:
            done = self.lakehouses[name].maintain()
            self.history.record(
                SyncRun("maintain", name, seconds=round(time.perf_counter() - started, 3), detail=done)
            )
        except Exception as exc:  # compaction is an optimisation; a failure must not stop publishing
            self.history.record(
                SyncRun("maintain", name, status="failed", error=f"{type(exc).__name__}: {exc}")
            )

    def pending(self) -> list[OutboxEntry]:
        return self.outbox.entries()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Drain until nothing is due or `timeout` passes; True when the outbox is empty."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            report = self.drain()
            if not self.outbox.entries():
                return True
            if not report.ok and not self.outbox.entries(due_only=True):
                return False  # only backed-off failures are left
        return not self.outbox.entries()

    # background thread ------------------------------------------------------------------------
    def start(self) -> None:
        """Publish in a daemon thread; pending entries from earlier runs are picked up at once."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="flowtype-publisher", daemon=True)
        self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._next_wait())
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.drain()
            except Exception:  # keep the thread alive; entries stay in the outbox
                log.exception("publisher drain failed")

    def _next_wait(self) -> float:
        entries = self.outbox.entries()
        if not entries:
            return IDLE_POLL_S
        soonest = min(e.next_attempt_at for e in entries) - time.time()
        return min(IDLE_POLL_S, max(0.05, soonest))
