"""The polars shortcut for "the previous press of the section" agrees with the ordered window.

The window (`_window`, what Spark runs) is the definition; the polars path trusts the stored row
order only after checking it. Each case feeds rows that break one assumption of the shortcut.
"""

from __future__ import annotations

import narwhals as nw
import numpy as np
import polars as pl
import pytest

from flowtype_core.metrics import (
    digraph_latencies,
    key_stats,
    keystroke_features,
    press_order,
    section_metrics,
)
from flowtype_core.metrics.press_order import FIRST_ROW, RUN, _window, in_press_order, previous_name

COLUMNS = ("press_time", "release_time", "letter")
ORDER = ["participant_id", "test_section_id", "press_time", "keystroke_id"]


def typed(sections: int = 40, seed: int = 7) -> pl.DataFrame:
    """Sections stored the usual way: one run of rows each, in press order, with press-time ties."""
    rng = np.random.default_rng(seed)
    frames = []
    for s in range(sections):
        n = int(rng.integers(1, 30))
        press = np.cumsum(rng.integers(0, 4, n))  # many zero gaps: ties broken by keystroke id
        frames.append(
            pl.DataFrame(
                {
                    "participant_id": f"p{s % 6}",
                    "session_id": "s",
                    "test_section_id": f"t{s}",
                    "sentence": "ab",
                    "user_input": "ab",
                    "keystroke_id": np.arange(n, dtype=np.int64),
                    "press_time": press.astype(np.int64),
                    "release_time": (press + rng.integers(0, 6, n)).astype(np.int64),
                    "letter": rng.choice(["a", "b", "BKSP", "SHIFT"], n),
                }
            )
        )
    return pl.concat(frames)


def previous(frame: pl.DataFrame, ordered) -> pl.DataFrame:
    wanted = [*ORDER, *(previous_name(c) for c in COLUMNS)]
    return (
        ordered(nw.from_native(frame.lazy()), COLUMNS).frame.to_native().collect().select(wanted).sort(ORDER)
    )


def split_section(frame: pl.DataFrame) -> pl.DataFrame:
    """Move section t0's last rows to the end: each run is ordered, but t0 is two runs."""
    head = frame.filter(pl.col("test_section_id") != "t0")
    t0 = frame.filter(pl.col("test_section_id") == "t0")
    return pl.concat([t0.head(t0.height // 2), head, t0.tail(t0.height - t0.height // 2)])


def swap_ties(frame: pl.DataFrame) -> pl.DataFrame:
    """Within equal press times, put the higher keystroke id first."""
    return frame.sort(
        ["participant_id", "test_section_id", "press_time", "keystroke_id"],
        descending=[False, False, False, True],
    )


@pytest.mark.parametrize(
    "arrange",
    [
        lambda f: f,
        lambda f: f.sample(fraction=1.0, shuffle=True, seed=1),
        split_section,
        swap_ties,
        lambda f: f.with_columns(
            pl.when(pl.col("test_section_id") == "t3")
            .then(None)
            .otherwise(pl.col("participant_id"))
            .alias("participant_id")
        ),
    ],
    ids=["stored-order", "shuffled", "section-split-in-two-runs", "ties-out-of-id-order", "null-participant"],
)
@pytest.mark.parametrize("slice_rows", [press_order.FLAG_SLICE_ROWS, 1, 7])
def test_polars_shortcut_equals_the_ordered_window(arrange, slice_rows: int, monkeypatch) -> None:
    # Small slices put slice edges inside sections, at their starts and on single-row sections.
    monkeypatch.setattr(press_order, "FLAG_SLICE_ROWS", slice_rows)
    frame = arrange(typed())
    assert previous(frame, in_press_order).equals(previous(frame, _window))


def test_stored_order_is_trusted_and_each_section_is_one_run() -> None:
    frame = typed()
    rows = in_press_order(nw.from_native(frame.lazy())).frame.to_native().collect()
    assert rows.select(pl.exclude(RUN, FIRST_ROW)).equals(frame)  # nothing was re-sorted
    runs = rows.group_by(RUN).agg(pl.col("test_section_id").n_unique().alias("ids"), pl.len())
    assert runs.height == frame.get_column("test_section_id").n_unique() and runs["ids"].max() == 1
    # Each run's first row, and only it, is flagged.
    assert rows.get_column(FIRST_ROW).equals(rows.get_column(RUN).is_first_distinct(), check_names=False)


def test_metrics_do_not_depend_on_row_order() -> None:
    frame = typed()
    expected = section_metrics(frame).sort("test_section_id")
    for arranged in (split_section(frame), swap_ties(frame), frame.reverse()):
        assert section_metrics(arranged).sort("test_section_id").equals(expected)
    features = keystroke_features(frame.reverse()).sort(ORDER)
    assert features.equals(keystroke_features(frame).sort(ORDER))


def test_features_are_reused_from_silver_rows() -> None:
    frame = swap_ties(typed())  # presses stored out of order: computing them needs the sort
    silver = keystroke_features(frame)
    for metric, key in (
        (digraph_latencies, ["participant_id", "digraph"]),
        (key_stats, ["letter"]),
        (section_metrics, ["participant_id", "test_section_id"]),
    ):
        assert metric(silver.reverse()).sort(key).equals(metric(frame).sort(key)), metric.__name__


def test_window_path_without_previous_columns_only_names_the_section_keys() -> None:
    frame = typed(3)
    ordered = _window(nw.from_native(frame.lazy()), ())
    assert ordered.section_keys == ("participant_id", "test_section_id") and not ordered.helper_columns
    assert ordered.frame.to_native().collect().equals(frame)
