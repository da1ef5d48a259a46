"""The Ranker page's figures: held-out NDCG of the model against its baselines, versions side by side."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.express as px
import plotly.graph_objects as go

from flowtype_core.ranker import ModelRecord
from flowtype_core.ranker.replay import POLICIES

KS = (5, 10)
# Categorical colours: @5 and @10 are two kinds of bar, not two points on a scale.
K_COLOURS = {f"NDCG@{k}": colour for k, colour in zip(KS, px.colors.qualitative.Set2, strict=False)}
AXIS_STEP = 0.05


def fitted_range(values: list[float]) -> list[float]:
    """A y-range a step below the lowest bar and above the highest, inside [0, 1].

    Held-out NDCG values sit between 0.4 and 0.75: on a 0-1 axis their differences vanish.
    """
    low = max(0.0, math.floor((min(values) - AXIS_STEP) / AXIS_STEP) * AXIS_STEP)
    high = min(1.0, math.ceil((max(values) + AXIS_STEP / 2) / AXIS_STEP) * AXIS_STEP)
    return [round(low, 2), round(high, 2)]


def baselines_chart(
    held_out: Mapping[str, Mapping[str, float]],
    title: str,
    intervals: Mapping[str, Mapping[str, list[float]]] | None = None,
) -> go.Figure:
    """Grouped bars per method (best @5 first): NDCG@5 and NDCG@10 side by side, axis fitted,
    with the 95 % bootstrap interval over typists as error bars when `intervals` are given."""
    methods = sorted(held_out, key=lambda m: -held_out[m]["ndcg@5"])
    labels = [m.replace("_", " ") for m in methods]
    figure = go.Figure()
    for k in KS:
        name = f"NDCG@{k}"
        values = [held_out[m][f"ndcg@{k}"] for m in methods]
        spans = [
            (intervals or {}).get(m, {}).get(f"ndcg@{k}", [v, v])
            for m, v in zip(methods, values, strict=True)
        ]
        figure.add_bar(
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [high - v for (_, high), v in zip(spans, values, strict=True)],
                "arrayminus": [v - low for (low, _), v in zip(spans, values, strict=True)],
                "visible": intervals is not None,
            },
            name=name,
            x=labels,
            y=values,
            marker_color=K_COLOURS[name],
            customdata=spans,
            hovertemplate="%{x}: %{y:.3f} (95 % interval %{customdata[0]:.3f}-%{customdata[1]:.3f})",
        )
    every = [held_out[m][f"ndcg@{k}"] for m in methods for k in KS]
    every += [
        bound for m in methods for k in KS for bound in (intervals or {}).get(m, {}).get(f"ndcg@{k}", [])
    ]
    figure.update_layout(
        title=title,
        barmode="group",
        legend_title_text="",
        yaxis={"title": "NDCG on held-out typists", "range": fitted_range(every)},
        xaxis={"title": ""},
    )
    return figure


def version_rows(versions: Sequence[ModelRecord], served: str | None) -> list[dict[str, Any]]:
    """One row per model version, newest first: held-out metrics side by side and the serving call."""
    rows = []
    for record in reversed(versions):
        metrics = record.metrics
        held_out = metrics["held_out"]
        best = metrics["best_heuristic"]
        low, high = metrics.get("intervals", {}).get("model", {}).get("ndcg@5", [None, None])
        rows.append(
            {
                "version": record.version + (" (served)" if record.version == served else ""),
                "trained": record.created_at.replace("T", " ")[:16],
                "NDCG@5": round(held_out["model"]["ndcg@5"], 3),
                "95 % interval": f"{low:.3f}-{high:.3f}" if low is not None else "",
                "NDCG@10": round(held_out["model"]["ndcg@10"], 3),
                "best baseline": best.replace("_", " "),
                "margin @5": round(held_out["model"]["ndcg@5"] - held_out[best]["ndcg@5"], 3),
                "typists": metrics["evaluation"]["participants"],
                "serving": metrics.get("serving", {}).get("reason", ""),
            }
        )
    return rows


def replay_chart(replay: Mapping[str, Mapping[str, float]]) -> go.Figure:
    """Each practice policy's share of the slow-digraph time the best picks would exercise (in the
    replay's policy order: the registry's JSON files keep keys sorted)."""
    policies = [p for p in POLICIES if p in replay]
    typists = max(int(replay[p]["typists"]) for p in policies)
    figure = go.Figure(
        go.Bar(
            x=policies,
            y=[replay[p]["share"] for p in policies],
            marker_color=px.colors.qualitative.Set2[2],
            hovertemplate="%{x}: %{y:.1%} of the oracle's<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"Offline replay: slow-digraph time the picks exercise ({typists} held-out typists)",
        yaxis={
            "title": "share of what the best 5 sentences exercise",
            "tickformat": ".0%",
            "range": [0, 1],
        },
    )
    return figure
