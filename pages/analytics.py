"""Speed and accuracy dashboards; participants see only their own data."""

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from flowtype_core.analytics import Filters, csv_bytes, parquet_bytes, percentile_bands, percentile_of
from flowtype_core.metrics import PUBLISHED_CHI2018
from ui.auth import require_role
from ui.cache import dashboard, session_index
from ui.resources import workbench

user = require_role("participant", "analyst", "researcher")
wb = workbench()
data_key = str(wb.data_dir.resolve())
st.title("Analytics")

# Filters. A participant's filter is fixed to themselves: no widget or URL can widen it.
with st.sidebar:
    st.subheader("Filters")
    if user.role == "participant":
        participants: tuple[str, ...] = (user.username,)
    else:
        everyone = sorted({p for p, _ in session_index((), data_key)})
        participants = tuple(st.multiselect("Participants", everyone, placeholder="All participants"))
    sessions = tuple(
        st.multiselect(
            "Sessions",
            sorted({s for _, s in session_index(participants, data_key)}),
            placeholder="All sessions",
        )
    )
    dates = st.date_input("Date range", value=(), help="Filter key presses by date (UTC)")
start, end = (dates[0], dates[-1]) if isinstance(dates, tuple) and dates else (None, None)
board = dashboard(Filters(participants, sessions, start, end), data_key)

if board.keystrokes.is_empty():
    st.info(
        "No typing data for this selection yet."
        + (" A researcher can load demo data on the Data page." if user.role != "participant" else "")
    )
    st.stop()

summary = board.summary
cols = st.columns(6)
for col, (label, key, unit) in zip(
    cols,
    [
        ("WPM", "wpm_mean", ""),
        ("Error rate", "error_rate_pct_mean", " %"),
        ("IKI", "iki_mean_ms_mean", " ms"),
        ("Hold", "hold_mean_ms_mean", " ms"),
        ("KSPC", "kspc_mean", ""),
        ("Rollover", "rollover_mean", ""),
    ],
    strict=True,
):
    value = summary.get(key)
    published = PUBLISHED_CHI2018.get(key)
    col.metric(
        label,
        "–" if value is None else f"{value:.2f}{unit}",
        None if value is None or published is None else f"{value - published:+.2f} vs CHI 2018",
        delta_color="off",
    )
st.caption(
    f"{summary.get('participants', 0)} participants · {summary.get('sections', 0)} sentences · "
    f"{summary.get('keystrokes', 0)} key presses. Reference: {PUBLISHED_CHI2018['citation']}"
)

tab_speed, tab_standing, tab_timing, tab_keys, tab_export = st.tabs(
    ["Speed over sessions", "Population standing", "Timing", "Keys and digraphs", "Export"]
)

with tab_speed:
    fig = px.line(
        board.sessions.with_columns(pl.from_epoch("started_at", time_unit="ms").alias("date")).to_pandas(),
        x="date",
        y="wpm",
        color="participant_id",
        markers=True,
        labels={"wpm": "WPM", "date": "session start"},
        title="WPM per session",
    )
    st.plotly_chart(fig, width="stretch")

with tab_standing:
    everyone = dashboard(Filters(), data_key).participants  # the population the typist is placed in
    me = (
        user.username if user.role == "participant" else (participants[0] if len(participants) == 1 else None)
    )
    metric = st.selectbox("Metric", ["wpm", "error_rate", "iki_mean_ms", "hold_mean_ms", "kspc", "rollover"])
    bands = percentile_bands(everyone.get_column(metric))
    fig = px.histogram(
        everyone.to_pandas(), x=metric, nbins=30, title=f"{metric} across {everyone.height} typists"
    )
    for name, value in bands.items():
        fig.add_vline(x=value, line_dash="dot", annotation_text=name, line_color="grey")
    published_key = {
        "wpm": "wpm_mean",
        "error_rate": "error_rate_pct_mean",
        "iki_mean_ms": "iki_mean_ms_mean",
        "hold_mean_ms": "hold_mean_ms_mean",
        "kspc": "kspc_mean",
        "rollover": "rollover_mean",
    }[metric]
    fig.add_vline(x=PUBLISHED_CHI2018[published_key], line_color="green", annotation_text="CHI 2018 mean")
    if me is not None:
        mine = everyone.filter(pl.col("participant_id") == me).get_column(metric)
        if mine.len():
            fig.add_vline(x=mine[0], line_color="red", line_width=3, annotation_text=me)
            pct = percentile_of(everyone.get_column(metric), mine[0])
            st.write(f"**{me}**: {mine[0]:.2f} — at the {pct:.0f}th percentile of the loaded typists.")
    else:
        st.caption("Select one participant to place them in the population.")
    st.plotly_chart(fig, width="stretch")

with tab_timing:
    left, right = st.columns(2)
    timing = board.features.select("iki_ms", "hold_ms").to_pandas()
    left.plotly_chart(
        px.histogram(
            timing[timing.iki_ms.between(0, 1500)], x="iki_ms", nbins=60, title="Inter-key interval (ms)"
        ),
        width="stretch",
    )
    right.plotly_chart(
        px.histogram(
            timing[timing.hold_ms.between(0, 600)], x="hold_ms", nbins=60, title="Key hold time (ms)"
        ),
        width="stretch",
    )

with tab_keys:
    letters = [c for c in "etaoinshrdlucmfwypvbgkjqxz "]
    grid = board.digraphs.filter(
        pl.col("first").is_in(letters) & pl.col("second").is_in(letters) & (pl.col("count") >= 3)
    )
    matrix = grid.pivot(on="second", index="first", values="latency_ms")
    fig = go.Figure(
        go.Heatmap(
            z=matrix.drop("first").to_numpy(),
            x=matrix.columns[1:],
            y=matrix.get_column("first").to_list(),
            colorscale="Viridis",
            colorbar={"title": "ms"},
        )
    )
    fig.update_layout(
        title="Digraph latency (first key → second key)", xaxis_title="second", yaxis_title="first"
    )
    st.plotly_chart(fig, width="stretch")
    left, right = st.columns(2)
    keys = board.keys.filter(pl.col("presses") >= 10)
    left.subheader("Slowest keys")
    left.dataframe(keys.sort("iki_mean_ms", descending=True).head(10), hide_index=True)
    right.subheader("Most error-prone keys")
    right.dataframe(keys.sort("backspace_rate", descending=True).head(10), hide_index=True)

with tab_export:
    st.write(
        f"{board.keystrokes.height} key presses and {board.sections.height} sentences match the filters."
    )
    table = st.radio("Rows", ["keystrokes", "sections"], horizontal=True)
    frame = board.keystrokes if table == "keystrokes" else board.sections
    left, right = st.columns(2)
    left.download_button("Download CSV", csv_bytes(frame), f"flowtype_{table}.csv", "text/csv")
    right.download_button(
        "Download Parquet",
        parquet_bytes(frame),
        f"flowtype_{table}.parquet",
        "application/vnd.apache.parquet",
    )
