"""Sync validation: does every lakehouse hold exactly what the CSV store holds? (SPEC §3.4)

Per section, the CSV store (the source of truth) and each configured lakehouse are fingerprinted
by the one shared function, `flowtype_core.fingerprint.section_fingerprints` (keystroke rows and an
order-free checksum), and compared (`sync.compare`) into the statuses of `sync.report`.

Incremental by watermark: the CSV side (`sync.csv_side`) keeps its per-section fingerprints under
`<data-dir>/sync/` (`sync.validation_state`) with each session's file stamp. A run re-reads only
sessions whose stamp changed or whose files changed at or after the watermark (the start of the
previous run); the rest comes from the cache. `full=True` re-reads everything. Each lakehouse is
read in one scan per run, so rows changed behind the app's back are always seen.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flowtype_core.fingerprint import FINGERPRINT_SCHEMA
from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.store.atomic import folder_lock
from flowtype_core.store.csv_store import SessionStore
from flowtype_core.sync.compare import compare, pending_sections
from flowtype_core.sync.csv_side import STAMP_SCHEMA, participant_rows, read_fingerprints, session_stamps
from flowtype_core.sync.history import SyncHistory, SyncRun
from flowtype_core.sync.outbox import Outbox
from flowtype_core.sync.report import REPORT_SCHEMA, SESSION_KEY, SyncReport
from flowtype_core.sync.validation_state import ValidationState

# Coarse kernel timestamps can lag the clock read at the start of a run by a tick.
WATERMARK_SLACK_NS = 250_000_000


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
        self.state = ValidationState(state_dir)

    def last_report(self) -> SyncReport | None:
        """The previous validation's results, without running one (None before the first)."""
        state = self.state.load()
        sections = self.state.load_frame("last_report", REPORT_SCHEMA)
        if sections is None or not state:
            return None
        return SyncReport.from_state(sections, state)

    def validate(self, *, full: bool = False, record: bool = True) -> SyncReport:
        """Compare every section in the CSV store and the lakehouses; only changed sessions are re-read."""
        started = time.perf_counter()
        with folder_lock(self.state.dir):
            state = self.state.load()
            run_started_ns = time.time_ns()
            stamps = session_stamps(self.store.root)
            cached_stamps = None if full else self.state.load_frame("csv_stamps", STAMP_SCHEMA)
            cached_fps = None if full else self.state.load_frame("csv_fingerprints", FINGERPRINT_SCHEMA)
            if cached_stamps is None or cached_fps is None:
                changed, kept_fps = stamps, pl.DataFrame(schema=FINGERPRINT_SCHEMA)
            else:
                watermark = int(state.get("watermark_ns", 0)) - self.watermark_slack_ns
                unchanged = stamps.join(cached_stamps, on=[*SESSION_KEY, "stamp"], how="semi").filter(
                    pl.col("changed_ns") < watermark
                )
                changed = stamps.join(unchanged, on=SESSION_KEY, how="anti")
                kept_fps = cached_fps.join(unchanged, on=SESSION_KEY, how="semi")
            fresh, errors, unreadable = read_fingerprints(self.store.root, changed)
            csv_fps = pl.concat([kept_fps, fresh])
            # Sessions that could not be read keep no fingerprint: they are re-read next run.
            stamps_to_keep = stamps.join(unreadable, on=SESSION_KEY, how="anti")
            sections = compare(
                pl.concat([csv_fps, participant_rows(self.store, errors)]),
                self.lakehouses,
                pending_sections(self.outbox),
                unreadable,
                errors,
            )
            report = SyncReport(
                sections,
                errors=errors,
                full=full or cached_stamps is None,
                scanned_sessions=changed.height,
                total_sessions=stamps.height,
                seconds=round(time.perf_counter() - started, 3),
                validated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            self.state.save_frame("csv_stamps", stamps_to_keep)
            self.state.save_frame("csv_fingerprints", csv_fps)
            self.state.save_frame("last_report", sections)
            self.state.save({"watermark_ns": run_started_ns, **report.state()})
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
