"""The local backend's cached table handles: fresh enough to be cheap, never stale."""

from __future__ import annotations

from pathlib import Path

from deltalake import DeltaTable, write_deltalake

from flowtype_core.config import Settings
from flowtype_core.lakehouse import local_delta
from flowtype_core.lakehouse.local_delta import (
    REOPEN_AFTER_VERSIONS,
    TABLE_PROPERTIES,
    LocalDeltaLakehouse,
)
from tests.lakehouse.rows import section


def held(lake: LocalDeltaLakehouse, table: str) -> tuple[object, int]:
    return local_delta._open_tables[str(lake.path(table).resolve())]


def test_a_handle_is_reopened_once_it_has_moved_on_enough_versions(tmp_path: Path) -> None:
    lake = LocalDeltaLakehouse(Settings(data_dir=tmp_path))
    lake.replace_sections(*section("p1", "s1_s000", 3))
    first, opened = held(lake, "keystrokes")
    for i in range(1, REOPEN_AFTER_VERSIONS):
        lake.replace_sections(*section("p1", f"s1_s{i:03d}", 3))
    assert held(lake, "keystrokes")[0] is first  # still within the window: kept and brought forward
    lake.replace_sections(*section("p1", "s1_s999", 3))
    again, reopened = held(lake, "keystrokes")
    assert again is not first and reopened >= opened + REOPEN_AFTER_VERSIONS
    assert lake.read_table("keystrokes").height == 3 * (REOPEN_AFTER_VERSIONS + 1)


def test_a_commit_by_another_writer_is_seen_before_the_next_replace(tmp_path: Path) -> None:
    lake = LocalDeltaLakehouse(Settings(data_dir=tmp_path))
    lake.replace_sections(*section("p1", "s1_s000", 3))
    sections, keystrokes = section("p1", "s1_s001", 4)
    write_deltalake(str(lake.path("keystrokes")), keystrokes.to_arrow(), mode="append")  # elsewhere
    lake.replace_sections(*section("p1", "s1_s001", 2))  # replaces the other writer's rows too
    stored = lake.read_table("keystrokes")
    assert sorted(stored["test_section_id"].value_counts().rows()) == [("s1_s000", 3), ("s1_s001", 2)]


def test_new_tables_carry_the_properties_that_keep_commits_flat(tmp_path: Path) -> None:
    lake = LocalDeltaLakehouse(Settings(data_dir=tmp_path))
    for table in ("keystrokes", "sections", "sessions", "participants"):
        configured = DeltaTable(str(lake.path(table))).metadata().configuration
        assert TABLE_PROPERTIES.items() <= configured.items(), table
