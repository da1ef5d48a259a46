"""Researchers load demo data in one click and see where the data lives."""

import streamlit as st

from flowtype_core.demo import generate_demo
from ui.auth import require_role
from ui.resources import show_error, workbench

require_role("researcher")
wb = workbench()
st.title("Data")
st.write(f"Data directory: `{wb.data_dir.resolve()}` · lakehouses: {', '.join(wb.lakehouses)}")

st.subheader("Demo data")
st.write(
    "Synthetic typists with realistic timing (lognormal intervals, rollover, typos and corrections), "
    "written through the same capture path as live sessions."
)
participants = st.number_input("Demo participants", min_value=1, max_value=100, value=8)
if st.button("Load demo data", type="primary"):
    bar = st.progress(0.0, text="Generating demo sessions…")
    try:
        totals = generate_demo(
            wb.recorder,
            participants=int(participants),
            progress=lambda done, total: bar.progress(done / total, text=f"{done}/{total} typists"),
        )
    except Exception as exc:
        show_error(exc)
    else:
        st.success(
            f"Created {totals['sessions']} sessions, {totals['sections']} sentences and "
            f"{totals['keystrokes']} key presses. Lakehouse writes continue in the background."
        )
