"""The stand-in warehouse, driven by the real `databricks-sql-connector` over a socket."""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from databricks import sql as dbsql
from databricks.sql.backend.types import CommandState
from databricks.sql.exc import DatabaseError, RequestError, ServerOperationError
from urllib3.exceptions import HTTPError

from tests.support.databricks_sql_server import DatabricksSqlServer

T = "`main`.`flowtype`.`keys`"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DatabricksSqlServer]:
    with DatabricksSqlServer(tmp_path / "warehouse") as srv:
        yield srv


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    path = tmp_path / "staging"
    path.mkdir()
    return path


@pytest.fixture
def cursor(server: DatabricksSqlServer, staging: Path) -> Iterator[dbsql.client.Cursor]:
    kwargs = server.connect_kwargs(staging_allowed_local_path=str(staging))
    with dbsql.connect(**kwargs) as conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS main.flowtype")
        cur.execute(f"CREATE TABLE {T} (id BIGINT, name STRING, seen TIMESTAMP, score DOUBLE) USING DELTA")
        yield cur


def rows(cur: dbsql.client.Cursor, sql: str, params: dict | None = None) -> list[tuple]:
    cur.execute(sql, params)
    return [tuple(r) for r in cur.fetchall()]


def test_parameterised_insert_round_trips_values_exactly(cursor: dbsql.client.Cursor) -> None:
    at = dt.datetime(2026, 11, 22, 14, 30, 22, 123456, tzinfo=dt.UTC)
    hostile = 'it\'s "quoted" \\ ; DROP TABLE x; -- é漢字😀 =cmd()'
    cursor.execute(
        f"INSERT INTO {T} VALUES (:id, :name, :seen, :score)",
        {"id": 2**62, "name": hostile, "seen": at, "score": 0.1},
    )
    assert cursor.rowcount == 1
    cursor.execute(
        f"INSERT INTO {T} (id, name, seen, score) VALUES (:id, :name, :seen, :score)",
        {"id": 1, "name": None, "seen": None, "score": None},
    )
    table = pl.from_arrow(cursor.execute(f"SELECT * FROM {T} ORDER BY id").fetchall_arrow())
    assert table.rows() == [(1, None, None, None), (2**62, hostile, at, 0.1)]
    assert table.schema["seen"] == pl.Datetime("us", "Etc/UTC")


def test_values_never_travel_in_the_statement_text(
    server: DatabricksSqlServer, cursor: dbsql.client.Cursor
) -> None:
    cursor.execute(f"INSERT INTO {T} (id, name) VALUES (:id, :name)", {"id": 7, "name": "=cmd()"})
    sql, params = server.statement_log[-1]
    assert "=cmd()" not in sql and params == {"id": "7", "name": "=cmd()"}


def test_multi_row_insert_and_merge_report_counts(cursor: dbsql.client.Cursor) -> None:
    cursor.execute(
        f"INSERT INTO {T} (id, name) VALUES (:a, 'a'), (:b, 'b'), (:c, 'c')", {"a": 1, "b": 2, "c": 3}
    )
    assert cursor.rowcount == 3
    cursor.execute(
        f"""MERGE INTO {T} AS t
        USING (SELECT * FROM VALUES (2, 'B'), (4, 'D') AS v(id, name)) AS s ON t.id = s.id
        WHEN MATCHED THEN UPDATE SET t.name = s.name
        WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.name)
        WHEN NOT MATCHED BY SOURCE AND t.id = :gone THEN DELETE""",
        {"gone": 1},
    )
    counts = cursor.fetchone().asDict()
    assert counts == {
        "num_affected_rows": 3,
        "num_updated_rows": 1,
        "num_deleted_rows": 1,
        "num_inserted_rows": 1,
    }
    assert rows(cursor, f"SELECT id, name FROM {T} ORDER BY id") == [(2, "B"), (3, "c"), (4, "D")]
    cursor.execute(f"DELETE FROM {T} WHERE id > :n", {"n": 2})
    assert cursor.fetchone().num_affected_rows == 2


def test_json_parameter_unpacks_into_typed_rows(cursor: dbsql.client.Cursor) -> None:
    payload = '[{"id": 1, "name": "x\'y", "seen": 1763821822123456, "score": 1.5}, {"id": 2, "name": null, "seen": null, "score": null}]'
    cursor.execute(
        f"""INSERT INTO {T}
        SELECT id, name, timestamp_micros(seen), score
        FROM (SELECT inline(from_json(:rows, 'ARRAY<STRUCT<id: BIGINT, name: STRING, seen: BIGINT, score: DOUBLE>>')))""",
        {"rows": payload},
    )
    got = rows(cursor, f"SELECT id, name, seen, score FROM {T} ORDER BY id")
    assert got[0][:2] == (1, "x'y") and got[0][2] == dt.datetime(
        2025, 11, 22, 14, 30, 22, 123456, tzinfo=dt.UTC
    )
    assert got[1] == (2, None, None, None)


def test_large_results_arrive_in_pages_at_the_right_offsets(
    server: DatabricksSqlServer, cursor: dbsql.client.Cursor, staging: Path
) -> None:
    file = staging / "many.parquet"
    n = 25_000
    pl.DataFrame({"id": range(n), "name": [f"n{i}" for i in range(n)]}).write_parquet(file)
    cursor.execute("CREATE VOLUME IF NOT EXISTS main.flowtype.vol")
    cursor.execute(f"PUT '{file}' INTO '/Volumes/main/flowtype/vol/many.parquet' OVERWRITE")
    cursor.execute(
        f"INSERT INTO {T} (id, name) SELECT id, name FROM read_files('/Volumes/main/flowtype/vol/many.parquet', format => 'parquet')"
    )
    assert cursor.rowcount == n
    before = server.traffic()
    table = cursor.execute(f"SELECT id, name FROM {T} ORDER BY id").fetchall_arrow()
    used = server.traffic() - before
    assert table.column("id").to_pylist() == list(range(n))
    assert used.requests >= 3  # execute with the first page, then two more pages
    cursor.execute(f"SELECT id FROM {T} ORDER BY id")
    fetched = []
    while batch := cursor.fetchmany(7_000):
        fetched.extend(r.id for r in batch)
    assert fetched == list(range(n))


def test_put_read_and_remove_a_staged_file(
    server: DatabricksSqlServer, cursor: dbsql.client.Cursor, staging: Path
) -> None:
    cursor.execute("CREATE VOLUME main.flowtype.vol")
    file = staging / "part.parquet"
    pl.DataFrame({"id": [1, 2], "name": ["a", "b"]}).write_parquet(file)
    before = server.traffic()
    cursor.execute(f"PUT '{file}' INTO '/Volumes/main/flowtype/vol/in/part.parquet' OVERWRITE")
    assert (server.traffic() - before).bytes_received >= file.stat().st_size
    with pytest.raises(ServerOperationError, match="FILE_ALREADY_EXISTS"):
        cursor.execute(f"PUT '{file}' INTO '/Volumes/main/flowtype/vol/in/part.parquet'")
    assert rows(
        cursor,
        "SELECT sum(id) FROM read_files('/Volumes/main/flowtype/vol/in/part.parquet', format => 'parquet')",
    ) == [(3,)]
    assert rows(cursor, "SELECT count(*) FROM parquet.`/Volumes/main/flowtype/vol/in`") == [(2,)]
    cursor.execute("REMOVE '/Volumes/main/flowtype/vol/in/part.parquet'")
    assert not (server.volumes_root / "main" / "flowtype" / "vol" / "in" / "part.parquet").exists()
    with pytest.raises(ServerOperationError, match="FILE_NOT_FOUND"):
        cursor.execute("REMOVE '/Volumes/main/flowtype/vol/in/part.parquet'")
    with pytest.raises(ServerOperationError, match="VOLUME_NOT_FOUND"):
        cursor.execute(f"PUT '{file}' INTO '/Volumes/main/flowtype/nope/part.parquet'")


def test_sql_errors_come_back_as_server_operation_errors(cursor: dbsql.client.Cursor) -> None:
    with pytest.raises(ServerOperationError, match=r"\[TABLE_OR_VIEW_NOT_FOUND\]"):
        cursor.execute("SELECT * FROM main.flowtype.missing")
    with pytest.raises(ServerOperationError, match=r"\[UNBOUND_SQL_PARAMETER\].*nope"):
        cursor.execute(f"SELECT * FROM {T} WHERE id = :nope", {"other": 1})
    with pytest.raises(ServerOperationError, match="one statement"):
        cursor.execute("SELECT 1; SELECT 2")
    assert rows(cursor, "SELECT 1 AS one") == [(1,)]  # the session is still usable


def test_parameter_limits_of_the_real_service_are_enforced(cursor: dbsql.client.Cursor) -> None:
    """Over-limit statements come back as HTTP 400, which the connector raises as RequestError."""
    many = {f"p{i}": i for i in range(256)}
    with pytest.raises(RequestError, match="TOO_MANY_PARAMETERS"):
        cursor.execute("SELECT " + " + ".join(f":p{i}" for i in range(256)), many)
    with pytest.raises(RequestError, match="PARAMETERS_TOO_LARGE"):
        cursor.execute("SELECT length(:big)", {"big": "x" * (1024 * 1024 + 1)})
    assert rows(cursor, "SELECT length(:big)", {"big": "x" * 1024 * 1000}) == [(1024 * 1000,)]


def test_a_wrong_token_is_refused(server: DatabricksSqlServer) -> None:
    with pytest.raises(RequestError, match="Invalid access token"):
        dbsql.connect(**server.connect_kwargs(access_token="dapi" + "0" * 32))


def test_a_stopped_warehouse_fails_fast_and_comes_back_with_its_data(
    server: DatabricksSqlServer, cursor: dbsql.client.Cursor
) -> None:
    cursor.execute(f"INSERT INTO {T} (id) VALUES (:id)", {"id": 42})
    port = server.port
    server.stop()
    with pytest.raises((HTTPError, RequestError)):
        cursor.execute("SELECT 1")
    with pytest.raises((HTTPError, RequestError)):
        dbsql.connect(**server.connect_kwargs())
    server.start()
    assert server.port == port
    with pytest.raises(DatabaseError, match="Invalid SessionHandle"):  # sessions do not survive a restart
        cursor.execute("SELECT 1")
    with dbsql.connect(**server.connect_kwargs()) as conn, conn.cursor() as fresh:
        assert rows(fresh, f"SELECT id FROM {T}") == [(42,)]


def test_async_execution_polls_and_cancel_stops_a_long_query(cursor: dbsql.client.Cursor) -> None:
    cursor.execute_async(f"SELECT count(*) AS n FROM {T}")
    while cursor.is_query_pending():
        pass
    assert cursor.get_async_execution_result().fetchall()[0].n == 0
    cursor.execute_async("SELECT count(*) FROM range(100000000000)")
    assert cursor.get_query_state() == CommandState.RUNNING
    cursor.cancel()
    assert cursor.get_query_state() == CommandState.CANCELLED
    assert rows(cursor, "SELECT 3 AS three") == [(3,)]


def test_injected_failures_hit_only_matching_statements(
    server: DatabricksSqlServer, cursor: dbsql.client.Cursor
) -> None:
    server.fail_next(
        r"^MERGE", "DELTA_CONCURRENT_APPEND", "ConcurrentAppendException: files were added", times=2
    )
    assert rows(cursor, "SELECT 2 AS two") == [(2,)]
    for _ in range(2):
        with pytest.raises(
            ServerOperationError, match=r"\[DELTA_CONCURRENT_APPEND\] ConcurrentAppendException"
        ):
            cursor.execute(
                f"MERGE INTO {T} t USING (SELECT 1 AS id) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)"
            )
    cursor.execute(
        f"MERGE INTO {T} t USING (SELECT 1 AS id) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)"
    )
    assert cursor.rowcount == 1


def test_statements_and_bytes_are_counted(server: DatabricksSqlServer, cursor: dbsql.client.Cursor) -> None:
    before = server.traffic()
    noise = base64.b64encode(os.urandom(9_000)).decode()  # incompressible, so lz4 cannot shrink the reply
    cursor.execute(f"INSERT INTO {T} (id, name) VALUES (:id, :name)", {"id": 1, "name": noise})
    cursor.execute(f"SELECT * FROM {T}")
    used = server.traffic() - before
    assert used.statements == 2
    assert used.bytes_received > 10_000 and used.bytes_sent > 10_000
