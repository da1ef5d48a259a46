"""The same Delta tables (keystrokes, sections, sessions, participants) in Unity Catalog, written
through a Databricks SQL warehouse.

How rows travel is `databricks_rows.py` (JSON parameters or staged Parquet, each JSON source
checked on the warehouse side); the connection, sign-in and error mapping are
`flowtype_core.workspace.sql`. Here:

- Replacing a section is one `MERGE` per table whose source is the new rows plus every stored
  row of the replaced sections marked for deletion: the old rows go and the new rows arrive in
  one Delta commit, so a re-submission never appends and readers never see half a section.
  Keystrokes go first: a section row is only visible once its presses are in place.
- Nothing connects until first use; then `ensure_tables` runs once (CREATE SCHEMA, VOLUME and
  every table IF NOT EXISTS, then ADD COLUMNS for what an older table lacks), so the signed-in
  principal needs those privileges or the objects must exist already.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from flowtype_core.config import Settings
from flowtype_core.errors import FlowTypeError
from flowtype_core.fingerprint import CONTENT_COLUMNS, section_fingerprints
from flowtype_core.ids import check_id
from flowtype_core.lakehouse.base import (
    Lakehouse,
    batch_section_keys,
    check_table,
    participant_keys,
    section_keys,
)
from flowtype_core.lakehouse.databricks_rows import (
    PER_PRESS,
    Rows,
    json_plan,
    key_spec,
    literal,
    q,
    sql_type,
)
from flowtype_core.predicates import key_frame
from flowtype_core.schema import KEYSTROKES, PARTICIPANTS, SECTIONS, SESSIONS, TABLES, TableSpec
from flowtype_core.workspace.settings import check_name, warehouse_problems
from flowtype_core.workspace.sql import DatabricksStatementError, Warehouse

log = logging.getLogger(__name__)

STALE_STAGING_SECONDS = 3600  # far longer than any push holds its staged files
DROP = "`_ft_drop`"


class DatabricksLakehouse(Lakehouse):
    """Delta tables `catalog.schema.{keystrokes,sections,sessions,participants}` behind a SQL warehouse."""

    name = "databricks"

    def __init__(self, settings: Settings) -> None:
        db = settings.databricks
        self.catalog = check_name(db.catalog, "DATABRICKS_CATALOG")
        self.schema = check_name(db.schema, "DATABRICKS_SCHEMA")
        self.volume = check_name(db.volume, "DATABRICKS_VOLUME")
        self._staging = Path(tempfile.mkdtemp(prefix="flowtype-databricks-"))
        self._warehouse = Warehouse(db, staging_dir=self._staging)
        self._lock = threading.RLock()
        self._ready = False

    @classmethod
    def settings_problems(cls, settings: Settings) -> list[str]:
        return warehouse_problems(settings.databricks)

    # names

    def table(self, name: str) -> str:
        return f"{q(self.catalog)}.{q(self.schema)}.{q(check_table(name))}"

    @property
    def volume_dir(self) -> str:
        return f"/Volumes/{self.catalog}/{self.schema}/{self.volume}/flowtype_staging"

    # the Lakehouse interface

    def ensure_tables(self) -> None:
        with self._lock:
            self._execute(f"CREATE SCHEMA IF NOT EXISTS {q(self.catalog)}.{q(self.schema)}")
            self._execute(f"CREATE VOLUME IF NOT EXISTS {q(self.catalog)}.{q(self.schema)}.{q(self.volume)}")
            for spec in TABLES.values():
                columns = ", ".join(f"{q(c)} {sql_type(t)}" for c, t in spec.columns.items())
                cluster = ", ".join(q(c) for c in spec.key[:2])
                self._execute(
                    f"CREATE TABLE IF NOT EXISTS {self.table(spec.name)} ({columns}) "
                    f"USING DELTA CLUSTER BY ({cluster})"
                )
                self._add_missing_columns(spec)
            self._ready = True

    def _add_missing_columns(self, spec: TableSpec) -> None:
        """Schema evolution in place: `ALTER TABLE ... ADD COLUMNS` for what a table predates.

        Old rows read the new columns as null. Another writer may add them first: then the
        statement fails and the columns are there, which is all that matters.
        """
        present = set(
            self._execute(f"SELECT * FROM {self.table(spec.name)} LIMIT 0", arrow=True).column_names
        )
        missing = [c for c in spec.columns if c not in present]
        if not missing:
            return
        columns = ", ".join(f"{q(c)} {sql_type(spec.columns[c])}" for c in missing)
        try:
            self._execute(f"ALTER TABLE {self.table(spec.name)} ADD COLUMNS ({columns})")
        except DatabricksStatementError:
            after = self._execute(f"SELECT * FROM {self.table(spec.name)} LIMIT 0", arrow=True).column_names
            if not set(missing) <= set(after):
                raise
        log.info("table %s: added columns %s", spec.name, missing)

    def replace_sections(self, sections: pl.DataFrame, keystrokes: pl.DataFrame) -> None:
        keys = key_frame(batch_section_keys(sections, keystrokes), SECTIONS.key)
        if keys.is_empty():
            return
        # Keystrokes first: a section row is only visible once its presses are in place.
        self._replace(
            [(Rows(KEYSTROKES, keystrokes, PER_PRESS), True), (Rows(SECTIONS, sections), True)],
            Rows(key_spec(SECTIONS.key), keys),
        )

    def upsert_sessions(self, sessions: pl.DataFrame) -> None:
        pairs = sessions.select(SESSIONS.key).unique().rows()
        keys = key_frame(
            [(check_id(p, "participant_id"), check_id(s, "session_id")) for p, s in pairs], SESSIONS.key
        )
        if keys.is_empty():
            return
        self._replace([(Rows(SESSIONS, sessions), True)], Rows(key_spec(SESSIONS.key), keys))

    def replace_participants(self, participant_ids: Sequence[str], rows: pl.DataFrame) -> None:
        keys = _participant_keys(participant_ids)
        if keys.frame.height:
            self._replace([(Rows(PARTICIPANTS, rows), True)], keys)

    def delete_sections(self, keys: pl.DataFrame) -> int:
        frame = key_frame(section_keys(keys), SECTIONS.key)
        if frame.is_empty():
            return 0
        empty = [(Rows(SECTIONS, SECTIONS.empty()), False), (Rows(KEYSTROKES, KEYSTROKES.empty()), False)]
        return self._replace(empty, Rows(key_spec(SECTIONS.key), frame))

    def delete_participants(self, participant_ids: Sequence[str]) -> int:
        keys = _participant_keys(participant_ids)
        if not keys.frame.height:
            return 0
        # One MERGE per table, as for sections; sessions last (see the interface).
        tables = (SECTIONS, KEYSTROKES, PARTICIPANTS, SESSIONS)
        return self._replace([(Rows(spec, spec.empty()), False) for spec in tables], keys)

    def read_table(self, table: str, *, participant_id: str | None = None) -> pl.DataFrame:
        spec = TABLES[check_table(table)]
        return spec.conform(self._select(spec, list(spec.columns), participant_id))

    def section_fingerprints(self) -> pl.DataFrame:
        """The shared fingerprint over only the columns it reads (no sentence text per press)."""
        keystrokes = self._select(KEYSTROKES, ["participant_id", "test_section_id", *CONTENT_COLUMNS], None)
        sections = self._select(SECTIONS, [*SECTIONS.key, "session_id", "sentence", "user_input"], None)
        return section_fingerprints(keystrokes, sections)

    def maintain(self, *, retention_hours: int = 168) -> dict[str, object]:
        """OPTIMIZE (compaction and clustering) and VACUUM every table; clear stale staged files."""
        self._ensure_ready()
        done: dict[str, object] = {}
        for name in TABLES:
            self._execute(f"OPTIMIZE {self.table(name)}")
            self._execute(f"VACUUM {self.table(name)} RETAIN {int(retention_hours)} HOURS")
            done[name] = {"optimized": True, "vacuum_retention_hours": int(retention_hours)}
        done["staging"] = {"stale_files_removed": self._remove_stale_staging()}
        return done

    def _remove_stale_staging(self) -> int:
        """Remove staged files a push could not remove itself (its REMOVE failed in an outage).

        Only files older than STALE_STAGING_SECONDS go: a push in another process may still be
        merging from younger ones.
        """
        cutoff_ms = (time.time() - STALE_STAGING_SECONDS) * 1000
        removed = 0
        for batch in self._list_volume(self.volume_dir):
            if not is_listed_folder(batch):
                continue
            folder = f"{self.volume_dir}/{batch['name'].rstrip('/')}"
            for entry in self._list_volume(folder):
                if not is_listed_folder(entry) and listed_time_ms(entry) < cutoff_ms:
                    self._execute(f"REMOVE {literal(folder + '/' + entry['name'].rstrip('/'))}")
                    removed += 1
        return removed

    def _list_volume(self, folder: str) -> list[dict[str, Any]]:
        """`LIST` of a volume folder; a folder that does not exist (nothing staged yet) is empty."""
        try:
            return [row.asDict() for row in self._execute(f"LIST {literal(folder)}")]
        except DatabricksStatementError as exc:
            if _MISSING_FOLDER.search(str(exc)):
                return []
            raise

    def close(self) -> None:
        with self._lock:
            self._warehouse.close()
            shutil.rmtree(self._staging, ignore_errors=True)

    # writing

    def _replace(self, writes: list[tuple[Rows, bool]], groups: Rows) -> int:
        """For each table: drop every stored row of `groups`, add the rows given; returns rows dropped.

        `writes` pairs the rows with whether they are inserted (False: only delete).
        """
        self._ensure_ready()
        writes = [(rows, insert and not rows.frame.is_empty()) for rows, insert in writes]
        plan = json_plan([rows for rows, _ in writes], groups)
        if plan is None:
            return self._replace_staged(writes, groups)
        dropped = 0
        group_chunks = plan.pop(groups.spec.name)
        for rows, insert in writes:
            params = {f"r{i}": chunk for i, chunk in enumerate(plan[rows.spec.name])}
            params.update({f"g{i}": chunk for i, chunk in enumerate(group_chunks)})
            incoming = rows.checked([n for n in params if n.startswith("r")]) if insert else None
            keys = groups.checked([n for n in params if n.startswith("g")])
            dropped += self._merge(rows.spec, incoming, keys, groups.spec.key, params)
        return dropped

    def _replace_staged(self, writes: list[tuple[Rows, bool]], groups: Rows) -> int:
        files = {rows.spec.name: rows.frame for rows, insert in writes if insert}
        files["keys"] = groups.frame
        dropped = 0
        with self._staged(files) as paths:
            keys = groups.from_parquet(paths["keys"])
            for rows, insert in writes:
                incoming = rows.from_parquet(paths[rows.spec.name]) if insert else None
                dropped += self._merge(rows.spec, incoming, keys, groups.spec.key, {})
        return dropped

    def _merge(
        self, spec: TableSpec, incoming: str | None, keys: str, group: tuple[str, ...], params: dict[str, str]
    ) -> int:
        target = self.table(spec.name)
        columns = [q(c) for c in spec.columns]
        stored = (
            f"SELECT {', '.join('o.' + c for c in columns)}, TRUE AS {DROP} FROM {target} AS o "
            f"INNER JOIN (SELECT DISTINCT {', '.join(q(c) for c in group)} FROM ({keys}) AS k) AS g "
            f"ON {' AND '.join(f'o.{q(c)} = g.{q(c)}' for c in group)}"
        )
        source = stored
        insert = ""
        if incoming is not None:
            source = f"SELECT {', '.join(columns)}, FALSE AS {DROP} FROM ({incoming}) AS i UNION ALL {stored}"
            insert = (
                f" WHEN NOT MATCHED AND NOT s.{DROP} THEN INSERT ({', '.join(columns)}) "
                f"VALUES ({', '.join('s.' + c for c in columns)})"
            )
        # Null-safe: a participants row without a study has a null key part.
        match = " AND ".join(f"t.{q(c)} <=> s.{q(c)}" for c in spec.key)
        rows = self._execute(
            f"MERGE INTO {target} AS t USING ({source}) AS s ON s.{DROP} AND {match} "
            f"WHEN MATCHED THEN DELETE{insert}",
            params or None,
        )
        return int(rows[0].asDict().get("num_deleted_rows", 0) or 0) if rows else 0

    @contextmanager
    def _staged(self, frames: dict[str, pl.DataFrame]) -> Iterator[dict[str, str]]:
        """Parquet files in the volume for the duration of the block; removed afterwards."""
        batch = uuid.uuid4().hex
        staged: dict[str, str] = {}
        try:
            for name, frame in frames.items():
                self._staging.mkdir(parents=True, exist_ok=True)
                local = self._staging / f"{batch}-{name}.parquet"
                remote = f"{self.volume_dir}/{batch}/{name}.parquet"
                frame.write_parquet(local)
                try:
                    self._execute(f"PUT {literal(str(local))} INTO {literal(remote)} OVERWRITE")
                finally:
                    local.unlink(missing_ok=True)
                staged[name] = remote
            yield staged
        finally:
            for remote in staged.values():
                try:
                    self._execute(f"REMOVE {literal(remote)}")
                except FlowTypeError as exc:  # a leftover file costs storage, never correctness
                    log.warning("could not remove staged file %s: %s", remote, exc)

    # reading

    def _select(self, spec: TableSpec, columns: list[str], participant_id: str | None) -> pl.DataFrame:
        self._ensure_ready()
        sql = f"SELECT {', '.join(q(c) for c in columns)} FROM {self.table(spec.name)}"
        params = None
        if participant_id is not None:
            sql += " WHERE `participant_id` = :participant_id"
            params = {"participant_id": participant_id}
        return self._warehouse.read_frame(sql, params)

    # the connection

    def _ensure_ready(self) -> None:
        if not self._ready:
            self.ensure_tables()

    def _execute(self, sql: str, params: dict[str, str] | None = None, *, arrow: bool = False) -> Any:
        return self._warehouse.execute(sql, params, arrow=arrow)


def _participant_keys(values: Sequence[str]) -> Rows:
    """Validated participant ids as the group rows of a replace (every row of each one)."""
    return Rows(key_spec(("participant_id",)), participant_keys(values))


# LIST answers path, name, size, modification_time
# (https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-syntax-aux-list); whether a folder's
# name ends in "/" and whether the time is epoch milliseconds or a TIMESTAMP is not promised, so
# both are read either way. Staging writes only `<batch>/<table>.parquet`: anything else is a folder.
_MISSING_FOLDER = re.compile(r"FILE_NOT_FOUND|PATH_NOT_FOUND|NOT_FOUND|does not exist|No such file", re.I)


def is_listed_folder(entry: dict[str, Any]) -> bool:
    """A LIST row of a folder: a trailing slash, or (without one) a name that is not a staged file."""
    name = str(entry.get("name") or "")
    return name.endswith("/") or not name.endswith(".parquet")


def listed_time_ms(entry: dict[str, Any]) -> float:
    """A LIST row's modification time as epoch milliseconds (given as a number or a timestamp)."""
    value = entry.get("modification_time")
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp() * 1000
    if isinstance(value, str):
        return listed_time_ms({"modification_time": datetime.fromisoformat(value)})
    return float(value or 0)
