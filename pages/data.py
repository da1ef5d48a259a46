"""Researchers load demo data in one click and see where the data lives."""

import streamlit as st

from flowtype_core.datasets.upload import import_uploaded
from flowtype_core.demo import generate_demo
from ui.auth import require_role
from ui.export_widgets import export_section
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
            progress=bar.progress,
        )
    except Exception as exc:
        show_error(exc)
    else:
        st.success(
            f"Created {totals['sessions']} sessions, {totals['sections']} sentences and "
            f"{totals['keystrokes']} key presses. Lakehouse writes continue in the background."
        )

st.subheader("Import the Aalto 136M-keystrokes dataset")
st.write(
    "Reads `<id>_keystrokes.txt` files (tab-separated; rows that break the live capture's rules are "
    "counted by reason and left out) and writes "
    "them through the same store and lakehouse path as live sessions. Importing twice changes nothing."
)
source = st.radio("Source", ["Folder on the server", "Upload files"], horizontal=True)
bar = st.empty()


def _progress(fraction: float, message: str) -> None:
    bar.progress(min(fraction, 1.0), text=message)


if source == "Folder on the server":
    folder = st.text_input("Folder", placeholder="/path/to/keystrokes")
    start = st.button("Import folder", disabled=not folder)
    run = (lambda: wb.import_aalto(folder, progress=_progress)) if start else None
else:
    files = st.file_uploader("Keystroke files", type="txt", accept_multiple_files=True)
    start = st.button("Import uploaded files", disabled=not files)
    run = (
        (lambda: import_uploaded(wb, [(f.name, f.getvalue()) for f in files], progress=_progress))
        if start
        else None
    )
if run is not None:
    try:
        report = run()
    except Exception as exc:
        show_error(exc)
    else:
        st.success(
            f"{report['participants']} participants, {report['sections']} sentences, {report['keystrokes']} "
            f"key presses: {report['written_sessions']} sessions written, {report['unchanged_sessions']} "
            f"already up to date, {report['malformed_rows']} rows left out."
        )
        if report["dropped_rows"] or report["lossy_rows"] or report["unreadable_files"]:
            st.warning(
                "Left out by reason: "
                + (
                    ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in report["dropped_rows"].items())
                    or "none"
                )
                + ". "
                f"{report['lossy_rows']} rows kept with bytes that are not UTF-8 shown as \ufffd; "
                f"{len(report['unreadable_files'])} files could not be read."
            )
            st.json(
                {k: report[k] for k in ("dropped_by_file", "lossy_by_file", "unreadable_files")},
                expanded=False,
            )

export_section(wb)
