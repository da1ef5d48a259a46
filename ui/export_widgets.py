"""The export controls: pick a format and filters, build the archive on demand, download it."""

from __future__ import annotations

import streamlit as st

from flowtype_core import Workbench
from flowtype_core.errors import InvalidInput
from flowtype_core.export import export_archive
from flowtype_core.studies import StudyRepository
from ui.resources import show_error

FORMATS = {
    "aalto": "Aalto dataset files (<id>_keystrokes.txt; re-importable)",
    "kvc": "Keystroke Verification Challenge ([press, release, keycode] per sentence, JSON)",
    "bids": "BIDS behavioural events (sub-<id>/beh/…_events.tsv + JSON sidecar)",
    "parquet": "Parquet tables (keystrokes, sections, sessions, participants)",
}
ALL_STUDIES = "All data"


def export_section(wb: Workbench) -> None:
    """Build only when asked: an archive of a large store is not made on every page run."""
    st.subheader("Export")
    left, right = st.columns(2)
    fmt = left.selectbox("Format", list(FORMATS), format_func=FORMATS.__getitem__)
    study = right.selectbox("Study", [ALL_STUDIES, *StudyRepository(wb.data_dir).study_ids()])
    valid_only = st.checkbox("Leave out sentences flagged invalid", value=False)
    if st.button("Build export"):
        with st.spinner("Building the export…"):
            try:
                payload, report = export_archive(
                    wb.lakehouse, fmt, study=None if study == ALL_STUDIES else study, valid_only=valid_only
                )
            except InvalidInput as exc:
                show_error(exc)
                return
        skipped = report.get("skipped_sections", 0)
        st.success(
            f"Export ready ({len(payload) / 1e6:.1f} MB)"
            + (
                f"; {skipped} sentences left out ({report.get('skipped_reason', 'not representable')})."
                if skipped
                else "."
            )
        )
        st.download_button(
            "Download", payload, file_name=report["out"], mime="application/zip", type="primary"
        )
