"""What a sync validation concludes: a status per (lakehouse, section), and the report around it.

A section is `pending` while the outbox still holds work for it; otherwise `in_sync`,
`missing_in_lakehouse`, `count_mismatch`, `checksum_mismatch` or `orphan_in_lakehouse` (in a
lakehouse, not in the CSV store). `unverified` means one side could not be read (a lakehouse that
is down, an unreadable CSV file): nothing is concluded about it, so a resync never deletes
lakehouse rows on the strength of a file it could not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from flowtype_core.schema import SECTIONS, SESSIONS, ColumnType

IN_SYNC = "in_sync"
PENDING = "pending"
MISSING = "missing_in_lakehouse"
COUNT_MISMATCH = "count_mismatch"
CHECKSUM_MISMATCH = "checksum_mismatch"
ORPHAN = "orphan_in_lakehouse"
UNVERIFIED = "unverified"
STATUSES = (IN_SYNC, PENDING, MISSING, COUNT_MISMATCH, CHECKSUM_MISMATCH, ORPHAN, UNVERIFIED)
OUT_OF_SYNC = (PENDING, MISSING, COUNT_MISMATCH, CHECKSUM_MISMATCH, ORPHAN)
"""What a default resync repairs; `unverified` is left alone until it can be read."""

SECTION_KEY = list(SECTIONS.key)
SESSION_KEY = list(SESSIONS.key)

REPORT_SCHEMA: dict[str, ColumnType] = {
    "lakehouse": pl.String,
    "participant_id": pl.String,
    "session_id": pl.String,
    "test_section_id": pl.String,
    "status": pl.String,
    "csv_rows": pl.Int64,
    "lakehouse_rows": pl.Int64,
    "csv_checksum": pl.String,
    "lakehouse_checksum": pl.String,
}


def matching(rows: pl.DataFrame, **wanted: Sequence[str]) -> pl.DataFrame:
    """Rows whose column holds one of the wanted values, for every non-empty `column=values`."""
    for column, values in wanted.items():
        if values:
            rows = rows.filter(pl.col(column).is_in(list(values)))
    return rows


@dataclass
class SyncReport:
    """The outcome of one validation: a status per (lakehouse, section), plus what could not be read."""

    sections: pl.DataFrame
    errors: dict[str, str] = field(default_factory=dict)
    full: bool = False
    scanned_sessions: int = 0
    total_sessions: int = 0
    seconds: float = 0.0
    validated_at: str = ""

    def counts(self) -> dict[str, int]:
        """Sections per status (every status listed, zeros included)."""
        found = dict(self.sections.get_column("status").value_counts().iter_rows())
        return {status: int(found.get(status, 0)) for status in STATUSES}

    def out_of_sync(self) -> pl.DataFrame:
        """The rows that need attention."""
        return self.sections.filter(pl.col("status") != IN_SYNC)

    def filtered(
        self,
        *,
        statuses: Sequence[str] = (),
        lakehouses: Sequence[str] = (),
        participants: Sequence[str] = (),
        session_contains: str = "",
    ) -> SyncReport:
        """The report narrowed to the rows matching every given filter (an empty filter keeps all)."""
        rows = matching(self.sections, status=statuses, lakehouse=lakehouses, participant_id=participants)
        if session_contains:
            rows = rows.filter(pl.col("session_id").str.contains(session_contains, literal=True))
        return replace(self, sections=rows)

    def sessions(self) -> pl.DataFrame:
        """Per lakehouse and session: sections, CSV rows, and sections per status."""
        return (
            self.sections.group_by("lakehouse", *SESSION_KEY)
            .agg(
                pl.len().alias("sections"),
                pl.col("csv_rows").sum().alias("csv_rows"),
                pl.col("lakehouse_rows").sum().alias("lakehouse_rows"),
                *[(pl.col("status") == s).sum().alias(s) for s in STATUSES],
            )
            .sort("lakehouse", *SESSION_KEY)
        )

    @property
    def ok(self) -> bool:
        return not self.errors and self.counts()[IN_SYNC] == self.sections.height

    def to_dict(self, *, only_problems: bool = False) -> dict[str, Any]:
        """JSON-ready: `{"counts": {...}, "sections": [...], ...}`."""
        rows = self.out_of_sync() if only_problems else self.sections
        return {
            "counts": self.counts(),
            "sections": rows.to_dicts(),
            "errors": self.errors,
            "full": self.full,
            "scanned_sessions": self.scanned_sessions,
            "total_sessions": self.total_sessions,
            "seconds": self.seconds,
            "validated_at": self.validated_at,
        }

    def state(self) -> dict[str, Any]:
        """Everything but the rows, as kept between runs (`from_state` reads it back)."""
        return {
            "validated_at": self.validated_at,
            "full": self.full,
            "errors": self.errors,
            "scanned_sessions": self.scanned_sessions,
            "total_sessions": self.total_sessions,
            "seconds": self.seconds,
        }

    @classmethod
    def from_state(cls, sections: pl.DataFrame, state: dict[str, Any]) -> SyncReport:
        """A report from its kept rows and `state()`."""
        return cls(
            sections,
            errors=state.get("errors", {}),
            full=bool(state.get("full")),
            scanned_sessions=int(state.get("scanned_sessions", 0)),
            total_sessions=int(state.get("total_sessions", 0)),
            seconds=float(state.get("seconds", 0.0)),
            validated_at=str(state.get("validated_at", "")),
        )
