"""Layers run a group of files or participants at a time: the tables equal one run over everything."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.pipeline import run_targets
from flowtype_core.pipeline.batches import file_groups, participant_groups
from flowtype_core.pipeline.catalog import LocalDeltaCatalog
from flowtype_core.pipeline.layers import PipelineContext
from flowtype_core.pipeline.tables import INGESTED_AT, PIPELINE_TABLES, PROCESSED_AT

MEDALLION = ["bronze", "silver", "gold"]
RUN_TIMES = (INGESTED_AT, PROCESSED_AT, "ingested_at", "created_at_run")


def context(data_dir: Path, batch_rows: int | None) -> PipelineContext:
    catalog = LocalDeltaCatalog(data_dir / "lakehouse", batch_rows=batch_rows)
    return PipelineContext(catalog, data_dir / "sessions", data_dir / "models")


def table(data_dir: Path, name: str) -> pl.DataFrame:
    frame = pl.read_delta(str(data_dir / "lakehouse" / name))
    frame = frame.drop([c for c in RUN_TIMES if c in frame.columns])  # when it ran, not what
    return frame.sort(frame.columns, nulls_last=True)


def test_small_batches_give_the_same_tables_and_stay_incremental(store_copy: Callable[..., Path]) -> None:
    whole = store_copy(8)
    batched = whole.parent / "batched"
    shutil.copytree(whole / "sessions", batched / "sessions")

    run_targets(MEDALLION, context(whole, None))
    results = {r.layer: r for r in run_targets(MEDALLION, context(batched, 700))}

    assert results["silver"].details["groups"] > 2 and results["gold"].details["groups"] > 2
    for name in PIPELINE_TABLES:
        if (whole / "lakehouse" / name).exists():
            assert_frame_equal(table(batched, name), table(whole, name), check_row_order=True)
    again = run_targets(MEDALLION, context(batched, 700))
    assert sum(r.rows_written for r in again) == 0


def test_participant_groups_keep_participants_whole_and_in_order() -> None:
    counts = pl.DataFrame({"participant_id": ["c", None, "a", "b", "d"], "rows": [5, 1, 3, 9, 1]})
    groups = participant_groups(counts, 6)
    assert [i for g in groups for i in g] == [None, "a", "b", "c", "d"]
    assert groups == [[None, "a"], ["b"], ["c", "d"]]  # b alone: more rows than a group holds
    assert participant_groups(counts, None) == [[None, "a", "b", "c", "d"]]
    assert participant_groups(counts.head(0), 6) == []


def test_file_groups_split_by_bytes_in_path_order() -> None:
    files = pl.DataFrame({"path": ["b/k", "a/s", "a/k"], "size": [150, 50, 100]})
    groups = file_groups(files, 2)  # 2 rows ~ 200 bytes of CSV
    assert [g["path"].to_list() for g in groups] == [["a/k", "a/s"], ["b/k"]]


def test_bad_batch_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LocalDeltaCatalog(tmp_path, batch_rows=0)
