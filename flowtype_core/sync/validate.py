"""Sync validation: does every lakehouse hold exactly what the CSV store holds? (SPEC §3.4)

Per section, the CSV store (the source of truth) and each configured lakehouse are fingerprinted
by the one shared function, `flowtype_core.fingerprint.section_fingerprints` (keystroke rows and an
order-free checksum), and compared. A section is `pending` while the outbox still holds work for
it; otherwise `in_sync`, `missing_in_lakehouse`, `count_mismatch`, `checksum_mismatch` or
`orphan_in_lakehouse` (in a lakehouse, not in the CSV store). `unverified` means one side could not
be read (a lakehouse that is down, an unreadable CSV file): nothing is concluded about it, so a
resync never deletes lakehouse rows on the strength of a file it could not read.

Incremental by watermark: the CSV side is the expensive one (a file pair per session), so its
per-section fingerprints are kept under `<data-dir>/sync/` with each session's file stamp (inode,
size, mtime). A run re-reads only sessions whose stamp changed or whose files changed at or after
the watermark (the start of the previous run); the rest comes from the cache. `full=True` re-reads
everything. Each lakehouse is read in one scan per run, so rows changed behind the app's back are
always seen. The files of the changed sessions are parsed in one call per kind, not one by one.
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from flowtype_core.fingerprint import (
    CONTENT_COLUMNS,
    FINGERPRINT_SCHEMA,
    participant_fingerprints,
    section_fingerprints,
)
from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.redaction import redact
from flowtype_core.schema import KEYSTROKES, SECTIONS, SESSIONS
from flowtype_core.store.atomic import atomic_write, atomic_write_text, folder_lock
from flowtype_core.store.csv_store import SessionStore, read_csv_files
from flowtype_core.sync.history import SyncHistory, SyncRun
from flowtype_core.sync.outbox import ERASE, SESSION_ROW, Outbox

log = logging.getLogger(__name__)

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
SESSION_KEY_SCHEMA = {"participant_id": pl.String, "session_id": pl.String}
# Only the columns the fingerprint reads, typed as the store types them.
_FP_KEYSTROKE_COLUMNS = ("participant_id", "test_section_id", *CONTENT_COLUMNS)
_FP_SECTION_COLUMNS = ("participant_id", "session_id", "test_section_id", "sentence", "user_input")
_FP_FILES = (
    ("keystrokes.csv", KEYSTROKES, _FP_KEYSTROKE_COLUMNS),
    ("sections.csv", SECTIONS, _FP_SECTION_COLUMNS),
)
# Coarse kernel timestamps can lag the clock read at the start of a run by a tick.
WATERMARK_SLACK_NS = 250_000_000

REPORT_SCHEMA = {
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
STAMP_SCHEMA = {
    "participant_id": pl.String,
    "session_id": pl.String,
    "stamp": pl.String,
    "changed_ns": pl.Int64,
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


def csv_fingerprints(root: Path, sessions: pl.DataFrame) -> pl.DataFrame:
    """Fingerprints of every section of `sessions` (participant_id, session_id), one parse per file kind."""
    if sessions.is_empty():
        return pl.DataFrame(schema=FINGERPRINT_SCHEMA)
    folders = [os.path.join(root, p, s) for p, s in sessions.select(SESSION_KEY).iter_rows()]
    keystrokes, sections = (
        read_csv_files([os.path.join(folder, name) for folder in folders], spec, columns)
        for name, spec, columns in _FP_FILES
    )
    return section_fingerprints(keystrokes, sections)


def session_stamps(root: Path) -> pl.DataFrame:
    """Every session folder with a stamp of its keystroke and section files (changes on each rewrite)."""
    rows: list[tuple[str, str, str, int]] = []
    if not root.is_dir():
        return pl.DataFrame(schema=STAMP_SCHEMA)
    with os.scandir(root) as participants:
        for participant in participants:
            if not participant.is_dir() or participant.name.startswith("."):
                continue
            with os.scandir(participant.path) as sessions:
                for session in sessions:
                    if not session.is_dir() or session.name.startswith("."):
                        continue
                    parts, changed = [], 0
                    for name, _, _ in _FP_FILES:
                        try:
                            st = os.stat(os.path.join(session.path, name))
                        except FileNotFoundError:
                            parts.append("-")
                            continue
                        parts.append(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
                        changed = max(changed, st.st_mtime_ns, st.st_ctime_ns)
                    rows.append((participant.name, session.name, "|".join(parts), changed))
    return pl.DataFrame(rows, schema=STAMP_SCHEMA, orient="row")


class SyncValidator:
    """Compares the CSV store with every configured lakehouse; keeps its state under `<data-dir>/sync/`."""

    def __init__(
        self,
        store: SessionStore,
        lakehouses: Mapping[str, Lakehouse],
        outbox: Outbox,
        history: SyncHistory,
        state_dir: Path,
        *,
        watermark_slack_ns: int = WATERMARK_SLACK_NS,
    ) -> None:
        self.watermark_slack_ns = watermark_slack_ns
        self.store = store
        self.lakehouses = dict(lakehouses)
        self.outbox = outbox
        self.history = history
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)

    # state files ------------------------------------------------------------------------------
    @property
    def _state_path(self) -> Path:
        return self.state_dir / "validation.json"

    def _frame_path(self, name: str) -> Path:
        return self.state_dir / f"{name}.parquet"

    def _load_frame(self, name: str, schema: Mapping[str, pl.DataType]) -> pl.DataFrame | None:
        path = self._frame_path(name)
        if not path.is_file():
            return None
        try:
            frame = pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as exc:  # a damaged cache only costs a full scan
            log.warning("sync state %s unreadable, rebuilding: %s", path.name, exc)
            return None
        return frame.cast(dict(schema)) if set(frame.columns) == set(schema) else None

    def _save_frame(self, name: str, frame: pl.DataFrame) -> None:
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        payload = buffer.getvalue()
        atomic_write(self._frame_path(name), lambda handle: handle.write(payload))

    def _load_state(self) -> dict[str, Any]:
        try:
            return json.loads(self._state_path.read_text("utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def last_report(self) -> SyncReport | None:
        """The previous validation's results, without running one (None before the first)."""
        state = self._load_state()
        sections = self._load_frame("last_report", REPORT_SCHEMA)
        if sections is None or not state:
            return None
        return SyncReport(
            sections,
            errors=state.get("errors", {}),
            full=bool(state.get("full")),
            scanned_sessions=int(state.get("scanned_sessions", 0)),
            total_sessions=int(state.get("total_sessions", 0)),
            seconds=float(state.get("seconds", 0.0)),
            validated_at=str(state.get("validated_at", "")),
        )

    # validation -------------------------------------------------------------------------------
    def validate(self, *, full: bool = False, record: bool = True) -> SyncReport:
        """Compare every section in the CSV store and the lakehouses; only changed sessions are re-read."""
        started = time.perf_counter()
        with folder_lock(self.state_dir):
            state = self._load_state()
            run_started_ns = time.time_ns()
            stamps = session_stamps(self.store.root)
            cached_stamps = None if full else self._load_frame("csv_stamps", STAMP_SCHEMA)
            cached_fps = None if full else self._load_frame("csv_fingerprints", FINGERPRINT_SCHEMA)
            if cached_stamps is None or cached_fps is None:
                changed, kept_fps = stamps, pl.DataFrame(schema=FINGERPRINT_SCHEMA)
            else:
                watermark = int(state.get("watermark_ns", 0)) - self.watermark_slack_ns
                unchanged = stamps.join(cached_stamps, on=[*SESSION_KEY, "stamp"], how="semi").filter(
                    pl.col("changed_ns") < watermark
                )
                changed = stamps.join(unchanged, on=SESSION_KEY, how="anti")
                kept_fps = cached_fps.join(unchanged, on=SESSION_KEY, how="semi")
            fresh, errors, unreadable = self._read_csv(changed)
            csv_fps = pl.concat([kept_fps, fresh])
            # Sessions that could not be read keep no fingerprint: they are re-read next run.
            stamps_to_keep = stamps.join(unreadable, on=SESSION_KEY, how="anti")
            # One small file per participant: always read afresh, never cached.
            sections = self._compare(pl.concat([csv_fps, self._csv_participants(errors)]), unreadable, errors)
            report = SyncReport(
                sections,
                errors=errors,
                full=full or cached_stamps is None,
                scanned_sessions=changed.height,
                total_sessions=stamps.height,
                seconds=round(time.perf_counter() - started, 3),
                validated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            self._save_frame("csv_stamps", stamps_to_keep)
            self._save_frame("csv_fingerprints", csv_fps)
            self._save_frame("last_report", sections)
            atomic_write_text(
                self._state_path,
                json.dumps(
                    {
                        "watermark_ns": run_started_ns,
                        "validated_at": report.validated_at,
                        "full": report.full,
                        "errors": errors,
                        "scanned_sessions": report.scanned_sessions,
                        "total_sessions": report.total_sessions,
                        "seconds": report.seconds,
                    }
                ),
            )
        if record:
            self.history.record(
                SyncRun(
                    "validate",
                    ",".join(self.lakehouses),
                    seconds=report.seconds,
                    sections=sections.height,
                    rows=int(csv_fps.get_column("rows").sum() or 0),
                    status="failed" if errors else ("ok" if report.ok else "out_of_sync"),
                    error="; ".join(f"{k}: {v}" for k, v in errors.items()),
                    detail={
                        "counts": report.counts(),
                        "full": report.full,
                        "scanned_sessions": changed.height,
                    },
                )
            )
        return report

    def _read_csv(self, sessions: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str], pl.DataFrame]:
        """Fingerprints of `sessions` in one scan; if a file spoils the scan, session by session.

        Returns the fingerprints, an error per unreadable session, and those sessions' keys.
        """
        try:
            return csv_fingerprints(self.store.root, sessions), {}, sessions.select(SESSION_KEY).clear()
        except (pl.exceptions.PolarsError, OSError) as exc:
            log.warning("bulk CSV scan failed (%s); reading %d sessions one by one", exc, sessions.height)
        frames, errors, bad = [], {}, []
        for key in sessions.select(SESSION_KEY).iter_rows():
            try:
                frames.append(
                    csv_fingerprints(
                        self.store.root, pl.DataFrame([key], schema=SESSION_KEY_SCHEMA, orient="row")
                    )
                )
            except (pl.exceptions.PolarsError, OSError) as exc:
                errors[f"csv:{key[0]}/{key[1]}"] = redact(f"{type(exc).__name__}: {exc}")[:500]
                bad.append(key)
        fps = pl.concat(frames) if frames else pl.DataFrame(schema=FINGERPRINT_SCHEMA)
        return fps, errors, pl.DataFrame(bad, schema=SESSION_KEY_SCHEMA, orient="row")

    def _csv_participants(self, errors: dict[str, str]) -> pl.DataFrame:
        try:
            return participant_fingerprints(self.store.read_participants())
        except (pl.exceptions.PolarsError, OSError) as exc:
            errors["csv:participants"] = redact(f"{type(exc).__name__}: {exc}")[:500]
            return pl.DataFrame(schema=FINGERPRINT_SCHEMA)

    def _pending(self) -> pl.DataFrame:
        """(lakehouse, participant_id, test_section_id) the outbox holds work for; a null section
        stands for every section of the participant (an erasure on its way)."""
        rows = [
            (e.lakehouse, e.participant_id, None if e.section == ERASE else e.section)
            for e in self.outbox.entries()
            if e.section != SESSION_ROW
        ]
        schema = {"lakehouse": pl.String, "participant_id": pl.String, "test_section_id": pl.String}
        return pl.DataFrame(rows, schema=schema, orient="row").unique()

    def _compare(
        self, csv_fps: pl.DataFrame, unreadable: pl.DataFrame, errors: dict[str, str]
    ) -> pl.DataFrame:
        pending = self._pending()
        frames = []
        for name, lakehouse in self.lakehouses.items():
            try:
                lake_fps = pl.concat(
                    [
                        lakehouse.section_fingerprints(),
                        participant_fingerprints(lakehouse.read_table("participants")),
                    ]
                )
            except Exception as exc:  # a lakehouse that is down is reported, never fatal
                errors[name] = redact(f"{type(exc).__name__}: {exc}")[:500]
                log.warning("validation could not read lakehouse %s: %s", name, errors[name])
                lake_fps = None
            frames.append(self._statuses(name, csv_fps, lake_fps, pending, unreadable))
        if not frames:
            return pl.DataFrame(schema=REPORT_SCHEMA)
        return pl.concat(frames).sort("lakehouse", *SESSION_KEY, "test_section_id")

    @staticmethod
    def _statuses(
        name: str,
        csv_fps: pl.DataFrame,
        lake_fps: pl.DataFrame | None,
        pending: pl.DataFrame,
        unreadable: pl.DataFrame,
    ) -> pl.DataFrame:
        reachable = lake_fps is not None
        lake = lake_fps if reachable else pl.DataFrame(schema=FINGERPRINT_SCHEMA)
        joined = csv_fps.rename({"rows": "csv_rows", "checksum": "csv_checksum"}).join(
            lake.rename(
                {"rows": "lakehouse_rows", "checksum": "lakehouse_checksum", "session_id": "_lake_session"}
            ),
            on=SECTION_KEY,
            how="full",
            coalesce=True,
        )
        mine = pending.filter(pl.col("lakehouse") == name)
        queued = mine.drop_nulls().select(SECTION_KEY).with_columns(_queued=pl.lit(True))
        erasing = (
            mine.filter(pl.col("test_section_id").is_null())
            .select("participant_id")
            .with_columns(_erasing=pl.lit(True))
        )
        bad_csv = unreadable.with_columns(_unreadable=pl.lit(True))
        joined = (
            joined.with_columns(pl.coalesce("session_id", "_lake_session").alias("session_id"))
            .join(queued, on=SECTION_KEY, how="left")
            .join(erasing, on="participant_id", how="left")
            .join(bad_csv, on=SESSION_KEY, how="left")
        )
        status = (
            pl.when(pl.col("_queued").fill_null(False) | pl.col("_erasing").fill_null(False))
            .then(pl.lit(PENDING))
            .when(pl.col("_unreadable").fill_null(False) | pl.lit(not reachable))
            .then(pl.lit(UNVERIFIED))
            .when(pl.col("csv_rows").is_null())
            .then(pl.lit(ORPHAN))
            .when(pl.col("lakehouse_rows").is_null())
            .then(pl.lit(MISSING))
            .when(pl.col("csv_rows") != pl.col("lakehouse_rows"))
            .then(pl.lit(COUNT_MISMATCH))
            .when(pl.col("csv_checksum") != pl.col("lakehouse_checksum"))
            .then(pl.lit(CHECKSUM_MISMATCH))
            .otherwise(pl.lit(IN_SYNC))
        )
        return joined.with_columns(pl.lit(name).alias("lakehouse"), status.alias("status")).select(
            [pl.col(c).cast(t) for c, t in REPORT_SCHEMA.items()]
        )
