"""The pipeline runner and its live run view, shared by the Pipeline and Ranker pages."""

from __future__ import annotations

from typing import Any

import streamlit as st

from flowtype_core import Workbench
from flowtype_core.errors import FlowTypeError
from flowtype_core.pipeline.runners import Runner, open_runner
from ui.resources import show_error

REFRESH_SECONDS = 1.0
MODEL_FETCH_SECONDS = 60  # how long the Ranker page trusts its last look at the runner's models
TASK_COLUMNS = ("name", "state", "rows_in", "rows_written", "quarantined", "seconds", "error")
RUN_KEY = "flowtype_pipeline_run"


@st.cache_resource(show_spinner=False)
def _runner(_wb: Workbench, data_dir: str, name: str) -> Runner:
    """One runner per server: the local runner keeps its worker handles between reruns."""
    return open_runner(_wb.settings, name)


def pipeline_runner(wb: Workbench) -> Runner:
    """The configured runner, or a clear error and a stopped page when it cannot be built."""
    try:
        return _runner(wb, str(wb.data_dir), wb.settings.runner)
    except FlowTypeError as exc:
        show_error(exc)
        st.stop()
        raise  # unreachable: st.stop ends the script run


@st.cache_data(ttl=MODEL_FETCH_SECONDS, show_spinner="Looking for a newer model on the runner…")
def _fetched_models(_runner: Runner, data_dir: str, name: str) -> dict[str, Any]:
    return _runner.sync_models()


def fetch_models(runner: Runner, wb: Workbench) -> None:
    """Copy a model the runner trained elsewhere (a Databricks job) into the registry, and say so."""
    try:
        fetched = _fetched_models(runner, str(wb.data_dir), runner.name)
    except FlowTypeError as exc:
        show_error(exc)
        return
    if fetched.get("files"):
        st.toast(f"Fetched the model {fetched['source']} as {fetched['version']}")


def start_run(runner: Runner, target: str) -> str | None:
    """Start `target` and remember it as the run both pages watch."""
    try:
        run_id = runner.start(target).run_id
    except Exception as exc:
        show_error(exc)
        return None
    st.session_state[RUN_KEY] = run_id
    return run_id


def show_run(runner: Runner, run_id: str) -> bool:
    """Draw one run's live state (tasks, rows, elapsed, errors, cancel); True while it is going."""
    record = runner.status(run_id)
    st.subheader(f"Run {record.run_id}: {record.target}")
    elapsed = record.elapsed_seconds()
    st.markdown(
        f"**{record.state}** on the {record.runner} runner"
        + (f", {elapsed:.1f} s" if elapsed is not None else "")
    )
    if record.url:
        st.link_button("Open the run in Databricks", record.url)
    for name, value in record.details.items():  # e.g. the engine, session files sent, model fetched
        shown = ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else value
        st.caption(f"{name}: {shown}")
    # Two task cards a row: four in one row cut "succeeded" to "succee..." on a laptop screen.
    for first in range(0, len(record.tasks), 2):
        for column, task in zip(st.columns(2), record.tasks[first : first + 2], strict=False):
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


def live_run(runner: Runner, run_id: str | None, *, history: bool) -> None:
    """Refresh the run every second while it is going; once when it ends."""
    going = run_id is not None and not runner.status(run_id).is_final

    @st.fragment(run_every=REFRESH_SECONDS if going else None)
    def live() -> None:
        if run_id is None:
            st.info("No pipeline run yet: choose a target and press Start.")
        elif not show_run(runner, run_id) and going:
            st.rerun()  # the run just ended: redraw the page once, without the refresh timer
        if history:
            st.subheader("History")
            rows = [r.history_row() for r in runner.runs(limit=20)]
            if rows:
                st.dataframe(
                    rows, hide_index=True, column_config={"url": st.column_config.LinkColumn("run page")}
                )

    live()
