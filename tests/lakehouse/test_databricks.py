"""What only the Databricks backend has: statement budget, staging, a warehouse that goes away, secrets."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.errors import ConfigError, InvalidInput, LakehouseUnavailable
from flowtype_core.lakehouse.databricks import STALE_STAGING_SECONDS, DatabricksLakehouse
from flowtype_core.lakehouse.databricks_rows import MAX_PARAMETERS
from flowtype_core.redaction import MASK
from flowtype_core.schema import KEYSTROKES
from flowtype_core.workspace.sql import DatabricksStatementError
from tests.lakehouse.conftest import databricks_settings
from tests.lakehouse.rows import T0, batch, ordered, section, session
from tests.support.databricks_sql_server import MAX_PARAMETER_BYTES, DatabricksSqlServer

HOSTILE = "=cmd()|' OR 1=1; --"


def statements_since(warehouse: DatabricksSqlServer, mark: int) -> list[tuple[str, dict[str, str | None]]]:
    return warehouse.statement_log[mark:]


def test_a_sentence_costs_three_parameterised_statements(
    warehouse: DatabricksSqlServer, databricks: DatabricksLakehouse
) -> None:
    sections, keystrokes = section("p1", "s_s000", 150, sentence=HOSTILE * 4, user_input=HOSTILE)
    mark = len(warehouse.statement_log)
    databricks.replace_sections(sections, keystrokes)
    databricks.upsert_sessions(session("p1", "s"))
    sent = statements_since(warehouse, mark)
    assert [sql.split()[0] for sql, _ in sent] == ["MERGE", "MERGE", "MERGE"]
    for sql, params in sent:
        assert HOSTILE not in sql and "p1" not in sql
        assert len(params) <= MAX_PARAMETERS
        assert sum(len((v or "").encode()) for v in params.values()) <= MAX_PARAMETER_BYTES
    assert any(HOSTILE in (v or "") for _, params in sent for v in params.values())


def test_a_bulk_batch_is_staged_in_the_volume_with_a_constant_number_of_statements(
    warehouse: DatabricksSqlServer, databricks: DatabricksLakehouse
) -> None:
    counts = []
    for size in (60, 120):
        parts = [section(f"p{i % 5}", f"bulk{size}_s{i:03d}", 200, sentence="x" * 80) for i in range(size)]
        sections, keystrokes = batch(*parts)
        mark = len(warehouse.statement_log)
        databricks.replace_sections(sections, keystrokes)
        sent = [sql.split()[0] for sql, _ in statements_since(warehouse, mark)]
        assert sent.count("PUT") == 3 and sent.count("MERGE") == 2 and sent.count("REMOVE") == 3
        counts.append(len(sent))
        got = databricks.read_table("keystrokes").filter(
            pl.col("test_section_id").str.starts_with(f"bulk{size}_")
        )
        assert_frame_equal(ordered(got, KEYSTROKES.key), ordered(keystrokes, KEYSTROKES.key))
    assert counts[0] == counts[1]
    assert not list(warehouse.volumes_root.rglob("*.parquet"))  # staged files are removed
    assert not list(databricks._staging.iterdir())  # and the local copies too


def test_rejected_ids_cost_no_statement(
    warehouse: DatabricksSqlServer, databricks: DatabricksLakehouse
) -> None:
    before = warehouse.traffic()
    with pytest.raises(InvalidInput):
        databricks.replace_sections(*section("p1'--", "s_s000", 3))
    with pytest.raises(InvalidInput):
        databricks.upsert_sessions(session("p1", "s'; DROP TABLE x"))
    with pytest.raises(InvalidInput, match="not in this batch"):
        sections, _ = section("p1", "s_s000", 3)
        databricks.replace_sections(sections, section("p1", "other_s001", 2)[1])
    assert (warehouse.traffic() - before).statements == 0


def test_a_warehouse_that_goes_away_raises_unavailable_and_is_used_again_when_back(
    warehouse: DatabricksSqlServer, databricks: DatabricksLakehouse
) -> None:
    first = section("p1", "s_s000", 5)
    databricks.replace_sections(*first)
    warehouse.stop()
    with pytest.raises(LakehouseUnavailable) as caught:
        databricks.replace_sections(*section("p1", "s_s001", 5))
    assert warehouse.token not in str(caught.value) and "outbox retries" in str(caught.value)
    with pytest.raises(LakehouseUnavailable):
        databricks.read_table("sections")
    warehouse.start()  # same port, same data; the old session is gone
    second = section("p1", "s_s001", 7)
    databricks.replace_sections(*second)
    assert databricks.read_table("keystrokes").height == 5 + 7


def test_a_restart_between_calls_is_invisible(
    warehouse: DatabricksSqlServer, databricks: DatabricksLakehouse
) -> None:
    databricks.replace_sections(*section("p1", "s_s000", 5))
    warehouse.stop()
    warehouse.start()
    databricks.replace_sections(*section("p1", "s_s001", 3))  # reconnects once on "Invalid SessionHandle"
    assert databricks.read_table("sections").height == 2


@pytest.mark.parametrize("token", ["dapi" + "f" * 32, "not-the-right-token-9f8e7d"])
def test_a_wrong_token_says_what_to_fix_and_never_shows_the_token(
    warehouse: DatabricksSqlServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, token: str
) -> None:
    backend = DatabricksLakehouse(databricks_settings(warehouse, tmp_path, token=token))
    with caplog.at_level(logging.DEBUG), pytest.raises(LakehouseUnavailable) as caught:
        backend.replace_sections(*section("p1", "s_s000", 2))
    message = str(caught.value)
    assert "DATABRICKS_ACCESS_TOKEN" in message and token not in message
    assert MASK in message or "Invalid access token" in message
    assert token not in caplog.text
    backend.close()


def test_commit_conflicts_are_retried_and_other_errors_are_not(
    warehouse: DatabricksSqlServer, databricks: DatabricksLakehouse
) -> None:
    warehouse.fail_next(
        r"^MERGE INTO `main`.`flowtype`.`keystrokes`",
        "DELTA_CONCURRENT_APPEND",
        "ConcurrentAppendException: Files were added to the root of the table by a concurrent update.",
        times=2,
    )
    mark = len(warehouse.statement_log)
    databricks.replace_sections(*section("p1", "s_s000", 4))
    assert len(statements_since(warehouse, mark)) == 2 + 2  # two conflicts, then both tables
    assert databricks.read_table("keystrokes").height == 4
    warehouse.fail_next(r"^MERGE", "INSUFFICIENT_PERMISSIONS", "User does not have MODIFY on table.")
    mark = len(warehouse.statement_log)
    with pytest.raises(DatabricksStatementError, match="INSUFFICIENT_PERMISSIONS"):
        databricks.replace_sections(*section("p1", "s_s001", 4))
    assert len(statements_since(warehouse, mark)) == 1


def test_concurrent_writers_of_the_same_sections_all_succeed_without_mixing_rows(
    warehouse: DatabricksSqlServer, tmp_path: Path
) -> None:
    writers = [DatabricksLakehouse(databricks_settings(warehouse, tmp_path / f"w{i}")) for i in range(3)]
    writers[0].ensure_tables()
    errors: list[BaseException] = []

    def write(backend: DatabricksLakehouse, presses: int) -> None:
        try:
            for i in range(6):  # every writer replaces the same three sections: commits conflict
                backend.replace_sections(*section("p1", f"c_s{i % 3:03d}", presses))
                backend.upsert_sessions(session("p1", "c", count=presses))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w, 20 + i)) for i, w in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    per_section = (
        writers[0]
        .read_table("keystrokes")
        .group_by("test_section_id")
        .agg(pl.len().alias("rows"), pl.col("created_at").n_unique().alias("writers"), pl.first("created_at"))
    )
    assert per_section.height == 3 and per_section["writers"].to_list() == [1, 1, 1]  # one writer's rows each
    assert all(r["rows"] == (r["created_at"] - T0).seconds for r in per_section.iter_rows(named=True))
    assert writers[0].read_table("sections").height == 3
    assert writers[0].read_table("sessions").height == 1
    for w in writers:
        w.close()


def test_maintain_compacts_and_vacuums_every_table(
    warehouse: DatabricksSqlServer, databricks: DatabricksLakehouse
) -> None:
    mark = len(warehouse.statement_log)
    done = databricks.maintain()
    sent = [sql for sql, _ in statements_since(warehouse, mark)]
    assert set(done) == {"keystrokes", "sections", "sessions", "participants", "staging"}
    for table in ("keystrokes", "sections", "sessions", "participants"):
        assert f"OPTIMIZE `main`.`flowtype`.`{table}`" in sent
        assert f"VACUUM `main`.`flowtype`.`{table}` RETAIN 168 HOURS" in sent
    assert done["staging"] == {"stale_files_removed": 0}  # nothing was ever staged


def test_maintain_removes_staged_files_an_outage_left_behind_once_they_are_old(
    warehouse: DatabricksSqlServer, databricks: DatabricksLakehouse
) -> None:
    parts = [section(f"p{i % 3}", f"left_s{i:03d}", 200, sentence="x" * 80) for i in range(60)]
    sections, keystrokes = batch(*parts)
    warehouse.fail_next(r"^REMOVE", "SERVICE_UNAVAILABLE", "the warehouse is restarting")
    databricks.replace_sections(sections, keystrokes)  # the rows land; one staged file stays behind
    left = list(warehouse.volumes_root.rglob("*.parquet"))
    assert len(left) == 1
    # A push in flight in another process: its files are young and must survive maintenance.
    young = left[0].with_name("in-flight.parquet")
    young.write_bytes(b"PAR1")
    hour_ago = time.time() - STALE_STAGING_SECONDS - 60
    os.utime(left[0], (hour_ago, hour_ago))

    done = databricks.maintain()
    assert done["staging"] == {"stale_files_removed": 1}
    assert list(warehouse.volumes_root.rglob("*.parquet")) == [young]
    assert databricks.read_table("keystrokes").height == keystrokes.height


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"server_url": "http://warehouse.example.org:8080"}, "FLOWTYPE_DATABRICKS_SERVER_URL"),
        ({"server_url": "ftp://127.0.0.1"}, "FLOWTYPE_DATABRICKS_SERVER_URL"),
        (
            {"server_url": "", "server_hostname": "https://adb-1.azuredatabricks.net/"},
            "DATABRICKS_SERVER_HOSTNAME",
        ),
        ({"catalog": "main`; DROP"}, "DATABRICKS_CATALOG"),
        ({"schema": "a.b"}, "DATABRICKS_SCHEMA"),
        ({"volume": "../v"}, "DATABRICKS_VOLUME"),
        ({"http_path": ""}, "DATABRICKS_HTTP_PATH"),
    ],
)
def test_unsafe_settings_are_refused_by_name(
    warehouse: DatabricksSqlServer, tmp_path: Path, changes: dict[str, str], setting: str
) -> None:
    with pytest.raises(ConfigError, match=setting):
        DatabricksLakehouse(databricks_settings(warehouse, tmp_path, **changes))


def test_tls_with_a_trusted_certificate_works_and_an_untrusted_one_is_refused(tmp_path: Path) -> None:
    with DatabricksSqlServer(tmp_path / "tls-warehouse", tls=True) as server:
        trusted = DatabricksLakehouse(
            databricks_settings(server, tmp_path / "a", tls_ca_file=str(server.ca_file))
        )
        assert trusted._warehouse._connect_kwargs["_connection_uri"].startswith("https://127.0.0.1:")
        sections, keystrokes = batch(
            *(section("p1", f"t_s{i:03d}", 300, sentence="y" * 90) for i in range(40))
        )
        trusted.replace_sections(sections, keystrokes)  # big enough to stage: PUT goes over TLS too
        assert trusted.read_table("keystrokes").height == keystrokes.height
        trusted.close()
        untrusted = DatabricksLakehouse(databricks_settings(server, tmp_path / "b"))
        with pytest.raises(LakehouseUnavailable, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            untrusted.read_table("sessions")
        untrusted.close()
