"""The Databricks backend signs in any supported way and never loses rows silently.

Against the stand-in warehouse (`tests/support/databricks_sql_server.py`), through the real SQL
connector: OAuth M2M as a Databricks App's service principal gets a token from the workspace's
token endpoint; a JSON chunk that parses to fewer rows fails the MERGE and deletes nothing; an
over-limit statement (HTTP 400) is a permanent error; LIST rows in either documented shape are read.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flowtype_core.config import DatabricksSettings
from flowtype_core.errors import ConfigError, LakehouseUnavailable, PermanentWriteError
from flowtype_core.lakehouse import databricks_rows
from flowtype_core.lakehouse.databricks import DatabricksLakehouse, is_listed_folder, listed_time_ms
from flowtype_core.workspace.auth import sdk_config
from flowtype_core.workspace.sql import PermanentStatementError
from tests.lakehouse.conftest import databricks_settings
from tests.lakehouse.rows import batch, section
from tests.support.databricks_sql_server import DatabricksSqlServer


def test_a_service_principal_signs_in_with_oauth_m2m(warehouse: DatabricksSqlServer, tmp_path: Path) -> None:
    settings = databricks_settings(
        warehouse, tmp_path, token="", client_id=warehouse.client_id, client_secret=warehouse.client_secret
    )
    assert settings.databricks.auth_type == "oauth-m2m"
    backend = DatabricksLakehouse(settings)
    try:
        sections, keystrokes = batch(section("p1", "t_m2m", 5))
        backend.replace_sections(sections, keystrokes)
        assert backend.read_table("keystrokes").height == 5
    finally:
        backend.close()
    assert warehouse.tokens_granted >= 1  # the bearer token came from the token endpoint, not a PAT
    assert sdk_config(settings.databricks).auth_type == "oauth-m2m"


def test_a_wrong_client_secret_is_refused(warehouse: DatabricksSqlServer, tmp_path: Path) -> None:
    settings = databricks_settings(
        warehouse, tmp_path, token="", client_id=warehouse.client_id, client_secret="wrong-secret"
    )
    backend = DatabricksLakehouse(settings)
    with pytest.raises(
        LakehouseUnavailable, match=r"invalid_client.*DATABRICKS_CLIENT_SECRET \(sign-in: oauth-m2m\)"
    ) as caught:
        backend.read_table("sections")
    backend.close()
    assert "wrong-secret" not in str(caught.value)
    assert warehouse.tokens_granted == 0


def test_incomplete_credentials_name_what_is_missing() -> None:
    db = DatabricksSettings(server_hostname="adb-1.azuredatabricks.net", client_id="only-an-id")
    with pytest.raises(ConfigError, match="DATABRICKS_CLIENT_SECRET is not set"):
        sdk_config(db)


# A lenient from_json (Databricks', Spark's, the stand-in's) parses a malformed chunk as NULL (no
# rows) and a mistyped field of valid JSON as a NULL field (rows with a value missing).
LOSSY_CHUNKS = {
    "malformed": lambda chunk: chunk.replace('"keystroke_id":', '"keystroke_id":"x', 1),
    "mistyped": lambda chunk: re.sub(r'"keystroke_id":(\d+)', r'"keystroke_id":"x\1"', chunk, count=1),
}


@pytest.mark.parametrize("damage", LOSSY_CHUNKS)
def test_a_chunk_that_parses_to_fewer_rows_or_values_fails_and_deletes_nothing(
    databricks: DatabricksLakehouse, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    sections, keystrokes = batch(section("p1", "t_keep", 12))
    databricks.replace_sections(sections, keystrokes)
    resent, new_presses = batch(section("p1", "t_keep", 20))
    honest = databricks_rows.Rows.json_chunks

    def lossy(rows: databricks_rows.Rows) -> list[str]:
        chunks = honest(rows)
        return [LOSSY_CHUNKS[damage](c) if rows.spec.name == "keystrokes" else c for c in chunks]

    monkeypatch.setattr(databricks_rows.Rows, "json_chunks", lossy)
    with pytest.raises(PermanentStatementError, match=databricks_rows.CHECK_FAILED) as caught:
        databricks.replace_sections(resent, new_presses)
    assert isinstance(caught.value, PermanentWriteError)
    monkeypatch.undo()
    stored = databricks.read_table("keystrokes")
    assert stored.height == 12  # the MERGE changed nothing: the old section is whole
    assert stored["keystroke_id"].sort().to_list() == list(range(12))


def test_an_over_limit_statement_is_a_permanent_error(databricks: DatabricksLakehouse) -> None:
    params = {f"p{i}": "x" for i in range(databricks_rows.MAX_PARAMETERS + 1)}
    sql = "SELECT " + ", ".join(f":{name}" for name in params)
    with pytest.raises(PermanentStatementError, match="400|TOO_MANY_PARAMETERS"):
        databricks._execute(sql, params)
    assert databricks.read_table("sections").height == 0  # the connection still works afterwards


@pytest.mark.parametrize(
    ("entry", "folder", "ms"),
    [
        ({"name": "batch1/", "modification_time": 0}, True, 0.0),
        ({"name": "batch1", "modification_time": 0}, True, 0.0),  # a folder without the slash
        ({"name": "keys.parquet", "modification_time": 1_700_000_000_000}, False, 1_700_000_000_000.0),
        (
            {"name": "keys.parquet", "modification_time": datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)},
            False,
            1_700_000_000_000.0,
        ),
        (
            {"name": "keys.parquet", "modification_time": datetime(2023, 11, 14, 22, 13, 20)},
            False,
            1_700_000_000_000.0,
        ),
    ],
)
def test_list_rows_are_read_in_either_documented_shape(entry: dict, folder: bool, ms: float) -> None:
    assert is_listed_folder(entry) is folder
    assert listed_time_ms(entry) == ms
