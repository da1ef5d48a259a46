"""Tables written side by side: every write lands, a failure surfaces, and no watermark or manifest
is recorded before the tables it vouches for, so the next run redoes the work."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.pipeline import local_context, run_targets
from flowtype_core.pipeline.catalog import Catalog, LocalDeltaCatalog, TableWrite
from flowtype_core.pipeline.layers.gold import GOLD_APP, GOLD_MARKER_TABLE
from flowtype_core.pipeline.tables import (
    BRONZE_KEYSTROKES,
    BRONZE_SECTIONS,
    BRONZE_SOURCES,
    GOLD_DIGRAPHS,
    GOLD_SECTIONS,
    PIPELINE_TABLES,
)

MEDALLION = ["bronze", "silver", "gold"]


def failing_write(monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    """Make every write to `table` fail (after the other writes of its batch have started)."""
    original = LocalDeltaCatalog.write

    def write(self: LocalDeltaCatalog, name: str, frame: Any, **kwargs: Any) -> int:
        if name == table:
            raise OSError(f"disk full while writing {name}")
        return original(self, name, frame, **kwargs)

    monkeypatch.setattr(LocalDeltaCatalog, "write", write)


SILVER_AND_GOLD = [t for t in PIPELINE_TABLES if not t.startswith("bronze")]
GOLD = [t for t in PIPELINE_TABLES if t.startswith("gold")]


def assert_as_a_clean_run_writes(data_dir: Path, tables: list[str]) -> None:
    """`tables` hold what one clean run over the same session files writes (times aside)."""
    clean = local_context(data_dir.parent / "clean")
    clean.sessions_dir = data_dir / "sessions"
    run_targets(MEDALLION, clean)
    for table in tables:
        actual, expected = (
            ctx.catalog.to_polars(ctx.catalog.scan(table)).drop("_ingested_at", "_processed_at", strict=False)
            for ctx in (local_context(data_dir), clean)
        )
        assert_frame_equal(actual.sort(pl.all()), expected.sort(pl.all()))


def test_write_all_writes_every_table_side_by_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = LocalDeltaCatalog(tmp_path / "lakehouse")
    threads: set[str] = set()
    original = LocalDeltaCatalog.write

    def write(self: LocalDeltaCatalog, table: str, frame: Any, **kwargs: Any) -> int:
        threads.add(threading.current_thread().name)
        return original(self, table, frame, **kwargs)

    monkeypatch.setattr(LocalDeltaCatalog, "write", write)
    writes = [TableWrite(f"t{i}", pl.DataFrame({"x": list(range(i + 1))})) for i in range(3)]

    assert catalog.write_all(writes) == [1, 2, 3]

    assert {f"t{i}": catalog.to_polars(catalog.scan(f"t{i}")).height for i in range(3)} == {
        "t0": 1,
        "t1": 2,
        "t2": 3,
    }
    assert threading.current_thread().name not in threads  # written on worker threads


def test_write_all_raises_a_failure_after_the_other_writes_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = LocalDeltaCatalog(tmp_path / "lakehouse")
    failing_write(monkeypatch, "bad")
    writes = [TableWrite("good", pl.DataFrame({"x": [1, 2]})), TableWrite("bad", pl.DataFrame({"x": [3]}))]

    with pytest.raises(OSError, match="disk full while writing bad"):
        catalog.write_all(writes)

    assert catalog.version("good") == 0  # committed, not abandoned half-way
    assert catalog.version("bad") is None


@pytest.mark.parametrize("catalog_write_all", [LocalDeltaCatalog.write_all, Catalog.write_all])
def test_write_all_refuses_two_writes_to_one_table(
    tmp_path: Path, catalog_write_all: Callable[..., Any]
) -> None:
    catalog = LocalDeltaCatalog(tmp_path / "lakehouse")
    frame = pl.DataFrame({"x": [1]})

    with pytest.raises(ValueError, match="distinct tables"):
        catalog_write_all(catalog, [TableWrite("t", frame), TableWrite("t", frame)])

    assert catalog.version("t") is None


def test_a_failed_bronze_write_records_no_manifest_and_the_next_run_ingests_again(
    store_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = store_copy(3)
    with monkeypatch.context() as patched:
        failing_write(patched, BRONZE_SECTIONS)
        with pytest.raises(OSError, match=BRONZE_SECTIONS):
            run_targets(["bronze"], local_context(data_dir))
    catalog = local_context(data_dir).catalog
    assert catalog.version(BRONZE_SOURCES) is None
    first_copy = catalog.to_polars(catalog.scan(BRONZE_KEYSTROKES)).height  # its partner committed

    results = run_targets(MEDALLION, local_context(data_dir))

    assert results[0].tables[BRONZE_KEYSTROKES] == first_copy  # ingested again, in full
    assert_as_a_clean_run_writes(data_dir, SILVER_AND_GOLD)  # silver keeps the latest copy


def test_a_failed_gold_write_leaves_no_watermark_and_the_next_run_redoes_gold(
    store_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = store_copy(3)
    run_targets(["bronze", "silver"], local_context(data_dir))
    with monkeypatch.context() as patched:
        failing_write(patched, GOLD_DIGRAPHS)
        with pytest.raises(OSError, match=GOLD_DIGRAPHS):
            run_targets(["gold"], local_context(data_dir))
    catalog = local_context(data_dir).catalog
    assert catalog.version(GOLD_MARKER_TABLE) is None  # nor any rows without the watermark
    assert catalog.marker(GOLD_MARKER_TABLE, GOLD_APP) is None
    assert catalog.version(GOLD_SECTIONS) is not None

    redone = run_targets(["gold"], local_context(data_dir))[0]

    assert redone.rows_in > 0
    assert catalog.marker(GOLD_MARKER_TABLE, GOLD_APP) is not None
    assert_as_a_clean_run_writes(data_dir, GOLD)
    assert run_targets(["gold"], local_context(data_dir))[0].rows_written == 0
