"""Sync operations shared by the Sync page, the CLI and notebooks (SPEC §3.4).

    sync = SyncService.for_workbench(open_workbench())
    report = sync.validate()                # statuses per lakehouse and section
    sync.resync()                           # repair every out-of-sync section
    sync.resync(Selection(participants=("p01",)), progress=lambda fraction, message: print(message))

A resync never writes to a lakehouse itself: it puts the chosen sections into the outbox and has
the publisher push them, the path every live sentence takes. The publisher reads the CSV store at
push time and replaces each section, so a resync is idempotent, can be re-run after a crash, and
deletes sections a lakehouse holds that the CSV store does not. Large selections reach the
backends as large batches, so each backend can use its bulk path.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from flowtype_core.errors import InvalidInput
from flowtype_core.fingerprint import PARTICIPANT_ROW
from flowtype_core.ids import check_id
from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.progress import Progress
from flowtype_core.schema import ColumnType
from flowtype_core.store.csv_store import SessionStore
from flowtype_core.sync.history import SyncHistory, SyncRun
from flowtype_core.sync.outbox import SESSION_ROW, Outbox
from flowtype_core.sync.publisher import Publisher
from flowtype_core.sync.report import IN_SYNC, OUT_OF_SYNC, SyncReport, matching
from flowtype_core.sync.validate import SyncValidator

if TYPE_CHECKING:
    from flowtype_core.workbench import Workbench

OUTBOX_SCHEMA: dict[str, ColumnType] = {
    "lakehouse": pl.String,
    "participant_id": pl.String,
    "session_id": pl.String,
    "section": pl.String,
    "attempts": pl.Int64,
    "next_attempt_at": pl.Datetime("us", "UTC"),
    "last_error": pl.String,
}


@dataclass(frozen=True)
class Selection:
    """What to resync. Empty filters with `everything=False` mean every out-of-sync section."""

    participants: tuple[str, ...] = ()
    sessions: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    lakehouses: tuple[str, ...] = ()
    everything: bool = False

    @property
    def explicit(self) -> bool:
        """A named selection is replayed whatever its status; the default repairs only what is wrong."""
        return self.everything or bool(self.participants or self.sessions or self.sections)

    def pick(self, sections: pl.DataFrame) -> pl.DataFrame:
        """The rows of a validation report this selection covers."""
        sections = matching(
            sections,
            lakehouse=self.lakehouses,
            participant_id=self.participants,
            session_id=self.sessions,
            test_section_id=self.sections,
        )
        if not self.explicit:
            sections = sections.filter(pl.col("status").is_in(OUT_OF_SYNC))
        return sections


@dataclass
class ResyncResult:
    """What a resync queued and pushed, and the statuses it left."""

    queued: int
    pushed_sections: int
    rows: int
    seconds: float
    failures: dict[str, str]
    skipped: list[str]
    before: dict[str, int]
    after: SyncReport

    @property
    def ok(self) -> bool:
        return not self.failures and not self.skipped and self.after.ok

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "after"}
        return {**data, "after": self.after.counts(), "errors": self.after.errors, "ok": self.ok}


def _addressable(participant_id: str, session_id: str, section: str) -> bool:
    """Ids a lakehouse may hold that the outbox cannot name (hand-written rows) are reported, not queued."""
    try:
        check_id(participant_id, "participant_id")
        if (session_id, section) == (PARTICIPANT_ROW, PARTICIPANT_ROW):
            return True
        check_id(session_id, "session_id")
        check_id(section, "test_section_id")
    except InvalidInput:
        return False
    return True


@dataclass
class SyncService:
    """Validation, resync, outbox and history over one data directory's configured parts."""

    store: SessionStore
    lakehouses: Mapping[str, Lakehouse]
    outbox: Outbox
    publisher: Publisher
    history: SyncHistory
    state_dir: Path
    validator: SyncValidator = field(init=False)

    def __post_init__(self) -> None:
        self.validator = SyncValidator(self.store, self.lakehouses, self.outbox, self.history, self.state_dir)

    @classmethod
    def for_workbench(cls, wb: Workbench) -> SyncService:
        """The service over a workbench's store, lakehouses and publisher; state in `<data-dir>/sync/`."""
        return cls(wb.store, wb.lakehouses, wb.outbox, wb.publisher, wb.history, wb.data_dir / "sync")

    def validate(self, *, full: bool = False) -> SyncReport:
        """Statuses of every section; re-reads only CSV sessions changed since the last run unless `full`."""
        return self.validator.validate(full=full)

    def last_report(self) -> SyncReport | None:
        """The previous validation, for showing without re-reading anything."""
        return self.validator.last_report()

    def resync(self, selection: Selection | None = None, *, progress: Progress | None = None) -> ResyncResult:
        """Queue the selected sections (default: all out of sync) and push them now; safe to re-run."""
        selection = selection or Selection()
        started = time.perf_counter()
        unknown = set(selection.lakehouses) - set(self.lakehouses)
        if unknown:
            raise InvalidInput(
                f"unknown lakehouse(s) {sorted(unknown)}; configured: {sorted(self.lakehouses)}"
            )
        before = self.validator.validate(record=False)
        chosen = selection.pick(before.sections)
        queued, skipped = 0, []
        for (name,), group in chosen.group_by("lakehouse", maintain_order=True):
            keys = []
            for key in group.select("participant_id", "session_id", "test_section_id").iter_rows():
                if _addressable(*key):
                    keys.append(key)
                else:
                    skipped.append(f"{name}:{'/'.join(map(str, key))}")
            in_csv = group.filter(
                pl.col("csv_rows").is_not_null() & (pl.col("session_id") != PARTICIPANT_ROW)
            )
            session_rows = [
                (p, s, SESSION_ROW)
                for p, s in in_csv.select("participant_id", "session_id").unique().iter_rows()
            ]
            queued += len(self.outbox.put_many(str(name), [*keys, *session_rows]))
        drained = self.publisher.drain(force=True, progress=progress)
        after = self.validator.validate(record=False)
        result = ResyncResult(
            queued=queued,
            pushed_sections=sum(drained.pushed_sections.values()),
            rows=sum(drained.rows.values()),
            seconds=round(time.perf_counter() - started, 3),
            failures=dict(drained.failures),
            skipped=skipped,
            before=before.counts(),
            after=after,
        )
        self._record(selection, chosen, drained.pushed_sections, drained.rows, result)
        return result

    def _record(
        self,
        selection: Selection,
        chosen: pl.DataFrame,
        pushed: Mapping[str, int],
        rows: Mapping[str, int],
        result: ResyncResult,
    ) -> None:
        after = result.after.sections
        for name in selection.lakehouses or tuple(self.lakehouses):
            left = after.filter((pl.col("lakehouse") == name) & (pl.col("status") != IN_SYNC)).height
            error = result.failures.get(name, "") or result.after.errors.get(name, "")
            status = "ok" if not error and not left else ("failed" if not pushed.get(name) else "partial")
            self.history.record(
                SyncRun(
                    "resync",
                    name,
                    seconds=result.seconds,
                    sections=int(pushed.get(name, 0)),
                    rows=int(rows.get(name, 0)),
                    status=status,
                    error=error,
                    detail={
                        "selection": {k: v for k, v in asdict(selection).items() if v},
                        "queued": chosen.filter(pl.col("lakehouse") == name).height,
                        "left_out_of_sync": left,
                    },
                )
            )

    def outbox_frame(self) -> pl.DataFrame:
        """The pending work, one row per outbox entry, oldest first."""
        rows = [
            {
                "lakehouse": e.lakehouse,
                "participant_id": e.participant_id,
                "session_id": e.session_id,
                "section": e.section,
                "attempts": e.attempts,
                "next_attempt_at": datetime.fromtimestamp(e.next_attempt_at, UTC)
                if e.next_attempt_at
                else None,
                "last_error": e.last_error,
            }
            for e in self.outbox.entries()
        ]
        return pl.DataFrame(rows, schema=OUTBOX_SCHEMA)

    def history_frame(self, limit: int | None = 500) -> pl.DataFrame:
        """The newest `limit` sync runs with `started_at` as a timestamp, newest last."""
        frame = self.history.read(limit)
        if frame.is_empty():
            return frame
        return frame.with_columns(pl.col("started_at").str.to_datetime(time_zone="UTC"))
