"""Pipeline: run bronze, silver, gold (or all) on the configured runner and watch it live (SPEC §3.7)."""

import streamlit as st

from flowtype_core.pipeline import TARGETS
from ui.auth import require_role
from ui.pipeline_widgets import RUN_KEY, live_run, pipeline_runner, start_run
from ui.resources import workbench

user = require_role("researcher")
wb = workbench()
runner = pipeline_runner(wb)

st.title("Pipeline")
st.caption(
    f"Bronze ingests new session files, silver types and validates them (failing rows go to quarantine), "
    f"gold computes the metrics and the ranker's examples, train_ranker trains the practice ranker. "
    f"Runner: **{runner.name}**."
)

left, right, _ = st.columns([2, 1, 3], vertical_alignment="bottom")
target = left.selectbox("Run", list(TARGETS), index=list(TARGETS).index("all"))
if right.button("Start", type="primary"):
    start_run(runner, target)

runs = runner.runs(limit=20)
live_run(runner, st.session_state.get(RUN_KEY) or (runs[0].run_id if runs else None), history=True)
