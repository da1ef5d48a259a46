"""Speed and accuracy dashboards; participants see only their own data and population aggregates."""

from dataclasses import replace

import streamlit as st

from flowtype_core.analytics import (
    MIN_CELL,
    Filters,
    at_least,
    csv_bytes,
    load_keystrokes,
    parquet_bytes,
    standing,
)
from flowtype_core.difficulty import MIN_TYPISTS, expected_speed, speed_by_session
from flowtype_core.keyboard import LETTER_KEYS
from flowtype_core.metrics import PUBLISHED_CHI2018
from ui.analytics_figures import (
    BY_COLUMN,
    METRICS,
    histogram_figure,
    key_matrix_figure,
    key_rankings,
    keyboard_figure,
    ordinal,
    plural,
    speed_figure,
    standing_figure,
)
from ui.auth import require_role
from ui.cache import dashboard, data_version, exclusions, sessions_of, studies_of
from ui.resources import workbench

VIEWS = ("Speed over sessions", "Population standing", "Timing", "Keyboard", "Digraphs", "Slips", "Export")

user = require_role("participant", "analyst", "researcher")
wb = workbench()
data_key = str(wb.data_dir.resolve())
version = data_version()
private = user.role == "participant"
st.title("Analytics")

# Filters. A participant's filter is fixed to themselves: no widget or URL can widen it.
with st.sidebar:
    st.subheader("Filters")
    if private:
        participants: tuple[str, ...] = (user.username,)
    else:
        everyone = sorted({p for p, _ in sessions_of((), data_key, version)}, key=lambda p: (len(p), p))
        participants = tuple(st.multiselect("Participants", everyone, placeholder="All participants"))
    # Each option is one typist's session: imported typists share names such as "aalto".
    choices = {
        (s if private else f"{p} · {s}"): (p, s) for p, s in sessions_of(participants, data_key, version)
    }
    sessions = tuple(
        choices[o] for o in st.multiselect("Sessions", list(choices), placeholder="All sessions")
    )
    # Two optional days rather than one range widget: either end can be left open.
    start = st.date_input("From", value=None, help="Keep key presses made on or after this day (UTC)")
    end = st.date_input("To", value=None, help="Keep key presses made on or before this day (UTC)")
    studies = {} if private else studies_of(data_key, version)
    study = condition = None
    if studies:
        study = st.selectbox("Study", list(studies), index=None, placeholder="All data")
        if study is not None and studies[study]:
            condition = st.selectbox("Condition", studies[study], index=None, placeholder="All conditions")
    valid_only = st.toggle(
        "Valid sentences only",
        value=True,
        help="Leave out sentences the quality rules flagged (pasted, implausibly fast, tab hidden, …).",
    )
filters = Filters(participants, sessions, start, end, valid_only, study, condition)
board = dashboard(filters, data_key, version)

if board.keystrokes == 0:
    if filters != Filters() and (private or dashboard(Filters(), data_key, version).keystrokes):
        if private and not choices:
            st.info("You have no typing data yet: your results appear here after your first typing test.")
        else:
            st.info(f"No key presses match these filters ({filters.describe()}). Widen or clear them.")
    else:
        st.info(
            "No typing data has been recorded yet."
            + ("" if private else " A researcher can load demo data or import a dataset on the Data page.")
        )
    st.stop()

summary = board.summary
for row in (METRICS[:4], METRICS[4:]):
    for col, metric in zip(st.columns(4), row, strict=False):
        value = summary.get(f"{metric.summary}_mean")
        published = PUBLISHED_CHI2018.get(f"{metric.summary}_mean")
        col.metric(
            metric.label,
            metric.format(value),
            None if value is None or published is None else f"{metric.delta(value - published)} vs CHI 2018",
            delta_color="off",
            help=metric.help,
            border=True,
        )
st.caption(
    f"{plural(summary.get('participants') or 0, 'participant')} · {plural(summary.get('sections') or 0, 'sentence')}"
    f" · {plural(board.keystrokes, 'key press', 'key presses')}. Reference: {PUBLISHED_CHI2018['citation']}"
)

flagged, by_rule = exclusions(replace(filters, valid_only=True), data_key, version)
if flagged:
    rules = ", ".join(f"{rule} {count}" for rule, count in by_rule.items())
    st.caption(
        f"{'Left out' if valid_only else 'Included'}: {plural(flagged, 'sentence')} the quality rules flagged"
        f" as invalid ({rules}). {'Turn off' if valid_only else 'Turn on'} “Valid sentences only” to "
        f"{'include' if valid_only else 'leave out'} them."
    )

view = st.segmented_control("View", VIEWS, default=VIEWS[0], key="analytics_view") or VIEWS[0]
population = dashboard(Filters(), data_key, version)  # the typists everyone is compared with

if view == "Speed over sessions":
    st.caption(
        "Raw WPM depends on the sentences a session happened to contain. The right chart divides each "
        "sentence's WPM by the WPM expected for that sentence (the population's speed, scaled by how hard "
        "the population found it), so 100 % is average speed whatever the sentences were."
    )
    floor = MIN_CELL if private else MIN_TYPISTS
    speed = speed_by_session(expected_speed(board.sections, population.sections, min_typists=floor))
    st.plotly_chart(speed_figure(speed), width="stretch")
    if speed.get_column("relative_speed").is_null().all():
        st.caption(f"No expected speed yet: each sentence needs at least {floor} typists who typed it.")

elif view == "Population standing":
    me = user.username if private else (participants[0] if len(participants) == 1 else None)
    metric = BY_COLUMN[
        st.selectbox("Metric", [m.column for m in METRICS], format_func=lambda c: BY_COLUMN[c].label)
    ]
    result = standing(population.participants, metric.column, me, private=private)
    if me is not None and result.mine is not None:
        rank = "" if result.percentile is None else f", at the {ordinal(round(result.percentile))} percentile"
        st.write(
            f"**{me}**: {metric.format(result.mine)}{rank} of {plural(result.typists, 'loaded typist')}."
        )
    elif me is None:
        st.caption("Select one participant to place them in the population.")
    if private:
        st.caption(
            f"Counts below {MIN_CELL} typists are hidden and bands are rounded, so no one's own figure "
            "can be read off this chart."
        )
    published = PUBLISHED_CHI2018.get(f"{metric.summary}_mean")
    st.plotly_chart(standing_figure(result, metric, published, me), width="stretch")

elif view == "Timing":
    left, right = st.columns(2)
    left.plotly_chart(
        histogram_figure(board.iki_bins, "Inter-key interval", "Time from one press to the next (ms)"),
        width="stretch",
    )
    right.plotly_chart(
        histogram_figure(board.hold_bins, "Key hold time", "Time a key stays down (ms)"), width="stretch"
    )

elif view == "Keyboard":
    keys = at_least(board.keys, "presses", 10)
    st.plotly_chart(
        keyboard_figure(keys, "iki_mean_ms", "Time to reach each key (mean interval before it)", "ms"),
        width="stretch",
    )
    st.plotly_chart(
        keyboard_figure(
            keys, "error_rate", "Slips per key (share of presses undone by the next backspace)", "%", 100
        ),
        width="stretch",
    )
    left, right = st.columns(2)
    slowest, most_undone = key_rankings(keys)
    left.subheader("Slowest keys")
    left.dataframe(slowest, hide_index=True)
    right.subheader("Most often undone keys")
    right.dataframe(most_undone, hide_index=True)

elif view == "Digraphs":
    least = st.slider("Fewest occurrences for a pair to be shown", 1, 50, 3)
    st.plotly_chart(
        key_matrix_figure(
            at_least(board.digraphs, "count", least),
            "first",
            "second",
            "latency_ms",
            title="Digraph latency: time from the first key to the second (keyboard order)",
            unit="ms",
            x_title="second key",
            y_title="first key",
            keys=LETTER_KEYS,
        ),
        width="stretch",
    )

elif view == "Slips":
    st.caption("A key pressed, undone with backspace and replaced by another: the key meant and the key hit.")
    if board.confusion.is_empty():
        st.info("No corrected slips in this selection.")
    else:
        st.plotly_chart(
            key_matrix_figure(
                board.confusion,
                "intended",
                "pressed",
                "count",
                title="Slips: key meant (rows) against key pressed (columns)",
                unit="slips",
                x_title="pressed",
                y_title="meant",
            ),
            width="stretch",
        )

else:
    st.write(
        f"{plural(board.keystrokes, 'key press', 'key presses')} and "
        f"{plural(board.sections.height, 'sentence')} match the filters."
    )
    table = st.radio("Rows", ["keystrokes", "sections"], horizontal=True)

    def rows():
        return load_keystrokes(wb.lakehouse, filters) if table == "keystrokes" else board.sections

    # The files are built when a button is clicked (deferred), not on every run of the page.
    left, right = st.columns(2)
    left.download_button(
        "Download CSV", lambda: csv_bytes(rows()), f"flowtype_{table}.csv", "text/csv", on_click="ignore"
    )
    right.download_button(
        "Download Parquet",
        lambda: parquet_bytes(rows()),
        f"flowtype_{table}.parquet",
        "application/vnd.apache.parquet",
        on_click="ignore",
    )
