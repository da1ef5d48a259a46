"""Analytics figures at figure level: keyboard order, every label, clipped colour, wording."""

from __future__ import annotations

import polars as pl

from flowtype_core.analytics import build_dashboard
from flowtype_core.keyboard import KEY_ORDER, LETTER_KEYS, SPACE_LABEL
from tests.core.test_dashboards import frame, typed
from ui.analytics_figures import key_matrix_figure, keyboard_figure, ordinal, plural


def test_digraph_heatmap_axes_hold_every_key_in_keyboard_order() -> None:
    text = list("the quick brown fox jumps over the lazy dog")
    keystrokes = frame(typed("p1", "t1", text))
    slow_last = pl.col("keystroke_id") == keystrokes.height - 1  # one slow pair ("og") among even ones
    keystrokes = keystrokes.with_columns(
        pl.when(slow_last)
        .then(pl.col("press_time") + 5_000)
        .otherwise(pl.col("press_time"))
        .alias("press_time")
    )
    board = build_dashboard(keystrokes)
    fig = key_matrix_figure(
        board.digraphs,
        "first",
        "second",
        "latency_ms",
        title="t",
        unit="ms",
        x_title="second key",
        y_title="first key",
        keys=LETTER_KEYS,
    )
    labels = [SPACE_LABEL if k == " " else k for k in LETTER_KEYS]  # a pangram uses every letter
    assert list(fig.data[0].x) == labels and list(fig.data[0].y) == labels
    assert list(fig.layout.xaxis.tickvals) == labels and list(fig.layout.xaxis.ticktext) == labels
    assert fig.data[0].colorbar.title.text == "ms"
    assert fig.data[0].zmax < max(v for row in fig.data[0].z for v in row if v == v)  # clipped


def test_keyboard_figure_draws_every_key_and_greys_keys_without_data() -> None:
    board = build_dashboard(frame(typed("p1", "t1", list("asdf jkl"))))
    fig = keyboard_figure(board.keys, "iki_mean_ms", "t", "ms")
    assert len(fig.layout.shapes) == len(KEY_ORDER)
    labels = {a.text: a for a in fig.layout.annotations}
    assert {"a", "q", SPACE_LABEL, "⌫"} <= set(labels)
    fills = {a.text: s.fillcolor for a, s in zip(fig.layout.annotations, fig.layout.shapes, strict=True)}
    assert fills["q"] == "#d9d9d9" and fills["s"] != "#d9d9d9"


def test_wording_for_people() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
        "111th",
    ]
    assert plural(1, "participant") == "1 participant" and plural(1200, "participant") == "1,200 participants"
