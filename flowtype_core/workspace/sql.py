"""The SQL warehouse connection every Databricks part shares: sign-in, retries, error mapping.

One connection per `Warehouse`, opened at first use with the unified sign-in (`auth.py`) as the
connector's `credentials_provider`. Failures become the project's errors:
- a concurrent-commit conflict is retried with backoff (callers send idempotent statements);
- a warehouse that cannot be reached raises `LakehouseUnavailable` (the outbox retries later);
- a refused statement raises `DatabricksStatementError`, and one refused for good (HTTP 400
  `RequestError`: over a size limit, malformed) raises `PermanentStatementError`, which the outbox
  must not retry (https://docs.databricks.com/aws/en/dev-tools/python-sql-connector#troubleshooting).
Tokens are redacted from every message.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polars as pl
import urllib3.exceptions
from databricks import sql as dbsql
from databricks.sql import exc as dbsql_exc
from thrift.transport.TTransport import TTransportException

from flowtype_core.errors import ConfigError, FlowTypeError, LakehouseUnavailable, PermanentWriteError
from flowtype_core.redaction import redact, register_secret
from flowtype_core.workspace.auth import credentials_provider
from flowtype_core.workspace.settings import LOCAL_HOSTS, SIGN_IN_SETTINGS, DatabricksSettings

log = logging.getLogger(__name__)
# The connector sets its "unsafe" logger to DEBUG and dumps whole requests and result batches
# (row values included) into it; nothing of ours reads them, and scrubbing them costs seconds.
logging.getLogger("databricks.sql.unsafe").setLevel(logging.WARNING)

CONFLICT_ATTEMPTS = 8
_HOST = re.compile(r"[A-Za-z0-9.-]+")
_CONFLICT = re.compile(
    r"DELTA_CONCURRENT|Concurrent\w*Exception|MetadataChangedException|ProtocolChangedException"
)
# Raised by our own checks inside a statement (`raise_error`): the same statement fails the same way.
_PERMANENT = re.compile(r"USER_RAISED_EXCEPTION")
_UNREACHABLE = (urllib3.exceptions.HTTPError, TTransportException, OSError)  # below the connector


class DatabricksStatementError(FlowTypeError):
    """The warehouse refused a statement (permissions, a changed table, ...); the CSV store keeps the data."""


class PermanentStatementError(DatabricksStatementError, PermanentWriteError):
    """The warehouse refused a statement in a way a retry cannot fix (HTTP 400 `RequestError`)."""


class Warehouse:
    """One SQL warehouse connection, opened lazily, shared by the threads of one process."""

    def __init__(self, db: DatabricksSettings, staging_dir: Path | None = None) -> None:
        register_secret(db.token)
        register_secret(db.client_secret)
        self._db = db
        self._connect_kwargs = _connect_arguments(db)
        self._staging_allowed = staging_dir
        self._host = db.host_url
        self._conn: Any = None
        self._lock = threading.RLock()

    def execute(self, sql: str, params: dict[str, str] | None = None, *, arrow: bool = False) -> Any:
        """Run one statement; retry commit conflicts; map failures to the project's errors."""
        return self._execute(sql, params, arrow=arrow)

    def read_frame(self, sql: str, params: dict[str, str] | None = None) -> pl.DataFrame:
        """A query's rows as a polars frame, timestamps in UTC (the connector gives them naive
        or in the session's zone)."""
        frame = pl.from_arrow(self._execute(sql, params, arrow=True))
        assert isinstance(frame, pl.DataFrame)
        return frame.with_columns(
            pl.col(c).dt.convert_time_zone("UTC")
            for c, dtype in frame.schema.items()
            if isinstance(dtype, pl.Datetime)
        )

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    def _connection(self) -> Any:
        if self._conn is None:
            kwargs = dict(self._connect_kwargs, credentials_provider=credentials_provider(self._db))
            if self._staging_allowed is not None:
                kwargs["staging_allowed_local_path"] = str(self._staging_allowed)
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
                if _PERMANENT.search(message):
                    raise PermanentStatementError(
                        redact(f"the Databricks SQL warehouse refused a statement for good: {message}")
                    ) from None
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
                    if (
                        isinstance(exc, dbsql_exc.RequestError)
                        and (exc.context or {}).get("http-code") == 400
                    ):
                        raise PermanentStatementError(  # refused as sent: a retry cannot help
                            redact(f"the Databricks SQL warehouse refused a statement for good: {exc}")
                        ) from None
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
        if re.search(r"Invalid access token|\b40[13]\b|UNAUTHORIZED|Forbidden|invalid_client", detail, re.I):
            method = self._db.auth_type
            hint = f"check {SIGN_IN_SETTINGS.get(method, 'the credentials')} (sign-in: {method}); " + hint
        return redact(
            f"Databricks SQL warehouse {self._host} is unavailable ({type(exc).__name__}: {detail}); {hint}"
        )


def _connect_arguments(db: DatabricksSettings) -> dict[str, Any]:
    """`databricks.sql.connect` arguments: TLS for anything remote; plain http only on this machine."""
    if not db.http_path:
        raise ConfigError(
            "DATABRICKS_HTTP_PATH is not set: copy it from the SQL warehouse's connection details."
        )
    kwargs: dict[str, Any] = {
        "http_path": db.http_path,
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
        local = url.hostname in LOCAL_HOSTS
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
