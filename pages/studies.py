"""Researchers create and version study protocols, watch balanced assignment, copy recruitment links."""

import streamlit as st

from flowtype_core.errors import InvalidInput
from flowtype_core.studies import StudyRepository, draft_protocol, overview, to_yaml
from flowtype_core.studies.compare import compare_conditions
from flowtype_core.studies.recruitment import recruitment_link
from ui.auth import require_role
from ui.resources import show_error, workbench
from ui.study_figures import conditions_figure

SOURCES = {"Built-in corpus": "corpus", "My own list": "list", "Picked by the ranker": "ranker"}

require_role("researcher")
wb = workbench()
repo = StudyRepository(wb.data_dir)
st.title("Studies")
st.caption(
    "A study fixes the consent text, the questionnaire, the sentences and the conditions. Every saved "
    "change is a new version; each recorded sentence stores the version it was typed under."
)

if notice := st.session_state.pop("flowtype_studies_notice", None):
    st.success(notice)
studies = overview(repo)
if studies:
    st.dataframe(
        [
            {"Study": s["study_id"], "Title": s["title"], "Version": s["version"]}
            | {f"Participants in {k}": v for k, v in s["participants"].items()}
            for s in studies
        ],
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No studies yet. Create one below; sessions typed outside a study keep working as before.")

new_tab, edit_tab = st.tabs(["New study", "Edit or inspect a study"])
with new_tab, st.form("new_study"):
    # One row of columns per pair, so a narrow screen stacks the fields in reading order.
    left, right = st.columns(2)
    study_id = left.text_input("Study id (letters, digits, '_', '.', '-')", placeholder="pilot-2027")
    title = right.text_input("Title", placeholder="Typing speed with and without live feedback")
    left, right = st.columns(2)
    conditions = left.text_input("Conditions (comma-separated)", value="feedback, no-feedback")
    quiet = right.text_input("Conditions without live feedback (comma-separated)", value="no-feedback")
    left, right = st.columns(2)
    per_session = left.number_input("Sentences per session", min_value=1, max_value=100, value=5)
    seed = right.number_input("Seed: the same seed gives the same assignment and order", min_value=0, value=0)
    source = st.radio("Sentences", list(SOURCES), horizontal=True)
    upload = st.file_uploader(
        "Own list: a TSV file with the header `sentence_id<TAB>sentence`", type=["tsv", "txt"]
    )
    consent = st.text_area("Consent text (leave empty for the default)", height=120)
    st.caption(
        "The questionnaire is the Aalto typing study's (age, gender, typing course, fingers …); edit it later."
    )
    if st.form_submit_button("Create study", type="primary"):
        try:
            saved = repo.create(
                draft_protocol(
                    study_id,
                    title,
                    conditions=[c.strip() for c in conditions.split(",") if c.strip()],
                    without_feedback=[c.strip() for c in quiet.split(",") if c.strip()],
                    sentences_per_session=int(per_session),
                    seed=int(seed),
                    source=SOURCES[source],
                    sentence_list=upload.getvalue().decode("utf-8", errors="replace") if upload else "",
                    consent_text=consent,
                )
            )
        except InvalidInput as exc:
            show_error(exc)
        else:
            st.session_state["flowtype_studies_notice"] = (
                f"Created {saved.study_id}, version {saved.version}."
            )
            st.rerun()

with edit_tab:
    if not studies:
        st.write("Create a study first.")
    else:
        chosen = st.selectbox("Study", [s["study_id"] for s in studies])
        versions = repo.versions(chosen)
        version = st.selectbox("Version", versions[::-1], format_func=lambda v: f"v{v}")
        base = st.text_input("Public address of this app (for the link)", value="http://localhost:8501")
        st.write("Recruitment link — paste it into Prolific, which fills in each participant's ids:")
        st.code(recruitment_link(base, chosen), language=None, wrap_lines=True)
        st.subheader("Conditions compared")
        comparison = compare_conditions(wb.lakehouse.read_table("sections"), study_id=chosen)
        if comparison.is_empty():
            st.write("No sentences have been typed in this study yet.")
        else:
            st.caption(
                "Each typist's mean first, then the mean over typists with a 95 % bootstrap interval; "
                "sentences flagged invalid are left out. A condition with one typist has no interval."
            )
            st.plotly_chart(conditions_figure(comparison), width="stretch")
        st.subheader("Protocol")
        text = st.text_area(
            "Protocol (YAML). Saving a change creates a new version; earlier versions stay as they were.",
            value=to_yaml(repo.load(chosen, version)),
            height=420,
            key=f"yaml-{chosen}-{version}",
        )
        if st.button("Save as a new version"):
            try:
                saved, changed = repo.save_edit(chosen, text)
            except InvalidInput as exc:
                show_error(exc)
            else:
                # Rerun so the version list and the editor show what is now stored.
                st.session_state["flowtype_studies_notice"] = (
                    f"Saved {chosen} v{saved.version}."
                    if changed
                    else "No change: the newest version says this."
                )
                st.rerun()
