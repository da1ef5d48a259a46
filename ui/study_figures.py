"""The Studies page's figure: each condition's mean with its 95 % interval, one panel per metric."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots


def conditions_figure(table: pl.DataFrame) -> go.Figure:
    """Dots with interval whiskers; a condition of one typist shows its dot and no whisker."""
    metrics = table.get_column("metric").unique(maintain_order=True).to_list()
    figure = make_subplots(rows=1, cols=len(metrics), subplot_titles=metrics, horizontal_spacing=0.08)
    for col, metric in enumerate(metrics, start=1):
        part = table.filter(pl.col("metric") == metric)
        means = part.get_column("mean").to_list()
        above = [0 if math.isnan(h) else h - m for h, m in zip(part["ci_high"], means, strict=True)]
        below = [0 if math.isnan(lo) else m - lo for lo, m in zip(part["ci_low"], means, strict=True)]
        figure.add_trace(
            go.Scatter(
                x=part.get_column("condition").to_list(),
                y=means,
                mode="markers",
                marker={"size": 11},
                error_y={"type": "data", "array": above, "arrayminus": below, "visible": True},
                customdata=part.select("participants", "ci_low", "ci_high").rows(),
                hovertemplate="%{x}: %{y:.1f} (95% CI %{customdata[1]:.1f}–%{customdata[2]:.1f}),"
                " %{customdata[0]} participants<extra></extra>",
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    figure.update_layout(height=340, margin={"t": 50, "b": 30, "l": 40, "r": 20})
    return figure
