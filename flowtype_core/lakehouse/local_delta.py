"""The embedded default: Delta tables on local disk, written with delta-rs.

One writer per table per process (a lock), and retry with jittered backoff when a writer in
another process commits first (`CommitFailedError`). Tables are plain Delta, so Spark,
Databricks or polars can read them directly.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from deltalake import DeltaTable, Schema, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from flowtype_core.config import Settings
from flowtype_core.ids import check_id
from flowtype_core.lakehouse.base import (
    Lakehouse,
    batch_section_keys,
    check_table,
    participant_keys,
    section_keys,
)
from flowtype_core.predicates import key_frame, key_predicate
from flowtype_core.schema import KEYSTROKES, PARTICIPANTS, SECTIONS, SESSIONS, TABLES, TableSpec

log = logging.getLogger(__name__)
T = TypeVar("T")
SECTION_KEY = SECTIONS.key
SESSION_KEY = SESSIONS.key

# Files are clustered by the keys rows are replaced by (docs/NOTES.md, "Commit latency"): 256 KB
# files (~12k keystrokes) kept a replace on 10M keystrokes at p50 62 / max 83 ms, 1 MB at 85 / 224.
CLUSTER_KEYS = {
    KEYSTROKES.name: SECTION_KEY,
    SECTIONS.name: SECTION_KEY,
    SESSIONS.name: SESSION_KEY,
    PARTICIPANTS.name: PARTICIPANTS.key,
}
CLUSTER_FILE_BYTES = 256 * 1024

# Every commit lists and replays `_delta_log`, so its cost grows with the log: 1,600 replaces on 1M
# keystrokes took p50 114 -> 181 ms with the default 30-day log retention and stayed flat with the
# log cut back at each checkpoint (docs/NOTES.md, "Commit latency"). delta-rs removes expired log
# files after every automatic checkpoint (each 100 commits); nothing here reads old versions.
# https://docs.rs/deltalake-core/latest/deltalake_core/protocol/checkpoints/index.html (cleanup_metadata)
TABLE_PROPERTIES = {"delta.logRetentionDuration": "interval 10 minutes"}

_table_locks: dict[str, threading.Lock] = {}
_table_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    with _table_locks_guard:
        return _table_locks.setdefault(str(path.resolve()), threading.Lock())


# A handle brought forward by commits gets slower with each one (delta-rs 1.6: ~0.2 ms per version
# applied since it was opened, so 8 -> 85 ms per append after 400 commits), while opening afresh
# from the last checkpoint costs ~10 ms: reopening every 20 versions keeps both small
# (docs/NOTES.md, "Commit latency").
REOPEN_AFTER_VERSIONS = 20

_open_tables: dict[str, tuple[DeltaTable, int]] = {}


def _current(path: Path) -> DeltaTable:
    """This process's handle on a table, brought up to date (call with the table's lock held).

    An incremental update reads only what other writers committed since; once the handle has
    moved on `REOPEN_AFTER_VERSIONS` versions it is opened afresh, which is cheaper than carrying on.
    """
    key = str(path.resolve())
    held = _open_tables.get(key)
    if held is not None:
        table, opened = held
        table.update_incremental()
        if table.version() - opened < REOPEN_AFTER_VERSIONS:
            return table
    table = DeltaTable(key)
    _open_tables[key] = (table, table.version())
    return table


def with_commit_retry(action: Callable[[], T], *, what: str, attempts: int = 12) -> T:
    """Run `action`, retrying when another process committed first; other errors propagate."""
    for attempt in range(attempts):
        try:
            return action()
        except CommitFailedError as exc:
            if attempt == attempts - 1:
                raise
            delay = min(2.0, 0.02 * 2**attempt) * (0.5 + random.random())
            log.info("%s: concurrent commit, retry %d in %.0f ms (%s)", what, attempt + 1, delay * 1e3, exc)
            time.sleep(delay)
    raise AssertionError("unreachable")


def migrate_in_place(path: Path, spec: TableSpec) -> list[str]:
    """Bring a table an older version wrote up to date: the contract's missing columns (null in
    old rows) and the table properties; returns the columns added."""
    with _lock_for(path):

        def alter() -> list[str]:
            table = _current(path)
            present = {f.name for f in table.schema().fields}
            missing = [c for c in spec.columns if c not in present]
            if missing:
                arrow = spec.empty().select(missing).to_arrow().schema
                table.alter.add_columns(list(Schema.from_arrow(arrow).fields))
            configured = table.metadata().configuration
            if any(configured.get(k) != v for k, v in TABLE_PROPERTIES.items()):
                table.alter.set_table_properties(TABLE_PROPERTIES)
            return missing

        added = with_commit_retry(alter, what=f"migrate {spec.name}")
    if added:
        log.info("table %s: added columns %s", spec.name, added)
    return added


class LocalDeltaLakehouse(Lakehouse):
    """Delta tables under `<data-dir>/lakehouse/<table>`."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.root = Path(settings.data_dir) / "lakehouse"
        self.ensure_tables()

    def path(self, table: str) -> Path:
        return self.root / check_table(table)

    def ensure_tables(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for spec in TABLES.values():
            path = self.path(spec.name)
            if DeltaTable.is_deltatable(str(path)):
                migrate_in_place(path, spec)
                continue
            with _lock_for(path):
                try:
                    DeltaTable.create(
                        str(path),
                        schema=spec.empty().to_arrow().schema,
                        mode="ignore",
                        configuration=TABLE_PROPERTIES,
                    )
                except DeltaError as exc:  # another process created it between the check and now
                    if not DeltaTable.is_deltatable(str(path)):
                        raise
                    log.debug("table %s created concurrently: %s", spec.name, exc)

    def _overwrite_where(self, table: str, frame: pl.DataFrame, predicate: str) -> None:
        spec = TABLES[table]
        data = spec.conform(frame).to_arrow()
        path = self.path(table)

        def commit() -> None:
            write_deltalake(_current(path), data, mode="overwrite", predicate=predicate)

        with _lock_for(path):
            with_commit_retry(commit, what=f"replace rows in {table}")

    def replace_sections(self, sections: pl.DataFrame, keystrokes: pl.DataFrame) -> None:
        pairs = batch_section_keys(sections, keystrokes)
        if not pairs:
            return
        predicate = key_predicate(key_frame(pairs, SECTION_KEY))
        # Keystrokes first: a section row is only visible once its presses are in place.
        self._overwrite_where(KEYSTROKES.name, keystrokes, predicate)
        self._overwrite_where(SECTIONS.name, sections, predicate)

    def upsert_sessions(self, sessions: pl.DataFrame) -> None:
        if sessions.is_empty():
            return
        pairs = [
            (check_id(p, "participant_id"), check_id(s, "session_id"))
            for p, s in sessions.select(SESSION_KEY).unique().rows()
        ]
        self._overwrite_where(SESSIONS.name, sessions, key_predicate(key_frame(pairs, SESSION_KEY)))

    def replace_participants(self, participant_ids: Sequence[str], rows: pl.DataFrame) -> None:
        ids = participant_keys(participant_ids)
        if ids.height:
            self._overwrite_where(PARTICIPANTS.name, rows, key_predicate(ids))

    def read_table(self, table: str, *, participant_id: str | None = None) -> pl.DataFrame:
        return self.scan_table(table, participant_id=participant_id).collect()

    def scan_table(self, table: str, *, participant_id: str | None = None) -> pl.LazyFrame:
        """Lazy scan, for readers that filter or aggregate before materialising."""
        spec = TABLES[check_table(table)]
        try:
            lf = pl.scan_delta(str(self.path(table)))
        except TableNotFoundError:
            return spec.empty().lazy()
        if participant_id is not None:
            lf = lf.filter(pl.col("participant_id") == participant_id)
        return lf.select([pl.col(c).cast(t) for c, t in spec.columns.items()])

    def _delete_where(self, tables: Sequence[TableSpec], predicate: str) -> int:
        """Delete the rows matching `predicate` from each table in turn (one commit each)."""
        removed = 0
        for spec in tables:
            path = self.path(spec.name)

            def delete(path: Path = path) -> dict[str, Any]:
                return _current(path).delete(predicate)

            with _lock_for(path):
                metrics = with_commit_retry(delete, what=f"delete from {spec.name}")
            removed += int(metrics.get("num_deleted_rows", 0) or 0)
        return removed

    def delete_sections(self, keys: pl.DataFrame) -> int:
        pairs = section_keys(keys)
        if not pairs:
            return 0
        return self._delete_where((SECTIONS, KEYSTROKES), key_predicate(key_frame(pairs, SECTION_KEY)))

    def delete_participants(self, participant_ids: Sequence[str]) -> int:
        ids = participant_keys(participant_ids)
        if not ids.height:
            return 0
        return self._delete_where((SECTIONS, KEYSTROKES, PARTICIPANTS, SESSIONS), key_predicate(ids))

    def maintain(self, *, retention_hours: int = 168) -> dict[str, object]:
        """Cluster each table by its key into small files, vacuum, checkpoint.

        Replacing a section rewrites every file whose statistics may hold it: clustered files
        cover narrow key ranges, so a replace rewrites one small file instead of the table's
        biggest one, and reads of many commits' tiny files become reads of a few hundred.
        """
        done: dict[str, object] = {}
        for table in TABLES:
            path = self.path(table)

            def cluster(path: Path = path, table: str = table) -> dict[str, Any]:
                dt = DeltaTable(str(path))
                stats = dt.optimize.z_order(CLUSTER_KEYS[table], target_size=CLUSTER_FILE_BYTES)
                removed = dt.vacuum(retention_hours=retention_hours, dry_run=False)
                dt.create_checkpoint()
                return {
                    "files_added": stats.get("numFilesAdded"),
                    "files_removed": stats.get("numFilesRemoved"),
                    "vacuumed": len(removed),
                }

            with _lock_for(path):
                done[table] = with_commit_retry(cluster, what=f"maintain {table}")
        return done

    def version(self, table: str) -> int:
        """Current Delta version, for readers that process only what changed."""
        return DeltaTable(str(self.path(table))).version()

    def data_version(self) -> str | None:
        """The Delta versions of the tables the dashboards read (about 2 ms each)."""
        try:
            return ".".join(str(self.version(spec.name)) for spec in (KEYSTROKES, SECTIONS, SESSIONS))
        except TableNotFoundError:
            return None
