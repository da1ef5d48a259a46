"""The Ranker page's baselines figure: grouped @5/@10 bars in categorical colours, axis fitted."""

from __future__ import annotations

import pytest

from flowtype_core.ranker import ModelRecord
from ui.ranker_charts import K_COLOURS, baselines_chart, fitted_range, version_rows

HELD_OUT = {
    "random": {"ndcg@5": 0.41, "ndcg@10": 0.55},
    "model": {"ndcg@5": 0.62, "ndcg@10": 0.72},
    "population_key_cost": {"ndcg@5": 0.59, "ndcg@10": 0.70},
}


def test_bars_are_grouped_by_k_with_one_categorical_colour_each() -> None:
    figure = baselines_chart(HELD_OUT, "Model against baselines")
    assert figure.layout.barmode == "group"
    assert [trace.name for trace in figure.data] == ["NDCG@5", "NDCG@10"]
    assert [trace.marker.color for trace in figure.data] == list(K_COLOURS.values())
    assert len(set(K_COLOURS.values())) == 2
    assert figure.layout.coloraxis.colorbar.title.text is None  # no continuous colour bar
    at5, at10 = figure.data
    assert list(at5.x) == ["model", "population key cost", "random"]  # best @5 first
    assert list(at5.y) == [0.62, 0.59, 0.41] and list(at10.y) == [0.72, 0.70, 0.55]


def test_axis_is_fitted_to_the_values_not_capped_at_one() -> None:
    low, high = baselines_chart(HELD_OUT, "t").layout.yaxis.range
    assert 0.3 <= low < 0.41 and 0.72 < high <= 0.8
    assert fitted_range([0.02, 0.99]) == [0.0, 1.0]
    assert fitted_range([0.5, 0.5]) == [0.45, 0.55]


def test_intervals_become_error_bars_inside_the_axis() -> None:
    intervals = {m: {k: [v - 0.03, v + 0.02] for k, v in by_k.items()} for m, by_k in HELD_OUT.items()}
    figure = baselines_chart(HELD_OUT, "t", intervals)
    at5 = figure.data[0]
    assert at5.error_y.visible and list(at5.error_y.array) == pytest.approx([0.02] * 3)
    assert list(at5.error_y.arrayminus) == pytest.approx([0.03] * 3)
    low, high = figure.layout.yaxis.range
    assert low <= 0.41 - 0.03 and high >= 0.72 + 0.02
    assert not baselines_chart(HELD_OUT, "t").data[0].error_y.visible


def _record(version: str, ndcg5: float, served: bool) -> ModelRecord:
    held_out = {**HELD_OUT, "model": {"ndcg@5": ndcg5, "ndcg@10": 0.7}}
    metrics = {
        "held_out": held_out,
        "intervals": {"model": {"ndcg@5": [ndcg5 - 0.02, ndcg5 + 0.02]}},
        "best_heuristic": "population_key_cost",
        "evaluation": {"participants": 156},
        "serving": {"served": served, "reason": f"{version} reason"},
    }
    return ModelRecord(version, f"/m/{version}", "2026-12-03T12:00:00+00:00", metrics)


def test_versions_side_by_side_newest_first_with_the_served_one_marked() -> None:
    rows = version_rows([_record("v0001", 0.61, True), _record("v0002", 0.60, False)], "v0001")
    assert [r["version"] for r in rows] == ["v0002", "v0001 (served)"]
    assert [r["NDCG@5"] for r in rows] == [0.6, 0.61]
    assert rows[1]["margin @5"] == round(0.61 - 0.59, 3)
    assert rows[0]["95 % interval"] == "0.580-0.620" and rows[0]["serving"] == "v0002 reason"
