"""A local stand-in for a Databricks SQL warehouse, driven by the real `databricks-sql-connector`.

It speaks the connector's Thrift-over-HTTP protocol with the connector's own generated
`TCLIService` code and executes statements in DuckDB (dialect in `databricks_sql_dialect`):

- sessions, `runAsync` execution with direct results, polling, Arrow result pages with the
  client's row offsets, `numModifiedRows`, cancel and close; errors as error states, so the client
  raises `ServerOperationError` with a Databricks-style `[ERROR_CLASS] message`;
- a bearer token check (a wrong token gets HTTP 403, as from the real service), and the OAuth M2M
  token endpoint that hands a service principal that token;
- Unity Catalog volumes: `CREATE VOLUME`
  (https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-syntax-ddl-create-volume), `LIST`
  (https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-syntax-aux-list), and the connector's
  `PUT ... INTO ... [OVERWRITE]` / `GET` / `REMOVE` staging commands
  (https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-syntax-aux-connector-put-into and the
  `-get`, `-remove` pages beside it; https://docs.databricks.com/aws/en/dev-tools/python-sql-connector
  "Manage files in Unity Catalog volumes") answered with presigned URLs on this same server that the
  client then calls itself, files kept under `root`;
- the production limits that shape the client: 255 parameters and 1 MiB of parameter values
  (https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-parameter-marker);
- plain http, or TLS with a self-signed certificate (`tls=True`, trust `ca_file`);
- `stop()` / `start()` on the same port and database file, to play a warehouse that goes away;
- traffic counters (`traffic()`), the statement log, and `fail_next()` to inject errors.
- `hold()` / `release()`: a warehouse at capacity, whose statements wait in its queue (PENDING).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import ipaddress
import json
import re
import secrets
import socket
import ssl
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import lz4.frame
import pyarrow as pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from databricks.sql.thrift_api.TCLIService import TCLIService, ttypes
from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.transport.TTransport import TMemoryBuffer

from tests.support.databricks_sql_dialect import (
    MERGE_SOURCE,
    Context,
    DialectError,
    Parameter,
    Translated,
    duckdb_type,
    parse_type,
    quote,
    schema_key,
    significant,
    string_value,
    tokenize,
    translate,
)

MAX_PARAMETERS = 255
MAX_PARAMETER_BYTES = 1024 * 1024
STATUS_OK = ttypes.TStatus(statusCode=ttypes.TStatusCode.SUCCESS_STATUS)
PROTOCOL = ttypes.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8
_STATE = ttypes.TOperationState
_DML_COLUMNS = {
    "insert": ("num_affected_rows", "num_inserted_rows"),
    "update": ("num_affected_rows",),
    "delete": ("num_affected_rows",),
    "merge": ("num_affected_rows", "num_updated_rows", "num_deleted_rows", "num_inserted_rows"),
}
_MERGE_ACTIONS = {"UPDATE": "num_updated_rows", "DELETE": "num_deleted_rows", "INSERT": "num_inserted_rows"}
# (DuckDB exception, pattern in its message, Databricks error class, SQLSTATE), the classes and states
# of https://docs.databricks.com/aws/en/error-messages/ (e.g. table-or-view-not-found-error-class);
# the Spark tier checks TABLE_OR_VIEW_NOT_FOUND against Spark's own.
_ERRORS = [
    (duckdb.CatalogException, r"Table with name|Table .* does not exist", "TABLE_OR_VIEW_NOT_FOUND", "42P01"),
    (duckdb.CatalogException, r"Schema with name", "SCHEMA_NOT_FOUND", "42704"),
    (duckdb.CatalogException, r"already exists", "TABLE_OR_VIEW_ALREADY_EXISTS", "42P07"),
    (duckdb.TransactionException, r"", "DELTA_CONCURRENT_APPEND", "2D521"),
    (duckdb.ParserException, r"", "PARSE_SYNTAX_ERROR", "42601"),
    (duckdb.ConversionException, r"", "CAST_INVALID_INPUT", "22018"),
    (duckdb.BinderException, r"", "UNRESOLVED_COLUMN", "42703"),
    (duckdb.InvalidInputException, r"\[USER_RAISED_EXCEPTION\]", "USER_RAISED_EXCEPTION", "P0001"),
    (duckdb.InvalidInputException, r"", "INVALID_PARAMETER_VALUE", "22023"),
    (duckdb.IOException, r"", "PATH_NOT_FOUND", "42K03"),
]
_TTYPE = ttypes.TTypeId
_refusal = threading.local()  # an HTTP refusal the Thrift handler asks its request's thread to send


@dataclass(frozen=True)
class Traffic:
    """What the clients cost: statements executed and bytes of request and response bodies."""

    statements: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0
    requests: int = 0

    def __sub__(self, other: Traffic) -> Traffic:
        return Traffic(*(a - b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, int, int, int]:
        return (self.statements, self.bytes_received, self.bytes_sent, self.requests)


@dataclass
class _Session:
    guid: bytes
    con: duckdb.DuckDBPyConnection
    catalog: str
    schema: str
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Operation:
    guid: bytes
    session: _Session
    statement: str
    done: threading.Event = field(default_factory=threading.Event)
    state: int = _STATE.RUNNING_STATE
    table: pa.Table | None = None
    offset: int = 0
    error: DialectError | None = None
    modified_rows: int | None = None
    staging: bool = False
    lz4: bool = False  # the client can read LZ4-compressed Arrow batches

    @property
    def handle(self) -> ttypes.TOperationHandle:
        return ttypes.TOperationHandle(
            operationId=ttypes.THandleIdentifier(guid=self.guid, secret=self.guid),
            operationType=ttypes.TOperationType.EXECUTE_STATEMENT,
            hasResultSet=True,
        )


@dataclass
class _StagingGrant:
    operation: str
    path: Path
    expires: float


def _new_guid() -> bytes:
    return uuid.uuid4().bytes


def _error_status(message: str, code: int = ttypes.TStatusCode.ERROR_STATUS) -> ttypes.TStatus:
    return ttypes.TStatus(statusCode=code, errorMessage=message, displayMessage=message)


def _invalid_handle(what: str) -> ttypes.TStatus:
    return _error_status(f"Invalid {what}Handle", ttypes.TStatusCode.INVALID_HANDLE_STATUS)


# --- Arrow results ---------------------------------------------------------------------------


def _result_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type the warehouse sends for a DuckDB result type."""
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", "Etc/UTC" if t.tz else None)
    if pa.types.is_unsigned_integer(t):
        return {8: pa.int16(), 16: pa.int32()}.get(t.bit_width, pa.int64())
    if pa.types.is_dictionary(t):
        return _result_type(t.value_type)
    if pa.types.is_time(t):
        return pa.string()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_result_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _result_type(f.type)) for f in t])
    return t


def _thrift_type(t: pa.DataType) -> ttypes.TTypeEntry:
    if pa.types.is_decimal(t):
        qualifiers = {
            "precision": ttypes.TTypeQualifierValue(i32Value=t.precision),
            "scale": ttypes.TTypeQualifierValue(i32Value=t.scale),
        }
        entry = ttypes.TPrimitiveTypeEntry(
            type=_TTYPE.DECIMAL_TYPE, typeQualifiers=ttypes.TTypeQualifiers(qualifiers=qualifiers)
        )
        return ttypes.TTypeEntry(primitiveEntry=entry)
    checks = [
        (pa.types.is_boolean, _TTYPE.BOOLEAN_TYPE),
        (pa.types.is_int8, _TTYPE.TINYINT_TYPE),
        (pa.types.is_int16, _TTYPE.SMALLINT_TYPE),
        (pa.types.is_int32, _TTYPE.INT_TYPE),
        (pa.types.is_int64, _TTYPE.BIGINT_TYPE),
        (pa.types.is_float32, _TTYPE.FLOAT_TYPE),
        (pa.types.is_float64, _TTYPE.DOUBLE_TYPE),
        (pa.types.is_string, _TTYPE.STRING_TYPE),
        (pa.types.is_binary, _TTYPE.BINARY_TYPE),
        (pa.types.is_timestamp, _TTYPE.TIMESTAMP_TYPE),
        (pa.types.is_date, _TTYPE.DATE_TYPE),
        (pa.types.is_null, _TTYPE.NULL_TYPE),
        (pa.types.is_list, _TTYPE.ARRAY_TYPE),
        (pa.types.is_struct, _TTYPE.STRUCT_TYPE),
        (pa.types.is_map, _TTYPE.MAP_TYPE),
    ]
    type_id = next((tid for check, tid in checks if check(t)), _TTYPE.STRING_TYPE)
    return ttypes.TTypeEntry(primitiveEntry=ttypes.TPrimitiveTypeEntry(type=type_id))


def _conform_result(table: pa.Table) -> pa.Table:
    schema = pa.schema([pa.field(f.name, _result_type(f.type)) for f in table.schema])
    return table.cast(schema) if schema != table.schema else table


def _metadata(op: _Operation) -> ttypes.TGetResultSetMetadataResp:
    assert op.table is not None
    columns = [
        ttypes.TColumnDesc(
            columnName=f.name, typeDesc=ttypes.TTypeDesc(types=[_thrift_type(f.type)]), position=i + 1
        )
        for i, f in enumerate(op.table.schema)
    ]
    return ttypes.TGetResultSetMetadataResp(
        status=STATUS_OK,
        schema=ttypes.TTableSchema(columns=columns),
        resultFormat=ttypes.TSparkRowSetType.ARROW_BASED_SET,
        lz4Compressed=op.lz4,
        arrowSchema=op.table.schema.serialize().to_pybytes(),
        isStagingOperation=op.staging,
    )


def _row_set(table: pa.Table, offset: int, lz4_ok: bool) -> ttypes.TRowSet:
    batches = []
    for batch in table.to_batches():
        payload = batch.serialize().to_pybytes()
        batches.append(
            ttypes.TSparkArrowBatch(
                batch=lz4.frame.compress(payload) if lz4_ok else payload, rowCount=batch.num_rows
            )
        )
    return ttypes.TRowSet(startRowOffset=offset, rows=[], arrowBatches=batches)


# --- the Thrift service ----------------------------------------------------------------------


class _Service:
    """`TCLIService.Iface` over DuckDB; one instance per server start."""

    def __init__(self, server: DatabricksSqlServer) -> None:
        self.server = server
        self.db = duckdb.connect(str(server.database))
        self.sessions: dict[bytes, _Session] = {}
        self.operations: dict[bytes, _Operation] = {}
        self.lock = threading.Lock()
        self._ensure_schema(server.catalog, server.schema)

    def close(self) -> None:
        with self.lock:
            sessions = list(self.sessions.values())
            self.sessions.clear()
            self.operations.clear()
        for session in sessions:
            session.con.interrupt()
            with session.lock:
                session.con.close()
        self.db.close()

    def _ensure_schema(self, catalog: str, schema: str) -> None:
        self.db.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema_key(catalog, schema))}")

    def _schema_exists(self, con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> bool:
        found = con.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?",
            [schema_key(catalog, schema)],
        ).fetchall()
        return bool(found[0][0])

    # sessions

    def OpenSession(self, req: ttypes.TOpenSessionReq) -> ttypes.TOpenSessionResp:
        namespace = req.initialNamespace
        catalog = (namespace and namespace.catalogName) or self.server.catalog
        schema = (namespace and namespace.schemaName) or self.server.schema
        con = self.db.cursor()
        if not self._schema_exists(con, catalog, schema):
            con.close()
            message = f"[SCHEMA_NOT_FOUND] The schema `{catalog}`.`{schema}` cannot be found."
            return ttypes.TOpenSessionResp(status=_error_status(message), serverProtocolVersion=PROTOCOL)
        con.execute("SET TimeZone = 'UTC'")
        session = _Session(_new_guid(), con, catalog, schema)
        self._use(session, catalog, schema)
        with self.lock:
            self.sessions[session.guid] = session
        handle = ttypes.TSessionHandle(
            sessionId=ttypes.THandleIdentifier(guid=session.guid, secret=session.guid),
            serverProtocolVersion=PROTOCOL,
        )
        return ttypes.TOpenSessionResp(
            status=STATUS_OK,
            serverProtocolVersion=PROTOCOL,
            sessionHandle=handle,
            configuration={},
            initialNamespace=ttypes.TNamespace(catalogName=catalog, schemaName=schema),
            canUseMultipleCatalogs=True,
        )

    def CloseSession(self, req: ttypes.TCloseSessionReq) -> ttypes.TCloseSessionResp:
        with self.lock:
            session = self.sessions.pop(req.sessionHandle.sessionId.guid, None)
            if session is not None:
                for guid in [g for g, op in self.operations.items() if op.session is session]:
                    del self.operations[guid]
        if session is None:
            return ttypes.TCloseSessionResp(status=_invalid_handle("Session"))
        with session.lock:
            session.con.close()
        return ttypes.TCloseSessionResp(status=STATUS_OK)

    def _use(self, session: _Session, catalog: str, schema: str) -> None:
        session.con.execute(f"SET search_path = {_search_path(catalog, schema)}")
        session.catalog, session.schema = catalog, schema

    # statements

    def ExecuteStatement(self, req: ttypes.TExecuteStatementReq) -> ttypes.TExecuteStatementResp:
        with self.lock:
            session = self.sessions.get(req.sessionHandle.sessionId.guid)
        if session is None:
            return ttypes.TExecuteStatementResp(status=_invalid_handle("Session"))
        try:
            _parameters(req.parameters or [])
        except DialectError as exc:
            # Over the statement limits the warehouse refuses the request itself: HTTP 400, which the
            # connector raises as a RequestError without retrying
            # (https://docs.databricks.com/aws/en/dev-tools/python-sql-connector).
            _refusal.reply = (400, str(exc))
            return ttypes.TExecuteStatementResp(status=STATUS_OK)
        op = _Operation(_new_guid(), session, req.statement, lz4=bool(req.canDecompressLZ4Result))
        with self.lock:
            self.operations[op.guid] = op
        self.server._record_statement(req.statement, req.parameters or [])
        threading.Thread(target=self._run, args=(op, req.parameters or []), daemon=True).start()
        resp = ttypes.TExecuteStatementResp(status=STATUS_OK, operationHandle=op.handle)
        wanted = req.getDirectResults
        if wanted is not None:
            op.done.wait(self.server.direct_results_wait)
            resp.directResults = self._direct_results(op, wanted)
        return resp

    def _direct_results(
        self, op: _Operation, wanted: ttypes.TSparkGetDirectResults
    ) -> ttypes.TSparkDirectResults:
        direct = ttypes.TSparkDirectResults(operationStatus=self._status(op))
        if op.state != _STATE.FINISHED_STATE:
            return direct
        direct.resultSetMetadata = _metadata(op)
        direct.resultSet = self._fetch(op, wanted.maxRows, wanted.maxBytes)
        if not direct.resultSet.hasMoreRows:
            direct.closeOperation = ttypes.TCloseOperationResp(status=STATUS_OK)
            self._forget(op.guid)
        return direct

    def _run(self, op: _Operation, parameters: list[ttypes.TSparkParameter]) -> None:
        self.server._queue(op)
        try:
            with op.session.lock:
                self.server._maybe_inject(op.statement)
                self._execute(op, parameters)
            if op.state != _STATE.CANCELED_STATE:
                op.state = _STATE.FINISHED_STATE
        except DialectError as exc:
            op.error, op.state = exc, _STATE.ERROR_STATE
        except Exception as exc:  # every failure must reach the client as an error state
            if op.state != _STATE.CANCELED_STATE:
                op.error, op.state = self._map_error(exc), _STATE.ERROR_STATE
        finally:
            op.done.set()

    def _map_error(self, exc: Exception) -> DialectError:
        message = str(exc).replace(str(self.server.volumes_root), "/Volumes").split("\n")[0]
        for kind, pattern, error_class, sql_state in _ERRORS:
            if isinstance(exc, kind) and re.search(pattern, message):
                return DialectError(error_class, message, sql_state)
        return DialectError("INTERNAL_ERROR", f"{type(exc).__name__}: {message}", "XX000")

    def _execute(self, op: _Operation, parameters: list[ttypes.TSparkParameter]) -> None:
        named, positional = _parameters(parameters)
        tokens = significant(tokenize(op.statement))
        words = [t.text.upper() if t.kind == "word" else t.text for t in tokens[:4]]
        first = words[0] if words else ""
        if first in ("PUT", "GET", "REMOVE"):
            op.staging = True
            op.table = self.server._staging(first, tokens)
            return
        if first == "LIST":
            op.table = self.server.list_volume(tokens)
            return
        if first == "USE":
            op.table = self._use_statement(op.session, tokens)
            return
        if words[:2] == ["CREATE", "CATALOG"]:
            op.table = pa.table({})
            return
        if words[:2] in (["CREATE", "VOLUME"], ["DROP", "VOLUME"]):
            op.table = self._volume_statement(op.session, tokens)
            return
        if words[:2] in (
            ["CREATE", "SCHEMA"],
            ["CREATE", "DATABASE"],
            ["DROP", "SCHEMA"],
            ["DROP", "DATABASE"],
        ):
            op.table = self._schema_statement(op.session, tokens)
            return
        if words[:2] == ["ALTER", "TABLE"] and any(t.text.upper() == "ADD" for t in tokens):
            op.table = self._add_columns(op.session, tokens)
            return
        # Delta file maintenance: nothing to do here, but the table must exist
        # (https://docs.databricks.com/aws/en/sql/language-manual/delta-optimize,
        # https://docs.databricks.com/aws/en/sql/language-manual/delta-vacuum).
        if first in ("OPTIMIZE", "VACUUM"):
            sql = f"SELECT CAST(NULL AS VARCHAR) AS path FROM {_table_name(tokens, 1, op.session)} LIMIT 0"
            op.table = _conform_result(op.session.con.sql(sql).to_arrow_table())
            return
        ctx = Context(op.session.catalog, named, positional, self.server.volume_path)
        translated = translate(op.statement, ctx)
        con = op.session.con
        if translated.kind == "query":
            op.table = _conform_result(con.sql(translated.sql, params=translated.parameters).to_arrow_table())
            return
        if translated.merge_source is not None:
            # One MERGE at a time: DuckDB lets two transactions insert the same new keys, where
            # Delta makes the later commit conflict (ConcurrentAppend) and its writer retry; run
            # in turn, they end as Delta's do. Conflicts themselves are injected with `fail_next`.
            with self.server.merge_lock:
                rows = _merge(con, translated)
        else:
            rows = con.execute(translated.sql, translated.parameters).fetchall()
        if translated.kind in _DML_COLUMNS:
            op.table, op.modified_rows = _dml_result(translated.kind, rows)
        else:
            op.table = pa.table({})

    def _add_columns(self, session: _Session, tokens: list) -> pa.Table:
        """`ALTER TABLE t ADD COLUMN[S] (c T, ...)`, all columns or none, as Delta's schema evolution.

        Follows https://docs.databricks.com/en/sql/language-manual/sql-ref-syntax-ddl-alter-table-manage-column.html:
        existing rows read the new columns as NULL; a column that exists already fails the
        statement with FIELDS_ALREADY_EXISTS (42710). DuckDB takes one ADD COLUMN per statement,
        so the columns are added in one transaction.
        """
        table = _table_name(tokens, 2, session)
        add = next(i for i, t in enumerate(tokens) if t.text.upper() == "ADD")
        rest = tokens[add + 1 :]
        if rest and rest[0].text.upper() in ("COLUMN", "COLUMNS"):
            rest = rest[1:]
        if rest and rest[0].text == "(" and rest[-1].text == ")":
            rest = rest[1:-1]
        fields = parse_type(" ".join(t.text for t in rest))
        if not isinstance(fields, dict):
            raise DialectError("PARSE_SYNTAX_ERROR", "ADD COLUMNS expects `name type, ...`", "42601")
        con = session.con
        present = {c.lower() for c in con.sql(f"SELECT * FROM {table} LIMIT 0").columns}
        clash = [name for name in fields if name.lower() in present]
        if clash:
            raise DialectError(
                "FIELDS_ALREADY_EXISTS", f"Cannot add column, because `{clash[0]}` already exists.", "42710"
            )
        con.execute("BEGIN")
        try:
            for name, parsed in fields.items():
                con.execute(f"ALTER TABLE {table} ADD COLUMN {quote(name)} {duckdb_type(parsed)}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return pa.table({})

    def _use_statement(self, session: _Session, tokens: list) -> pa.Table:
        names = [t for t in tokens[1:] if t.kind in ("word", "ident")]
        what = names[0].text.upper() if len(names) > 1 else "SCHEMA"
        parts = [n.text.strip("`") for n in (names[1:] if len(names) > 1 else names) if n.text != "."]
        if what == "CATALOG":
            catalog, schema = parts[0], "default"
        else:
            catalog, schema = (parts[0], parts[1]) if len(parts) == 2 else (session.catalog, parts[0])
        if not self._schema_exists(session.con, catalog, schema):
            raise DialectError(
                "SCHEMA_NOT_FOUND", f"The schema `{catalog}`.`{schema}` cannot be found.", "42704"
            )
        self._use(session, catalog, schema)
        return pa.table({})

    def _schema_statement(self, session: _Session, tokens: list) -> pa.Table:
        parts, if_clause = _object_name(tokens, 2)
        catalog, schema = (parts[0], parts[1]) if len(parts) == 2 else (session.catalog, parts[0])
        verb = tokens[0].text.upper()
        if_part = f"IF {'NOT ' if verb == 'CREATE' else ''}EXISTS " if if_clause else ""
        cascade = " CASCADE" if any(t.text.upper() == "CASCADE" for t in tokens) else ""
        session.con.execute(f"{verb} SCHEMA {if_part}{quote(schema_key(catalog, schema))}{cascade}")
        return pa.table({})

    def _volume_statement(self, session: _Session, tokens: list) -> pa.Table:
        parts, if_clause = _object_name(tokens, 2)
        parts = [session.catalog, session.schema, *parts][-3:]
        if not self._schema_exists(session.con, parts[0], parts[1]):
            raise DialectError(
                "SCHEMA_NOT_FOUND", f"The schema `{parts[0]}`.`{parts[1]}` cannot be found.", "42704"
            )
        directory = self.server.volumes_root.joinpath(*(p.lower() for p in parts))
        if tokens[0].text.upper() == "CREATE":
            if directory.is_dir() and not if_clause:
                raise DialectError(
                    "VOLUME_ALREADY_EXISTS", f"Volume `{'`.`'.join(parts)}` already exists.", "42000"
                )
            directory.mkdir(parents=True, exist_ok=True)
        elif directory.is_dir():
            _remove_tree(directory)
        elif not if_clause:
            raise DialectError("VOLUME_NOT_FOUND", f"Volume `{'`.`'.join(parts)}` does not exist.", "42704")
        return pa.table({})

    def _status(self, op: _Operation) -> ttypes.TGetOperationStatusResp:
        resp = ttypes.TGetOperationStatusResp(
            status=STATUS_OK, operationState=op.state, hasResultSet=True, numModifiedRows=op.modified_rows
        )
        if op.error is not None:
            resp.errorMessage = resp.displayMessage = str(op.error)
            resp.sqlState = op.error.sql_state
        return resp

    def _operation(self, handle: ttypes.TOperationHandle) -> _Operation | None:
        with self.lock:
            return self.operations.get(handle.operationId.guid)

    def _forget(self, guid: bytes) -> None:
        with self.lock:
            self.operations.pop(guid, None)

    def GetOperationStatus(self, req: ttypes.TGetOperationStatusReq) -> ttypes.TGetOperationStatusResp:
        op = self._operation(req.operationHandle)
        if op is None:
            return ttypes.TGetOperationStatusResp(status=_invalid_handle("Operation"))
        op.done.wait(0.5)  # long poll: the client asks again at once
        return self._status(op)

    def GetResultSetMetadata(self, req: ttypes.TGetResultSetMetadataReq) -> ttypes.TGetResultSetMetadataResp:
        op = self._operation(req.operationHandle)
        if op is None or op.table is None:
            return ttypes.TGetResultSetMetadataResp(status=_invalid_handle("Operation"))
        return _metadata(op)

    def FetchResults(self, req: ttypes.TFetchResultsReq) -> ttypes.TFetchResultsResp:
        op = self._operation(req.operationHandle)
        if op is None or op.table is None:
            return ttypes.TFetchResultsResp(status=_invalid_handle("Operation"))
        if req.orientation == ttypes.TFetchOrientation.FETCH_FIRST:
            op.offset = 0
        resp = self._fetch(op, req.maxRows, req.maxBytes)
        if req.includeResultSetMetadata:
            resp.resultSetMetadata = _metadata(op)
        return resp

    def _fetch(self, op: _Operation, max_rows: int | None, max_bytes: int | None) -> ttypes.TFetchResultsResp:
        assert op.table is not None
        total = op.table.num_rows
        rows = min(max_rows or self.server.page_rows, self.server.page_rows, total - op.offset)
        if max_bytes and total:
            rows = max(1, min(rows, max_bytes // max(1, op.table.nbytes // total)))
        page = op.table.slice(op.offset, max(rows, 0))
        row_set = _row_set(page, op.offset, op.lz4)
        op.offset += page.num_rows
        return ttypes.TFetchResultsResp(status=STATUS_OK, hasMoreRows=op.offset < total, results=row_set)

    def CloseOperation(self, req: ttypes.TCloseOperationReq) -> ttypes.TCloseOperationResp:
        if self._operation(req.operationHandle) is None:
            return ttypes.TCloseOperationResp(status=_invalid_handle("Operation"))
        self._forget(req.operationHandle.operationId.guid)
        return ttypes.TCloseOperationResp(status=STATUS_OK)

    def CancelOperation(self, req: ttypes.TCancelOperationReq) -> ttypes.TCancelOperationResp:
        op = self._operation(req.operationHandle)
        if op is None:
            return ttypes.TCancelOperationResp(status=_invalid_handle("Operation"))
        if not op.done.is_set():
            op.state = _STATE.CANCELED_STATE
            op.session.con.interrupt()
        return ttypes.TCancelOperationResp(status=STATUS_OK)


def _merge(con: duckdb.DuckDBPyConnection, translated: Translated) -> list[tuple[Any, ...]]:
    """MERGE from a materialised source, in one transaction."""
    assert translated.merge_source is not None
    source = translated.merge_source
    con.execute("BEGIN")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {MERGE_SOURCE} AS {source.sql}", source.parameters)
        rows = con.execute(translated.sql, translated.parameters).fetchall()
        con.execute(f"DROP TABLE {MERGE_SOURCE}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return rows


def _search_path(catalog: str, schema: str) -> str:
    return "'" + quote(schema_key(catalog, schema)).replace("'", "''") + "'"


def _parameters(parameters: list[ttypes.TSparkParameter]) -> tuple[dict[str, Parameter], list[Parameter]]:
    if len(parameters) > MAX_PARAMETERS:
        raise DialectError(
            "TOO_MANY_PARAMETERS",
            f"{len(parameters)} parameters; a statement takes at most {MAX_PARAMETERS}.",
            "54000",
        )
    size = sum(len((p.value.stringValue or "").encode()) for p in parameters if p.value is not None)
    if size > MAX_PARAMETER_BYTES:
        raise DialectError(
            "PARAMETERS_TOO_LARGE",
            f"{size} bytes of parameter values; the limit is {MAX_PARAMETER_BYTES}.",
            "54000",
        )
    named: dict[str, Parameter] = {}
    positional: list[Parameter] = []
    for p in parameters:
        if p.arguments:
            raise DialectError(
                "UNSUPPORTED_FEATURE", "ARRAY and MAP parameters are not supported here.", "0A000"
            )
        param = Parameter(p.type or "STRING", p.value.stringValue if p.value is not None else None)
        if p.name:
            named[p.name] = param
        else:
            positional.append(param)
    return named, positional


def _dml_result(kind: str, rows: list[tuple[Any, ...]]) -> tuple[pa.Table, int]:
    columns = _DML_COLUMNS[kind]
    counts = dict.fromkeys(columns, 0)
    if kind == "merge":
        for (action,) in rows:
            counts[_MERGE_ACTIONS[action]] += 1
        counts["num_affected_rows"] = len(rows)
    else:
        affected = int(rows[0][0]) if rows else 0
        counts = dict.fromkeys(columns, affected)
    table = pa.table({name: pa.array([value], pa.int64()) for name, value in counts.items()})
    return table, counts["num_affected_rows"]


def _object_name(tokens: list, start: int) -> tuple[list[str], bool]:
    """The dotted name after `CREATE X [IF [NOT] EXISTS]`, and whether the IF clause was there."""
    i = start
    if_clause = i < len(tokens) and tokens[i].text.upper() == "IF"
    while if_clause and tokens[i].text.upper() != "EXISTS":
        i += 1
    i += 1 if if_clause else 0
    parts = []
    while i < len(tokens) and tokens[i].kind in ("word", "ident"):
        parts.append(tokens[i].text[1:-1] if tokens[i].kind == "ident" else tokens[i].text)
        if i + 1 < len(tokens) and tokens[i + 1].text == ".":
            i += 2
        else:
            break
    if not parts:
        raise DialectError("PARSE_SYNTAX_ERROR", "expected a name", "42601")
    return parts, if_clause


def _table_name(tokens: list, start: int, session: _Session) -> str:
    parts, _ = _object_name(tokens, start)
    parts = [session.catalog, session.schema, *parts][-3:]
    return f"{quote(schema_key(parts[0], parts[1]))}.{quote(parts[2])}"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost (made once per root, kept across restarts)."""
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    if cert_file.is_file() and key_file.is_file():
        return cert_file, key_file
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flowtype stand-in warehouse")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_file, key_file


def _remove_tree(path: Path) -> None:
    for child in sorted(path.rglob("*"), reverse=True):
        child.rmdir() if child.is_dir() else child.unlink()
    path.rmdir()


# --- HTTP ------------------------------------------------------------------------------------


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: DatabricksSqlServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK stalls
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        self.server.owner._track(self.connection, False)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read the counters, not an access log."""

    def _body(self) -> bytes:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.owner._count(received=len(body))
        return body

    def _reply(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.server.owner._count(sent=len(body))  # before the client can see the reply and read counters
        self.wfile.write(body)

    def do_POST(self) -> None:
        owner = self.server.owner
        body = self._body()
        if self.path == "/oidc/v1/token":
            self._token_grant(body)
            return
        if self.path.split("?")[0] != owner.http_path:
            self._reply(404, b"no warehouse at this path")
            return
        if self.headers.get("Authorization") != f"Bearer {owner.token}":
            reason = "Invalid access token." if self.headers.get("Authorization") else "Missing access token."
            self._reply(403, reason.encode(), {"x-databricks-reason-phrase": reason})
            return
        _refusal.reply = None
        reply = owner._thrift(body)
        if _refusal.reply is not None:
            code, reason = _refusal.reply
            self._reply(code, reason.encode(), {"x-databricks-reason-phrase": reason})
            return
        self._reply(200, reply, {"Content-Type": "application/x-thrift"})

    def do_PUT(self) -> None:
        self._staging("PUT")

    def do_GET(self) -> None:
        if self.path == "/oidc/.well-known/oauth-authorization-server":
            # OAuth M2M discovery, then a client-credentials grant at the token endpoint
            # (https://docs.databricks.com/aws/en/dev-tools/auth/oauth-m2m).
            base = self.server.owner.url
            body = {
                "authorization_endpoint": f"{base}/oidc/v1/authorize",
                "token_endpoint": f"{base}/oidc/v1/token",
            }
            self._reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
            return
        if self.path == "/.well-known/databricks-config":
            # Host metadata: where the workspace's OIDC endpoints are (databricks-sdk reads
            # `oidc_endpoint` from it to find the token endpoint for OAuth).
            body = {"oidc_endpoint": f"{self.server.owner.url}/oidc", "workspace_id": "1234567890"}
            self._reply(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
            return
        self._staging("GET")

    def _token_grant(self, body: bytes) -> None:
        """The client-credentials grant: HTTP Basic with the service principal's id and secret."""
        owner = self.server.owner
        form = dict(urllib.parse.parse_qsl(body.decode()))
        expected = "Basic " + base64.b64encode(f"{owner.client_id}:{owner.client_secret}".encode()).decode()
        if form.get("grant_type") != "client_credentials" or self.headers.get("Authorization") != expected:
            self._reply(401, b'{"error": "invalid_client"}', {"Content-Type": "application/json"})
            return
        owner.tokens_granted += 1
        grant = {"access_token": owner.token, "token_type": "Bearer", "expires_in": 3600, "scope": "all-apis"}
        self._reply(200, json.dumps(grant).encode(), {"Content-Type": "application/json"})

    def do_DELETE(self) -> None:
        self._staging("REMOVE")

    def _staging(self, method: str) -> None:
        body = self._body()
        grant = self.server.owner._redeem(self.path, method)
        if grant is None:
            self._reply(403, b"presigned URL is invalid, expired or already used")
        elif method == "PUT":
            grant.path.parent.mkdir(parents=True, exist_ok=True)
            partial = grant.path.with_name(f".{grant.path.name}.{secrets.token_hex(4)}.partial")
            partial.write_bytes(body)
            partial.replace(grant.path)
            self._reply(201)
        elif not grant.path.is_file():
            self._reply(404, b"file not found")
        elif method == "GET":
            self._reply(200, grant.path.read_bytes(), {"Content-Type": "application/octet-stream"})
        else:
            grant.path.unlink()
            self._reply(204)


class DatabricksSqlServer:
    """The stand-in warehouse on 127.0.0.1; state lives in `root` and survives stop/start."""

    def __init__(
        self,
        root: str | Path,
        *,
        token: str = "dapi0123456789abcdef0123456789abcdef",
        catalog: str = "main",
        schema: str = "default",
        http_path: str = "/sql/1.0/warehouses/flowtype0local",
        page_rows: int = 10_000,
        direct_results_wait: float = 10.0,
        tls: bool = False,
        client_id: str = "flowtype-app-sp",
        client_secret: str = "dose0123456789abcdef",
    ) -> None:
        self.root = Path(root)
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens_granted = 0
        self.database = self.root / "warehouse.duckdb"
        self.volumes_root = self.root / "volumes"
        self.token = token
        self.catalog = catalog
        self.schema = schema
        self.http_path = http_path
        self.page_rows = page_rows
        self.direct_results_wait = direct_results_wait
        self.tls = tls
        self.statement_log: list[tuple[str, dict[str, str | None]]] = []
        self._port = 0
        self._httpd: _HttpServer | None = None
        self._service: _Service | None = None
        self._processor: TCLIService.Processor | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._grants: dict[str, _StagingGrant] = {}
        self._failures: list[tuple[re.Pattern[str], DialectError, int]] = []
        self._traffic = Traffic()
        self._lock = threading.Lock()
        self.merge_lock = threading.Lock()
        self._admitting = threading.Event()
        self._admitting.set()
        self._queued = 0

    # lifecycle

    def start(self) -> DatabricksSqlServer:
        """Listen (on the port of the previous start, if any) and open the database."""
        if self._httpd is not None:
            return self
        self.root.mkdir(parents=True, exist_ok=True)
        self.volumes_root.mkdir(exist_ok=True)
        self._service = _Service(self)
        self._processor = TCLIService.Processor(self._service)
        httpd = _HttpServer(("127.0.0.1", self._port), _Handler)
        httpd.owner = self
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*_self_signed(self.root / "tls"))
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self._port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Go away like a stopped warehouse: refuse connections, drop open ones, forget sessions
        (and the statements held in its queue)."""
        self.release()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
            self._connections.clear()
            self._grants.clear()
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join()
        if self._service is not None:
            self._service.close()
            self._service = None

    def __enter__(self) -> DatabricksSqlServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self._port}"

    @property
    def ca_file(self) -> Path:
        """The self-signed certificate a client must trust when `tls` is on."""
        return _self_signed(self.root / "tls")[0]

    def connect_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for `databricks.sql.connect` that reach this server quickly."""
        kwargs: dict[str, Any] = {
            "server_hostname": "127.0.0.1",
            "http_path": self.http_path,
            "access_token": self.token,
            "_connection_uri": self.url + self.http_path,
            "enable_telemetry": False,
            "_retry_stop_after_attempts_count": 1,
            "_retry_delay_min": 0.1,
            "_socket_timeout": 10,
        }
        if self.tls:
            kwargs["_tls_trusted_ca_file"] = str(self.ca_file)
        kwargs.update(overrides)
        return kwargs

    # what the tests read and steer

    def traffic(self) -> Traffic:
        with self._lock:
            return self._traffic

    def fail_next(self, pattern: str, error_class: str, message: str, *, times: int = 1) -> None:
        """Make the next `times` statements matching `pattern` fail, e.g. with a commit conflict."""
        with self._lock:
            self._failures.append(
                (re.compile(pattern, re.I | re.S), DialectError(error_class, message, "XX000"), times)
            )

    def hold(self) -> None:
        """Queue every statement from now until `release()`, as a warehouse at capacity does: a
        statement waits in the queue, reported PENDING to the polling client, and starts once there
        is room (https://docs.databricks.com/aws/en/compute/sql-warehouse/warehouse-behavior,
        "Queueing and autoscaling")."""
        self._admitting.clear()

    def release(self) -> None:
        """Start the queued statements and admit new ones at once again."""
        self._admitting.set()

    def queued(self) -> int:
        """Statements that have waited in the queue since the server was made."""
        with self._lock:
            return self._queued

    def volume_path(self, path: str) -> Path:
        """Local file behind `/Volumes/<catalog>/<schema>/<volume>/...`; the volume must exist."""
        parts = path.split("/")
        if len(parts) < 6 or parts[:2] != ["", "Volumes"] or any(p in ("", ".", "..") for p in parts[2:]):
            raise DialectError("INVALID_VOLUME_PATH", f"{path!r} is not a file path in a volume.", "42000")
        volume = self.volumes_root.joinpath(*(p.lower() for p in parts[2:5]))
        if not volume.is_dir():
            raise DialectError(
                "VOLUME_NOT_FOUND", f"Volume `{'`.`'.join(parts[2:5])}` does not exist.", "42704"
            )
        return volume.joinpath(*parts[5:])

    def list_volume(self, tokens: list) -> pa.Table:
        """`LIST '<volume path>'`: the entries of a volume folder as Databricks lists them
        (path, name with a trailing slash for folders, size, modification_time in epoch ms)."""
        literals = [string_value(t) for t in tokens if t.kind == "str"]
        if len(literals) != 1:
            raise DialectError("PARSE_SYNTAX_ERROR", "cannot parse the LIST command", "42601")
        remote = literals[0].rstrip("/")
        folder = self.volume_path(remote)
        if not folder.is_dir():
            raise DialectError("FILE_NOT_FOUND", f"{remote} does not exist.", "42K03")
        entries = sorted(e for e in folder.iterdir() if not e.name.startswith("."))
        names = [e.name + ("/" if e.is_dir() else "") for e in entries]
        return pa.table(
            {
                "path": pa.array([f"{remote}/{n}" for n in names], pa.string()),
                "name": pa.array(names, pa.string()),
                "size": pa.array([0 if e.is_dir() else e.stat().st_size for e in entries], pa.int64()),
                "modification_time": pa.array(
                    [e.stat().st_mtime_ns // 1_000_000 for e in entries], pa.int64()
                ),
            }
        )

    # internals used by the service and the handler

    def _track(self, conn: socket.socket, opened: bool) -> None:
        with self._lock:
            (self._connections.add if opened else self._connections.discard)(conn)

    def _count(self, *, received: int = 0, sent: int = 0) -> None:
        with self._lock:
            t = self._traffic
            self._traffic = Traffic(
                t.statements, t.bytes_received + received, t.bytes_sent + sent, t.requests
            )

    def _record_statement(self, sql: str, parameters: list[ttypes.TSparkParameter]) -> None:
        values = {
            p.name or str(i): (p.value.stringValue if p.value else None) for i, p in enumerate(parameters)
        }
        with self._lock:
            t = self._traffic
            self._traffic = Traffic(t.statements + 1, t.bytes_received, t.bytes_sent, t.requests)
            self.statement_log.append((sql, values))

    def _queue(self, op: _Operation) -> None:
        if self._admitting.is_set():
            return
        with self._lock:
            self._queued += 1
        op.state = _STATE.PENDING_STATE
        self._admitting.wait()
        op.state = _STATE.RUNNING_STATE

    def _maybe_inject(self, sql: str) -> None:
        with self._lock:
            for i, (pattern, error, times) in enumerate(self._failures):
                if pattern.search(sql):
                    if times > 1:
                        self._failures[i] = (pattern, error, times - 1)
                    else:
                        del self._failures[i]
                    raise error

    def _thrift(self, body: bytes) -> bytes:
        with self._lock:
            t = self._traffic
            self._traffic = Traffic(t.statements, t.bytes_received, t.bytes_sent, t.requests + 1)
        out = TMemoryBuffer()
        assert self._processor is not None
        self._processor.process(
            TBinaryProtocol(TMemoryBuffer(body), string_length_limit=None, container_length_limit=None),
            TBinaryProtocol(out),
        )
        return out.getvalue()

    def _staging(self, command: str, tokens: list) -> pa.Table:
        """The staging instruction for PUT/GET/REMOVE; the client then calls the presigned URL."""
        literals = [string_value(t) for t in tokens if t.kind == "str"]
        words = [t.text.upper() for t in tokens if t.kind == "word"]
        if command == "PUT" and len(literals) == 2 and "INTO" in words:
            local, remote = literals
        elif command == "GET" and len(literals) == 2 and "TO" in words:
            remote, local = literals
        elif command == "REMOVE" and len(literals) == 1:
            remote, local = literals[0], None
        else:
            raise DialectError("PARSE_SYNTAX_ERROR", f"cannot parse the {command} command", "42601")
        path = self.volume_path(remote)
        if command == "PUT" and path.exists() and "OVERWRITE" not in words:
            raise DialectError(
                "FILE_ALREADY_EXISTS", f"{remote} exists; add OVERWRITE to replace it.", "42000"
            )
        if command != "PUT" and not path.is_file():
            raise DialectError("FILE_NOT_FOUND", f"{remote} does not exist.", "42K03")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[token] = _StagingGrant(command, path, time.monotonic() + 300)
        return pa.table(
            {
                "operation": [command],
                "presignedUrl": [f"{self.url}/staging/{token}"],
                "localFile": pa.array([local], pa.string()),
                "headers": [json.dumps({})],
            }
        )

    def _redeem(self, url_path: str, method: str) -> _StagingGrant | None:
        token = url_path.removeprefix("/staging/")
        with self._lock:
            grant = self._grants.pop(token, None)
        if grant is None or grant.operation != method or grant.expires < time.monotonic():
            return None
        return grant
