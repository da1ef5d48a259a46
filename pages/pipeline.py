"""Pipeline: run bronze, silver, gold (or all) on the configured runner and watch it live (SPEC §3.7)."""

import streamlit as st

from flowtype_core.errors import FlowTypeError
from flowtype_core.pipeline import TARGETS
from flowtype_core.pipeline.runners import Runner, open_runner
from ui.auth import require_role
from ui.resources import show_error, workbench

REFRESH_SECONDS = 1.0
TASK_COLUMNS = ("name", "state", "rows_in", "rows_written", "quarantined", "seconds", "error")

user = require_role("researcher")
wb = workbench()


@st.cache_resource(show_spinner=False)
def pipeline_runner(data_dir: str, name: str) -> Runner:
    """One runner per server: the local runner keeps its worker handles between reruns."""
    return open_runner(wb.settings, name)


try:
    runner = pipeline_runner(str(wb.data_dir), wb.settings.runner)
except FlowTypeError as exc:
    show_error(exc)
    st.stop()

st.title("Pipeline")
st.caption(
    f"Bronze ingests new session files, silver types and validates them (failing rows go to quarantine), "
    f"gold computes the metrics and the ranker's examples. Runner: **{runner.name}**."
)

left, right, _ = st.columns([2, 1, 3], vertical_alignment="bottom")
target = left.selectbox("Run", list(TARGETS), index=list(TARGETS).index("all"))
if right.button("Start", type="primary"):
    try:
        st.session_state["flowtype_pipeline_run"] = runner.start(target).run_id
    except Exception as exc:
        show_error(exc)


def show_run(run_id: str) -> bool:
    """Draw one run's live state; True while it is still going."""
    record = runner.status(run_id)
    st.subheader(f"Run {record.run_id}: {record.target}")
    elapsed = record.elapsed_seconds()
    st.markdown(
        f"**{record.state}** on the {record.runner} runner"
        + (f", {elapsed:.1f} s" if elapsed is not None else "")
    )
    if record.url:
        st.link_button("Open the run in Databricks", record.url)
    for column, task in zip(st.columns(len(record.tasks) or 1), record.tasks, strict=False):
        column.metric(task.name, task.state, help=task.error)
    st.dataframe([{c: getattr(t, c) for c in TASK_COLUMNS} for t in record.tasks], hide_index=True)
    for task in record.tasks:
        if task.error:
            st.error(f"{task.name}: {task.error}")
        extra = {k: v for k, v in task.details.items() if k not in ("tables", "progress")}
        if task.state == "running" and task.details.get("progress"):
            st.caption(f"{task.name}: {task.details['progress']}")
        if task.state == "succeeded" and extra:
            with st.expander(f"{task.name} details"):
                st.json(extra)
    if not record.is_final and st.button("Cancel run", key=f"cancel_{run_id}"):
        try:
            runner.cancel(run_id)
        except Exception as exc:
            show_error(exc)
    return not record.is_final


runs = runner.runs(limit=20)
current = st.session_state.get("flowtype_pipeline_run") or (runs[0].run_id if runs else None)
going = current is not None and not runner.status(current).is_final


@st.fragment(run_every=REFRESH_SECONDS if going else None)
def live() -> None:
    if current is None:
        st.info("No pipeline run yet: choose a target and press Start.")
    elif not show_run(current) and going:
        st.rerun()  # the run just ended: redraw the page once, without the refresh timer
    st.subheader("History")
    history = [r.history_row() for r in runner.runs(limit=20)]
    if history:
        st.dataframe(history, hide_index=True, column_config={"url": st.column_config.LinkColumn("run page")})


live()
