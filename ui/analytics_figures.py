"""Plotly figures and wording for the Analytics page: human labels, units, keyboard-shaped views."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import polars as pl
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from flowtype_core.analytics import Standing
from flowtype_core.keyboard import KEY_ORDER, LAYOUT, label_of

COLOURS = "Viridis"


@dataclass(frozen=True)
class Metric:
    """A metric as people read it: name, unit, how to round it, what it means."""

    column: str  # participant_metrics column
    summary: str  # population_summary / PUBLISHED_CHI2018 key prefix
    label: str
    unit: str
    scale: float  # displayed value = stored value × scale
    decimals: int
    help: str

    def format(self, value: float | None) -> str:
        """The value rounded for people, with its unit."""
        if value is None:
            return "–"
        return f"{value * self.scale:,.{self.decimals}f}{self.unit}"

    def delta(self, difference: float) -> str:
        """A signed difference, rounded like the value."""
        return f"{difference * self.scale:+,.{self.decimals}f}{self.unit}"


METRICS = (
    Metric(
        "wpm", "wpm", "Speed", " WPM", 1, 1, "Words per minute: characters typed ÷ 5 per minute of typing."
    ),
    Metric(
        "error_rate",
        "error_rate_pct",
        "Errors left",
        " %",
        1,
        2,
        "Uncorrected error rate: edit distance between the sentence shown and the text submitted, "
        "as a percentage of its length. Corrected slips do not count.",
    ),
    Metric(
        "iki_mean_ms",
        "iki_mean_ms",
        "Inter-key interval",
        " ms",
        1,
        0,
        "IKI: the time from one key press to the next. Lower is faster.",
    ),
    Metric(
        "hold_mean_ms",
        "hold_mean_ms",
        "Key hold",
        " ms",
        1,
        0,
        "How long a key stays down, press to release.",
    ),
    Metric(
        "kspc",
        "kspc",
        "Keystrokes per character",
        "",
        1,
        2,
        "KSPC: key presses per character submitted. 1.00 means no correction; backspaces and "
        "retyped characters raise it.",
    ),
    Metric(
        "rollover",
        "rollover",
        "Rollover",
        " %",
        100,
        0,
        "Share of key presses made before the previous key was released: overlapping keys, a sign "
        "of fluent typing.",
    ),
    Metric(
        "consistency",
        "consistency",
        "Consistency",
        "",
        1,
        0,
        "How even the rhythm is, 0–100 (Monkeytype's score): 100 − 100·tanh of the spread of the "
        "inter-key intervals relative to their mean. Higher is steadier.",
    ),
)
BY_COLUMN = {m.column: m for m in METRICS}


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st …"""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """'1 participant', '2 participants', with thousands separators."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


def speed_figure(sessions: pl.DataFrame) -> go.Figure:
    """Raw WPM and difficulty-adjusted speed per session number, side by side.

    One line per typist up to a dozen of them; beyond that the mean per session number, since
    156 legend entries read as noise.
    """
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Raw speed (WPM)", "Speed for the sentences typed (% of expected)"),
        horizontal_spacing=0.12,
    )
    typists = sessions.get_column("participant_id").n_unique()
    frame = sessions.with_columns((pl.col("relative_speed") * 100).alias("relative_pct"))
    if typists > 12:
        frame = (
            frame.group_by("session_number")
            .agg(pl.col("wpm").mean(), pl.col("relative_pct").mean(), pl.len().alias("typists"))
            .sort("session_number")
            .with_columns(pl.format("mean of {} typists", pl.col("typists")).alias("participant_id"))
        )
    for participant, group in frame.group_by("participant_id", maintain_order=True):
        name = str(participant[0])
        x = group.get_column("session_number").to_list()
        for col, column, unit in ((1, "wpm", "WPM"), (2, "relative_pct", "% of expected")):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=group.get_column(column).round(1).to_list(),
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    hovertemplate=f"{name}<br>session %{{x}}: %{{y}} {unit}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig.add_hline(y=100, line_dash="dot", line_color="grey", row=1, col=2)
    fig.update_xaxes(title_text="Session", tickmode="linear", dtick=1, tick0=1)
    fig.update_yaxes(title_text="Words per minute", row=1, col=1)
    fig.update_yaxes(title_text="% of expected WPM", row=1, col=2)
    fig.update_layout(legend_title_text="Participant", margin={"t": 60})
    return fig


def standing_figure(result: Standing, metric: Metric, published: float | None, me: str | None) -> go.Figure:
    """Typists per bin of their mean, with percentile bands, the CHI 2018 mean and the typist."""
    bins = result.bins
    scale = metric.scale
    fig = go.Figure(
        go.Bar(
            x=((bins.get_column("bin_start") + bins.get_column("bin_end")) / 2 * scale).to_list(),
            y=bins.get_column("typists").to_list(),
            width=float((bins.get_column("bin_end") - bins.get_column("bin_start")).max() or 1) * scale,
            marker_color="#8fb3d9",
            hovertemplate=f"%{{x}}{metric.unit}: %{{y}} typists<extra></extra>",
            name="typists",
        )
    )
    for name, value in result.bands.items():
        fig.add_vline(x=value * scale, line_dash="dot", line_color="grey", annotation_text=name)
    if published is not None:
        fig.add_vline(x=published * scale, line_color="green", annotation_text="CHI 2018 mean")
    if result.mine is not None:
        fig.add_vline(x=result.mine * scale, line_color="red", line_width=3, annotation_text=me or "")
    fig.update_layout(
        title=f"{metric.label} across {plural(result.typists, 'typist')}",
        xaxis_title=f"{metric.label} ({metric.unit.strip() or 'score'}), mean per typist",
        yaxis_title="Typists",
        bargap=0.05,
    )
    return fig


def histogram_figure(bins: pl.DataFrame, title: str, x_title: str) -> go.Figure:
    """A histogram from server-side bins (one bar per bin, never the raw values)."""
    fig = go.Figure(
        go.Bar(
            x=((bins.get_column("bin_start") + bins.get_column("bin_end")) / 2).to_list(),
            y=bins.get_column("count").to_list(),
            width=float((bins.get_column("bin_end") - bins.get_column("bin_start")).max() or 1),
            marker_color="#4c78a8",
            hovertemplate="%{x} ms: %{y:,} presses<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title="Key presses", bargap=0.02)
    return fig


def _clipped_range(values: np.ndarray) -> tuple[float, float]:
    """The 2nd-98th percentile of the finite values: one outlier must not wash out the scale."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(finite, [2, 98])
    return float(low), float(high if high > low else low + 1)


def keyboard_figure(keys: pl.DataFrame, column: str, title: str, unit: str, scale: float = 1.0) -> go.Figure:
    """The keyboard drawn key by key (rectangles), each coloured by its value of `column`.

    Keys without enough data stay grey; a hidden scatter at the key centres carries the hover
    text and the colour bar.
    """
    values = dict(zip(keys.get_column("key").to_list(), keys.get_column(column).to_list(), strict=True))
    presses = dict(zip(keys.get_column("key").to_list(), keys.get_column("presses").to_list(), strict=True))
    shown = np.array([np.nan if values.get(k.key) is None else values[k.key] * scale for k in LAYOUT])
    low, high = _clipped_range(shown)
    colours = _colours(shown, low, high)
    middle = (low + high) / 2
    # Shapes and labels go in as one layout update: add_shape per key validates the whole
    # layout each time (about 1 s for two keyboards).
    shapes = [
        {
            "type": "rect",
            "x0": key.x + 0.05,
            "x1": key.x + key.width - 0.05,
            "y0": -key.row - 0.45,
            "y1": -key.row + 0.45,
            "line": {"color": "white", "width": 1},
            "fillcolor": colour,
        }
        for key, colour in zip(LAYOUT, colours, strict=True)
    ]
    labels = [
        {
            "x": key.x + key.width / 2,
            "y": -key.row,
            "text": key.label,
            "showarrow": False,
            "font": {"color": "white" if np.isfinite(value) and value < middle else "black"},
        }
        for key, value in zip(LAYOUT, shown, strict=True)
    ]
    fig = go.Figure(layout={"shapes": shapes, "annotations": labels})
    fig.add_trace(
        go.Scatter(
            x=[k.x + k.width / 2 for k in LAYOUT],
            y=[-k.row for k in LAYOUT],
            mode="markers",
            marker={
                "size": 28,
                "opacity": 0,
                "color": np.nan_to_num(shown, nan=low).tolist(),
                "colorscale": COLOURS,
                "cmin": low,
                "cmax": high,
                "showscale": True,
                "colorbar": {"title": unit},
            },
            text=[
                f"{k.label}: {'no data' if not np.isfinite(v) else f'{v:,.1f} {unit}'}"
                f" ({presses.get(k.key, 0):,} presses)"
                for k, v in zip(LAYOUT, shown, strict=True)
            ],
            hoverinfo="text",
            showlegend=False,
        )
    )
    fig.update_xaxes(visible=False, range=[-0.2, 15.2])
    fig.update_yaxes(visible=False, range=[-4.6, 0.6], scaleanchor="x")
    fig.update_layout(
        title=title, plot_bgcolor="white", height=340, margin={"l": 10, "r": 10, "t": 50, "b": 10}
    )
    return fig


def _colours(values: np.ndarray, low: float, high: float) -> list[str]:
    picks = [0.0 if not np.isfinite(v) else min(max((v - low) / (high - low), 0.0), 1.0) for v in values]
    sampled = sample_colorscale(COLOURS, picks)
    return [c if np.isfinite(v) else "#d9d9d9" for c, v in zip(sampled, values, strict=True)]


def key_matrix_figure(
    cells: pl.DataFrame,
    row: str,
    col: str,
    value: str,
    *,
    title: str,
    unit: str,
    x_title: str,
    y_title: str,
    keys: tuple[str, ...] = KEY_ORDER,
) -> go.Figure:
    """A key × key heatmap (digraphs, confusions) with both axes in keyboard order, every label shown.

    Only `keys` that occur in `cells` are kept; the colour scale is clipped to the 2nd-98th
    percentile so one rare, slow pair does not saturate it.
    """
    present = set(cells.get_column(row).to_list()) | set(cells.get_column(col).to_list())
    order = [k for k in keys if k in present]
    index = {k: i for i, k in enumerate(order)}
    z = np.full((len(order), len(order)), np.nan)
    for r, c, v in cells.select(row, col, value).iter_rows():
        if r in index and c in index and v is not None:
            z[index[r], index[c]] = v
    low, high = _clipped_range(z)
    labels = [label_of(k) for k in order]
    fig = go.Figure(
        go.Heatmap(
            z=z.tolist(),
            x=labels,
            y=labels,
            zmin=low,
            zmax=high,
            colorscale=COLOURS,
            colorbar={"title": unit},
            hovertemplate=f"{y_title} %{{y}} → {x_title} %{{x}}: %{{z:,.0f}} {unit}<extra></extra>",
            hoverongaps=False,
        )
    )
    fig.update_xaxes(title=x_title, tickmode="array", tickvals=labels, ticktext=labels, side="top")
    fig.update_yaxes(title=y_title, tickmode="array", tickvals=labels, ticktext=labels, autorange="reversed")
    fig.update_layout(
        title={"text": title, "y": 0.98}, height=max(420, 20 * len(order) + 200), margin={"t": 120}
    )
    return fig


def key_rankings(keys: pl.DataFrame, n: int = 10) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The `n` slowest keys and the `n` most often undone, as tables with readable headings."""
    table = keys.select(
        pl.col("key").replace({" ": "␣ (space)"}).alias("Key"),
        pl.col("presses").alias("Presses"),
        pl.col("iki_mean_ms").round(0).alias("Interval before (ms)"),
        pl.col("hold_mean_ms").round(0).alias("Hold (ms)"),
        (pl.col("error_rate") * 100).round(1).alias("Undone (%)"),
    )
    slowest = table.sort("Interval before (ms)", descending=True).head(n)
    return slowest, table.drop_nulls("Undone (%)").sort("Undone (%)", descending=True).head(n)
