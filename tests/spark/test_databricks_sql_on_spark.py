"""The SQL the Databricks backend sends runs on Spark SQL too, not only on the stand-in's DuckDB.

The real backend (`DatabricksLakehouse`, `WarehouseCatalog`) is driven through the real SQL
connector against the stand-in warehouse with catalog `spark_catalog`, so its statement log names
tables local Spark also has. Then every statement goes to Spark's own parser, and whatever local
Spark can run without Delta runs there: the DDL, the reads, and each MERGE's `USING (...)` source
(which holds the `from_json` unpacking and the row-count check), whose rows must equal what the
stand-in's DuckDB translation gives for the same source over the same tables. A statement only
DuckDB's translation accepts, or one that means something else on Spark, fails here.

Skipped, each for a stated reason (SKIPPED below); the substitutions are the only text changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.lakehouse.databricks import DatabricksLakehouse
from flowtype_core.lakehouse.databricks_rows import CHECK_FAILED, q, sql_type
from flowtype_core.pipeline.warehouse_catalog import WarehouseCatalog
from flowtype_core.schema import PARTICIPANTS, SESSIONS, TABLES
from tests.lakehouse.conftest import databricks_settings
from tests.lakehouse.rows import T0, batch, original, section, session
from tests.support.databricks_sql_dialect import significant, tokenize
from tests.support.databricks_sql_server import DatabricksSqlServer

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

pytestmark = pytest.mark.spark

CATALOG, SCHEMA = "spark_catalog", "flowtype"
# Statements that exist only on Databricks, or only with Delta, which local Spark lacks.
SKIPPED = {
    "PUT": "a file command the SQL connector runs against a Unity Catalog volume (Databricks only)",
    "REMOVE": "a file command the SQL connector runs against a Unity Catalog volume (Databricks only)",
    "LIST": "lists a Unity Catalog volume (Databricks only)",
    "CREATE VOLUME": "Unity Catalog volumes exist only on Databricks",
    "OPTIMIZE": "Delta file compaction: Delta's SQL extension, not in Spark's parser",
    "VACUUM": "Delta file cleanup: Delta's SQL extension, not in Spark's parser",
}
# Parsed in full, but not executable here: MERGE needs a Delta (or other v2) target, so its USING
# source runs instead; `USING DELTA` tables are created `USING PARQUET` (no Delta jars); Databricks'
# `read_files` table function (https://docs.databricks.com/aws/en/sql/language-manual/functions/read_files)
# reads the same Parquet file as Spark's parquet.`path`.
_READ_FILES = re.compile(r"read_files\('(?P<path>[^'\\]*)', format => 'parquet'\)")


@dataclass(frozen=True)
class Sent:
    sql: str
    params: dict[str, str | None]

    @property
    def kind(self) -> str:
        words = [t.text.upper() for t in significant(tokenize(self.sql))[:2]]
        return " ".join(words) if words == ["CREATE", "VOLUME"] else words[0]


@dataclass(frozen=True)
class Drive:
    """What the backend sent, and the stand-in it sent it to (still running, tables filled)."""

    sent: list[Sent]
    server: DatabricksSqlServer
    backend: DatabricksLakehouse


def old_sessions_table() -> str:
    """The sessions table as a writer before the `added` columns made it, so ADD COLUMNS is sent."""
    columns = ", ".join(f"{q(c)} {sql_type(t)}" for c, t in original(SESSIONS).items())
    return f"CREATE TABLE {q(CATALOG)}.{q(SCHEMA)}.`sessions` ({columns}) USING DELTA"


@pytest.fixture(scope="module")
def drive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drive]:
    """Every kind of statement the backend sends: DDL and migration, JSON and staged MERGEs,
    deletes, reads, maintenance, and a gold read of a table the job has not written."""
    root = tmp_path_factory.mktemp("dbxsql")
    with DatabricksSqlServer(root / "warehouse") as server:
        settings = databricks_settings(server, root / "data", catalog=CATALOG, schema=SCHEMA)
        backend = DatabricksLakehouse(settings)
        backend._execute(f"CREATE SCHEMA {q(CATALOG)}.{q(SCHEMA)}")
        backend._execute(old_sessions_table())
        mark = len(server.statement_log)
        backend.ensure_tables()
        backend.replace_sections(*batch(section("p1", "a_s000", 6), section("p1", "a_s001", 4)))
        backend.replace_sections(*section("p1", "a_s000", 8, user_input="the quick brown"))
        backend.upsert_sessions(session("p1", "a"))
        backend.upsert_sessions(session("p1", "a", status="completed"))
        participant = pl.DataFrame(
            {"participant_id": ["p1"], "answers": ['{"age": 30}'], "created_at": [T0], "updated_at": [T0]},
            schema_overrides=PARTICIPANTS.schema,
        ).with_columns(
            pl.lit(None, pl.String).alias(c)
            for c in ("study_id", "protocol_version", "condition", "recruitment")
        )
        backend.replace_participants(["p1"], participant)  # a null study_id: the <=> key match
        backend.delete_sections(pl.DataFrame({"participant_id": ["p1"], "test_section_id": ["a_s001"]}))
        # A NaN (which JSON cannot carry) sends the batch as staged Parquet, as a bulk batch goes;
        # its REMOVEs fail (the backend leaves the files and logs it), so the files stay for Spark
        # to read the staged MERGE sources from.
        server.fail_next(r"^REMOVE", "PERMISSION_DENIED", "cannot remove", times=3)
        staged = [section(f"p{i}", f"nan_s{i:03d}", 30, wpm=float("nan") if i else 50.0) for i in range(3)]
        backend.replace_sections(*batch(*staged))
        backend.read_table("keystrokes", participant_id="p1")
        backend.section_fingerprints()
        backend.maintain()
        gold = WarehouseCatalog(settings.databricks)
        assert gold.scan("gold_sections") is None  # not written yet: TABLE_OR_VIEW_NOT_FOUND
        gold.close()
        sent = [Sent(sql, params) for sql, params in server.statement_log[mark:]]
        yield Drive(sent, server, backend)
        backend.close()


def parse(spark: SparkSession, sql: str) -> str:
    """The logical plan node Spark's own SQL parser makes of `sql` (it raises on what it rejects)."""
    return spark._jsparkSession.sessionState().sqlParser().parsePlan(sql).nodeName()


def merge_source(sql: str) -> str:
    """The query inside a MERGE's `USING (...)`."""
    tokens = tokenize(sql)
    using = next(i for i, t in enumerate(tokens) if t.kind == "word" and t.text.upper() == "USING")
    start = next(i for i in range(using + 1, len(tokens)) if tokens[i].kind != "ws")
    assert tokens[start].text == "(", sql[:200]
    depth = 0
    for end in range(start, len(tokens)):
        depth += {"(": 1, ")": -1}.get(tokens[end].text, 0)
        if depth == 0:
            return "".join(t.text for t in tokens[start + 1 : end])
    raise AssertionError(f"unbalanced USING source: {sql[:200]}")


def on_spark(sql: str, server: DatabricksSqlServer) -> str:
    """`sql` as local Spark runs it: parquet tables for Delta ones, staged files from the stand-in's volume."""
    sql = re.sub(r"\bUSING DELTA\b", "USING PARQUET", sql)
    return _READ_FILES.sub(lambda m: f"parquet.`{server.volume_path(m['path'])}`", sql)


def normalised(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in one order, timestamps as UTC instants: the two engines' Arrow shapes differ there only."""
    naive = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone is None]
    aware = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone]
    frame = frame.with_columns(
        *(pl.col(c).dt.replace_time_zone("UTC") for c in naive),
        *(pl.col(c).dt.convert_time_zone("UTC") for c in aware),
    )
    return frame.sort(frame.columns, nulls_last=True)


def spark_rows(df: DataFrame) -> pl.DataFrame:
    frame = pl.from_arrow(df.toArrow())
    assert isinstance(frame, pl.DataFrame)
    return normalised(frame)


def test_the_drive_sends_every_kind_of_statement(drive: Drive) -> None:
    kinds = {s.kind for s in drive.sent}
    assert kinds == {"CREATE", "ALTER", "SELECT", "MERGE", *SKIPPED}
    merges = [s for s in drive.sent if s.kind == "MERGE"]
    assert any("from_json" in s.sql for s in merges) and any("read_files" in s.sql for s in merges)
    assert any("ADD COLUMNS" in s.sql for s in drive.sent)


def test_every_statement_parses_on_spark_except_the_databricks_only_ones(
    spark: SparkSession, drive: Drive
) -> None:
    for sent in drive.sent:
        if sent.kind in SKIPPED:
            # The reason holds: Spark's parser rejects it (else it belongs in the checks below).
            with pytest.raises(Exception, match="PARSE_SYNTAX_ERROR"):
                parse(spark, sent.sql)
            continue
        assert parse(spark, sent.sql), sent.sql[:200]


def test_ddl_reads_and_merge_sources_run_on_spark_as_on_the_stand_in(
    spark: SparkSession, drive: Drive
) -> None:
    spark.sql(f"DROP SCHEMA IF EXISTS {q(CATALOG)}.{q(SCHEMA)} CASCADE")
    spark.sql(f"CREATE SCHEMA {q(CATALOG)}.{q(SCHEMA)}")
    spark.sql(on_spark(old_sessions_table(), drive.server))
    for sent in drive.sent:  # the backend's DDL and migration, in the order it sent them
        if sent.kind in ("CREATE", "ALTER"):
            spark.sql(on_spark(sent.sql, drive.server))
    for name, spec in TABLES.items():  # Spark's tables as the backend's writes left the stand-in's
        columns = spark.table(f"{CATALOG}.{SCHEMA}.{name}").columns
        assert columns == list(spec.columns), name
        stored = drive.backend.read_table(name)
        spark.createDataFrame(stored.to_arrow()).select(columns).write.insertInto(
            f"{CATALOG}.{SCHEMA}.{name}", overwrite=True
        )
    queries = [(s.sql, s.params) for s in drive.sent if s.kind == "SELECT" and "gold_" not in s.sql]
    queries += [(merge_source(s.sql), s.params) for s in drive.sent if s.kind == "MERGE"]
    drops = []
    for sql, params in queries:
        got = spark_rows(spark.sql(on_spark(sql, drive.server), args=params or None))
        expected = normalised(drive.backend._warehouse.read_frame(sql, params or None))
        assert_frame_equal(got, expected, check_dtypes=False)
        assert got.schema == expected.schema, sql[:200]
        if "_ft_drop" in got.columns:  # a MERGE source: new rows arrive, stored ones are marked
            incoming = got.filter(~pl.col("_ft_drop")).height
            assert incoming > 0 or "FALSE AS `_ft_drop`" not in sql, sql[:200]
            drops.append(got.height - incoming)
    assert max(drops) > 0  # rows compared, not only empty results: stored rows matched for deletion


def test_a_missing_gold_table_has_the_error_class_the_catalog_reads(
    spark: SparkSession, drive: Drive
) -> None:
    missing = next(s.sql for s in drive.sent if "gold_sections" in s.sql)
    with pytest.raises(Exception, match="TABLE_OR_VIEW_NOT_FOUND"):
        spark.sql(missing).collect()


@pytest.mark.parametrize(
    "damage",
    [
        lambda chunk: chunk[: len(chunk) // 2],  # malformed: from_json gives NULL, inline no rows
        lambda chunk: re.sub(r'"keystroke_id":(\d+)', r'"keystroke_id":"x\1"', chunk, count=1),  # mistyped
    ],
    ids=["malformed", "mistyped"],
)
def test_spark_fails_a_lossy_chunk_with_the_backends_check(
    spark: SparkSession, drive: Drive, damage: Callable[[str], str]
) -> None:
    merge = next(s for s in drive.sent if s.kind == "MERGE" and "inline(`presses`)" in s.sql)
    source = merge_source(merge.sql)
    assert spark.sql(source, args=merge.params).count() > 0  # the chunk as sent passes
    lossy = {**merge.params, "r0": damage(merge.params["r0"] or "")}
    with pytest.raises(Exception, match=f"USER_RAISED_EXCEPTION.*{CHECK_FAILED}"):
        spark.sql(source, args=lossy).collect()
