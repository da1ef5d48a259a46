"""Section metrics computed batch by batch equal the metrics of the whole frame.

Batches are cut between runs of rows of one section; small batch sizes put many cuts inside
sections, and each case stores the rows in a way that breaks one assumption of the cutting.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.metrics import keystroke_features, section_metrics
from flowtype_core.metrics.batched import section_batches, section_metrics_in_batches
from tests.core.test_press_order import split_section, typed

KEY = ["participant_id", "session_id", "test_section_id"]


def whole(frame: pl.DataFrame) -> pl.DataFrame:
    return section_metrics(frame).sort(KEY)


@pytest.mark.parametrize("rows", [1, 7, 64, 10_000])
@pytest.mark.parametrize(
    "arrange",
    [
        lambda f: f,
        split_section,  # one section stored in two runs, far apart
        lambda f: f.sample(fraction=1.0, shuffle=True, seed=3),  # every section in many runs
        lambda f: f.reverse(),  # runs intact, presses in reverse order within them
    ],
    ids=["stored", "split", "shuffled", "reversed"],
)
def test_batches_give_the_whole_frames_metrics(tmp_path: Path, rows: int, arrange) -> None:
    frame = arrange(typed())
    path = tmp_path / "keystrokes.parquet"
    frame.write_parquet(path, row_group_size=50)  # several row groups: slices read some of them
    batched = section_metrics_in_batches(pl.scan_parquet(path), rows).sort(KEY)
    assert batched.height == frame.select(KEY).n_unique()
    assert_frame_equal(batched, whole(frame))


def test_silver_rows_reuse_their_timing(tmp_path: Path) -> None:
    silver = keystroke_features(typed())
    path = tmp_path / "silver.parquet"
    silver.write_parquet(path)
    assert_frame_equal(section_metrics_in_batches(pl.scan_parquet(path), 13).sort(KEY), whole(silver))


def test_null_section_ids_form_one_section() -> None:
    frame = typed(6).with_columns(
        pl.when(pl.col("test_section_id").is_in(["t1", "t2"]))
        .then(None)
        .otherwise(pl.col("test_section_id"))
        .alias("test_section_id"),
        pl.lit("p0").alias("participant_id"),
    )
    batched = section_metrics_in_batches(frame.lazy(), 5).sort(KEY)
    assert batched["test_section_id"].null_count() == 1
    assert_frame_equal(batched, whole(frame))


def test_a_run_is_never_cut_and_no_row_is_lost_or_repeated() -> None:
    frame = typed(12).with_row_index("row")
    batches = list(section_batches(frame.lazy(), 10))
    assert pl.concat(batches)["row"].to_list() == frame["row"].to_list()
    ends = [(b["participant_id"][-1], b["test_section_id"][-1]) for b in batches[:-1]]
    starts = [(b["participant_id"][0], b["test_section_id"][0]) for b in batches[1:]]
    assert all(end != start for end, start in zip(ends, starts, strict=True))


def test_empty_frame_and_bad_batch_size() -> None:
    empty = typed(1).head(0)
    assert section_metrics_in_batches(empty.lazy()).height == 0
    assert section_metrics_in_batches(empty.lazy()).columns == whole(empty).columns
    with pytest.raises(ValueError, match="at least 1"):
        next(section_batches(typed(1).lazy(), 0))
