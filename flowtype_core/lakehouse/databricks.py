"""The same Delta tables (keystrokes, sections, sessions, participants) in Unity Catalog, written through a Databricks SQL warehouse.

How rows travel (SQL is always parameterised; only validated names and staging paths are text):

- A small batch (one sentence: ~50-150 presses, its section row, its session row) goes as JSON in
  native named parameters (`:r0`, `:g0`, ...) that the warehouse unpacks with
  `inline(from_json(...))`. Presses of one section share their context columns, so they are sent
  once per section with the presses nested under it. One statement per table: a sentence costs
  two statements in `replace_sections` and one in `upsert_sessions`.
- A batch too big for one statement (255 parameters, 1 MB of values), or holding NaN floats that
  JSON cannot carry, is written to Parquet, `PUT` into the Unity Catalog volume, merged from
  `read_files(...)`, and removed: a constant number of statements however many rows.
- Replacing a section is one `MERGE` per table whose source is the new rows plus every stored
  row of the replaced sections marked for deletion: the old rows go and the new rows arrive in
  one Delta commit, so a re-submission never appends and readers never see half a section.
- Concurrent-commit conflicts are retried with backoff (every statement is idempotent); a
  warehouse that cannot be reached raises `LakehouseUnavailable` with the token redacted.
- Nothing connects until first use; then `ensure_tables` runs once (CREATE SCHEMA, VOLUME and
  every table IF NOT EXISTS, then ADD COLUMNS for what an older table lacks), so the token's
  principal needs those privileges or the objects must exist already.
"""

from __future__ import annotations

import logging
import random
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polars as pl
import urllib3.exceptions
from databricks import sql as dbsql
from databricks.sql import exc as dbsql_exc
from thrift.transport.TTransport import TTransportException

from flowtype_core.config import DatabricksSettings, Settings
from flowtype_core.errors import ConfigError, FlowTypeError, LakehouseUnavailable
from flowtype_core.fingerprint import CONTENT_COLUMNS, section_fingerprints
from flowtype_core.ids import check_id
from flowtype_core.lakehouse.base import Lakehouse, batch_section_keys, check_table, section_keys
from flowtype_core.redaction import redact, register_secret
from flowtype_core.schema import KEYSTROKES, PARTICIPANTS, SECTIONS, SESSIONS, TABLES, TableSpec

log = logging.getLogger(__name__)
# The connector sets its "unsafe" logger to DEBUG and dumps whole requests and result batches
# (row values included) into it; nothing of ours reads them, and scrubbing them costs seconds.
logging.getLogger("databricks.sql.unsafe").setLevel(logging.WARNING)

MAX_PARAMETERS = 255
PARAMETER_BYTES = 900_000  # per statement, under the warehouse's 1 MB of parameter values
CHUNK_BYTES = 256 * 1024  # one JSON parameter holds at most this much
CONFLICT_ATTEMPTS = 8
STALE_STAGING_SECONDS = 3600  # far longer than any push holds its staged files
MIN_JSON_ROW_BYTES = 60  # no press or table row encodes shorter: larger frames go straight to staging
PER_PRESS = ("keystroke_id", "press_time", "release_time", "letter", "keycode")
NESTED = "presses"
DROP = "`_ft_drop`"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,254}")
_HOST = re.compile(r"[A-Za-z0-9.-]+")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_CONFLICT = re.compile(
    r"DELTA_CONCURRENT|Concurrent\w*Exception|MetadataChangedException|ProtocolChangedException"
)
_UNREACHABLE = (urllib3.exceptions.HTTPError, TTransportException, OSError)  # below the connector
_SQL_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "STRING",
    pl.Int64: "BIGINT",
    pl.Int32: "INT",
    pl.Int16: "SMALLINT",
    pl.Int8: "TINYINT",
    pl.Float64: "DOUBLE",
    pl.Float32: "FLOAT",
    pl.Boolean: "BOOLEAN",
    pl.Date: "DATE",
    pl.Datetime: "TIMESTAMP",
}


class DatabricksStatementError(FlowTypeError):
    """The warehouse refused a statement (permissions, a changed table, ...); the CSV store keeps the data."""


def q(name: str) -> str:
    """A backtick-quoted identifier; names reaching here are validated or come from the contracts."""
    return f"`{name}`"


def sql_type(dtype: pl.DataType) -> str:
    """The Databricks SQL type of a contract column (timestamps are UTC instants: TIMESTAMP)."""
    return _SQL_TYPES[dtype.base_type()]


def check_name(value: str, setting: str) -> str:
    """A Unity Catalog name from configuration, safe to quote with backticks."""
    if not _NAME.fullmatch(value or ""):
        raise ConfigError(
            f"{setting}={value!r} is not a valid Unity Catalog name: use letters, digits, '_' or '-'."
        )
    return value


def _literal(text: str) -> str:
    """A Spark string literal for paths (never for row values, which always travel as parameters)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _is_timestamp(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.Datetime)


class _Rows:
    """A frame on its way to the warehouse: as JSON parameters, or as a staged Parquet file."""

    def __init__(self, spec: TableSpec, frame: pl.DataFrame, nested: Sequence[str] = ()) -> None:
        self.spec = spec
        self.frame = spec.conform(frame)
        self.nested = tuple(nested)

    @property
    def exact_in_json(self) -> bool:
        """JSON has no NaN or infinity; such frames travel as Parquet."""
        floats = [c for c, t in self.spec.columns.items() if t.is_float()]
        if not floats or self.frame.is_empty():
            return True
        return not self.frame.select(pl.any_horizontal(~pl.col(floats).is_finite()).any()).item()

    def json_chunks(self) -> list[str]:
        """JSON arrays of at most `CHUNK_BYTES` (one object per row, or per section with presses nested)."""
        shaped = self.frame.select(
            pl.col(c).dt.epoch("us") if _is_timestamp(t) else pl.col(c) for c, t in self.spec.columns.items()
        )
        if self.nested:
            shared = [c for c in self.spec.columns if c not in self.nested]
            shaped = shaped.group_by(shared, maintain_order=True).agg(pl.struct(self.nested).alias(NESTED))
        lines = [line for line in shaped.write_ndjson().split("\n") if line]
        chunks: list[list[str]] = [[]]
        size = 2
        for line in lines:
            width = len(line.encode()) + 1
            if chunks[-1] and size + width > CHUNK_BYTES:
                chunks.append([])
                size = 2
            chunks[-1].append(line)
            size += width
        return ["[" + ",".join(chunk) + "]" for chunk in chunks if chunk]

    def json_schema(self) -> str:
        def field(name: str) -> str:
            dtype = self.spec.columns[name]
            return f"{name}: {'BIGINT' if _is_timestamp(dtype) else sql_type(dtype)}"

        fields = [field(c) for c in self.spec.columns if c not in self.nested]
        if self.nested:
            fields.append(f"{NESTED}: ARRAY<STRUCT<{', '.join(field(c) for c in self.nested)}>>")
        return f"ARRAY<STRUCT<{', '.join(fields)}>>"

    def from_json(self, names: Sequence[str]) -> str:
        """A query over the JSON parameters `names`, with the contract's columns and types."""
        schema = self.json_schema()
        source = " UNION ALL ".join(f"SELECT inline(from_json(:{n}, '{schema}'))" for n in names)
        if self.nested:
            shared = ", ".join(q(c) for c in self.spec.columns if c not in self.nested)
            source = f"SELECT {shared}, inline({q(NESTED)}) FROM ({source}) AS j"
        columns = ", ".join(
            f"timestamp_micros({q(c)}) AS {q(c)}" if _is_timestamp(t) else q(c)
            for c, t in self.spec.columns.items()
        )
        return f"SELECT {columns} FROM ({source}) AS r"

    def from_parquet(self, path: str) -> str:
        columns = ", ".join(q(c) for c in self.spec.columns)
        return f"SELECT {columns} FROM read_files({_literal(path)}, format => 'parquet')"


class DatabricksLakehouse(Lakehouse):
    """Delta tables `catalog.schema.{keystrokes,sections,sessions,participants}` behind a SQL warehouse."""

    name = "databricks"

    def __init__(self, settings: Settings) -> None:
        db = settings.databricks
        self.catalog = check_name(db.catalog, "DATABRICKS_CATALOG")
        self.schema = check_name(db.schema, "DATABRICKS_SCHEMA")
        self.volume = check_name(db.volume, "DATABRICKS_VOLUME")
        register_secret(db.token)
        self._connect_kwargs = _connect_arguments(db)
        self._host = db.host_url
        self._conn: Any = None
        self._staging: Path | None = None
        self._lock = threading.RLock()
        self._ready = False

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
        keys = _key_frame(batch_section_keys(sections, keystrokes), SECTIONS.key)
        if keys.is_empty():
            return
        # Keystrokes first: a section row is only visible once its presses are in place.
        self._replace(
            [(_Rows(KEYSTROKES, keystrokes, PER_PRESS), True), (_Rows(SECTIONS, sections), True)],
            _Rows(_key_spec(SECTIONS.key), keys),
        )

    def upsert_sessions(self, sessions: pl.DataFrame) -> None:
        pairs = sessions.select(SESSIONS.key).unique().rows()
        keys = _key_frame(
            [(check_id(p, "participant_id"), check_id(s, "session_id")) for p, s in pairs], SESSIONS.key
        )
        if keys.is_empty():
            return
        self._replace([(_Rows(SESSIONS, sessions), True)], _Rows(_key_spec(SESSIONS.key), keys))

    def replace_participants(self, participant_ids: Sequence[str], rows: pl.DataFrame) -> None:
        ids = sorted({check_id(p, "participant_id") for p in participant_ids})
        if ids:
            keys = pl.DataFrame({"participant_id": ids}, schema={"participant_id": pl.String})
            self._replace([(_Rows(PARTICIPANTS, rows), True)], _Rows(_key_spec(("participant_id",)), keys))

    def delete_sections(self, keys: pl.DataFrame) -> int:
        frame = _key_frame(section_keys(keys), SECTIONS.key)
        if frame.is_empty():
            return 0
        empty = [(_Rows(SECTIONS, SECTIONS.empty()), False), (_Rows(KEYSTROKES, KEYSTROKES.empty()), False)]
        return self._replace(empty, _Rows(_key_spec(SECTIONS.key), frame))

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
            if not batch["name"].endswith("/"):
                continue
            folder = f"{self.volume_dir}/{batch['name'].rstrip('/')}"
            for entry in self._list_volume(folder):
                if not entry["name"].endswith("/") and entry["modification_time"] < cutoff_ms:
                    self._execute(f"REMOVE {_literal(folder + '/' + entry['name'])}")
                    removed += 1
        return removed

    def _list_volume(self, folder: str) -> list[dict[str, Any]]:
        """`LIST` of a volume folder; a folder that does not exist (nothing staged yet) is empty."""
        try:
            return [row.asDict() for row in self._execute(f"LIST {_literal(folder)}")]
        except DatabricksStatementError as exc:
            if "FILE_NOT_FOUND" in str(exc) or "does not exist" in str(exc):
                return []
            raise

    def close(self) -> None:
        with self._lock:
            self._drop_connection()
            if self._staging is not None:
                shutil.rmtree(self._staging, ignore_errors=True)
                self._staging = None

    # writing

    def _replace(self, writes: list[tuple[_Rows, bool]], groups: _Rows) -> int:
        """For each table: drop every stored row of `groups`, add the rows given; returns rows dropped.

        `writes` pairs the rows with whether they are inserted (False: only delete).
        """
        self._ensure_ready()
        writes = [(rows, insert and not rows.frame.is_empty()) for rows, insert in writes]
        plan = _json_plan([rows for rows, _ in writes], groups)
        if plan is None:
            return self._replace_staged(writes, groups)
        dropped = 0
        group_chunks = plan.pop(groups.spec.name)
        for rows, insert in writes:
            params = {f"r{i}": chunk for i, chunk in enumerate(plan[rows.spec.name])}
            params.update({f"g{i}": chunk for i, chunk in enumerate(group_chunks)})
            incoming = rows.from_json([n for n in params if n.startswith("r")]) if insert else None
            keys = groups.from_json([n for n in params if n.startswith("g")])
            dropped += self._merge(rows.spec, incoming, keys, groups.spec.key, params)
        return dropped

    def _replace_staged(self, writes: list[tuple[_Rows, bool]], groups: _Rows) -> int:
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
                local = self._staging_dir() / f"{batch}-{name}.parquet"
                remote = f"{self.volume_dir}/{batch}/{name}.parquet"
                frame.write_parquet(local)
                try:
                    self._execute(f"PUT {_literal(str(local))} INTO {_literal(remote)} OVERWRITE")
                finally:
                    local.unlink(missing_ok=True)
                staged[name] = remote
            yield staged
        finally:
            for remote in staged.values():
                try:
                    self._execute(f"REMOVE {_literal(remote)}")
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
        table = self._execute(sql, params, arrow=True)
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame.with_columns(
            pl.col(c).dt.convert_time_zone("UTC") for c in columns if isinstance(frame.schema[c], pl.Datetime)
        )

    # the connection

    def _ensure_ready(self) -> None:
        if not self._ready:
            self.ensure_tables()

    def _staging_dir(self) -> Path:
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="flowtype-databricks-"))
        return self._staging

    def _connection(self) -> Any:
        if self._conn is None:
            kwargs = {**self._connect_kwargs, "staging_allowed_local_path": str(self._staging_dir())}
            try:
                self._conn = dbsql.connect(**kwargs)
            except (dbsql_exc.Error, *_UNREACHABLE) as exc:
                raise LakehouseUnavailable(self._unavailable(exc)) from None
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception as exc:  # the session may already be gone with the server
                log.debug("dropping the Databricks connection: %s", redact(exc))

    def _execute(self, sql: str, params: dict[str, str] | None = None, *, arrow: bool = False) -> Any:
        """Run one statement; retry commit conflicts; map failures to the project's errors."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return self._run(sql, params, arrow)
            except dbsql_exc.ServerOperationError as exc:
                message = getattr(exc, "message", None) or str(exc)
                if not _CONFLICT.search(message) or attempt == CONFLICT_ATTEMPTS:
                    raise DatabricksStatementError(
                        redact(f"the Databricks SQL warehouse rejected a statement: {message}")
                    ) from None
                delay = min(4.0, 0.05 * 2**attempt) * (0.5 + random.random())
                log.info("concurrent commit, retry %d in %.0f ms: %s", attempt, delay * 1e3, redact(message))
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _run(self, sql: str, params: dict[str, str] | None, arrow: bool) -> Any:
        with self._lock:
            for fresh_session in (False, True):
                conn = self._connection()
                try:
                    with conn.cursor() as cursor:
                        cursor.execute(sql, params)
                        if arrow:
                            return cursor.fetchall_arrow()
                        return cursor.fetchall() if cursor.description else []
                except dbsql_exc.ServerOperationError:
                    raise
                except dbsql_exc.DatabaseError as exc:
                    self._drop_connection()
                    if "Invalid SessionHandle" in str(exc) and not fresh_session:
                        continue  # the warehouse restarted and forgot our session: open a new one
                    raise LakehouseUnavailable(self._unavailable(exc)) from None
                except _UNREACHABLE as exc:
                    self._drop_connection()
                    raise LakehouseUnavailable(self._unavailable(exc)) from None
        raise AssertionError("unreachable")

    def _unavailable(self, exc: BaseException) -> str:
        detail = getattr(exc, "message", None) or str(exc)
        hint = "the CSV store keeps the data and the outbox retries"
        if re.search(r"Invalid access token|\b40[13]\b|UNAUTHORIZED|Forbidden", detail, re.I):
            hint = "check DATABRICKS_ACCESS_TOKEN (or DATABRICKS_PROFILE); " + hint
        return redact(
            f"Databricks SQL warehouse {self._host} is unavailable ({type(exc).__name__}: {detail}); {hint}"
        )


def _key_spec(columns: tuple[str, ...]) -> TableSpec:
    return TableSpec("keys", dict.fromkeys(columns, pl.String), columns)


def _key_frame(pairs: list[tuple[str, str]], columns: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame(pairs, schema=dict.fromkeys(columns, pl.String), orient="row")


def _json_plan(writes: list[_Rows], groups: _Rows) -> dict[str, list[str]] | None:
    """JSON chunks per table when every statement fits the parameter limits; None means stage files."""
    if any(rows.frame.height * MIN_JSON_ROW_BYTES > PARAMETER_BYTES for rows in writes):
        return None
    if not all(rows.exact_in_json for rows in writes):
        return None
    plan = {rows.spec.name: rows.json_chunks() for rows in [*writes, groups]}
    group_chunks = plan[groups.spec.name]
    for rows in writes:
        chunks = plan[rows.spec.name] + group_chunks
        if len(chunks) > MAX_PARAMETERS or sum(len(c.encode()) for c in chunks) > PARAMETER_BYTES:
            return None
    return plan


def _connect_arguments(db: DatabricksSettings) -> dict[str, Any]:
    """`databricks.sql.connect` arguments: TLS for anything remote; plain http only on this machine."""
    if not db.http_path:
        raise ConfigError(
            "DATABRICKS_HTTP_PATH is not set: copy it from the SQL warehouse's connection details."
        )
    kwargs: dict[str, Any] = {
        "http_path": db.http_path,
        "access_token": db.token,
        "enable_telemetry": False,
        "user_agent_entry": "flowtype",
        "_retry_stop_after_attempts_count": 5,
        "_retry_stop_after_attempts_duration": 60,
        "_socket_timeout": 120,
    }
    if db.tls_ca_file:
        kwargs["_tls_trusted_ca_file"] = db.tls_ca_file
    if db.server_url:
        url = urlsplit(db.server_url)
        local = url.hostname in _LOCAL_HOSTS
        if url.scheme not in ("http", "https") or (url.scheme == "http" and not local):
            raise ConfigError(
                f"FLOWTYPE_DATABRICKS_SERVER_URL={db.server_url!r}: use https:// (plain http is only "
                "accepted for a server on 127.0.0.1 or localhost)."
            )
        kwargs["server_hostname"] = url.hostname
        kwargs["_connection_uri"] = db.server_url.rstrip("/") + "/" + db.http_path.lstrip("/")
        if local:  # nothing to wait for on this machine: fail fast, the outbox retries
            kwargs.update(_retry_stop_after_attempts_count=1, _retry_delay_min=0.1, _socket_timeout=30)
        return kwargs
    if not _HOST.fullmatch(db.server_hostname or ""):
        raise ConfigError(
            f"DATABRICKS_SERVER_HOSTNAME={db.server_hostname!r} is not a host name "
            "(expected something like adb-1234567890123456.7.azuredatabricks.net)."
        )
    kwargs["server_hostname"] = db.server_hostname
    return kwargs
