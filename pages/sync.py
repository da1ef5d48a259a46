"""Sync: does every lakehouse hold what the CSV store holds? Validate, filter, repair (SPEC §3.4)."""

import plotly.express as px
import streamlit as st

from flowtype_core.sync.report import IN_SYNC, STATUSES
from flowtype_core.sync.service import Selection, SyncService
from ui.auth import require_role
from ui.resources import show_error, workbench

NOTICE = "flowtype_sync_notice"
user = require_role("researcher")
sync = SyncService.for_workbench(workbench())

st.title("Sync")
st.caption(
    "The CSV store is the source of truth. Each lakehouse is compared with it per section: keystroke "
    "rows and a content checksum. Resync pushes sections again through the outbox; it is safe to repeat."
)

left, right, _ = st.columns([1, 1, 3])
try:
    if left.button("Validate", help="Re-read only sessions changed since the last validation"):
        sync.validate()
    if right.button("Full validation", help="Re-read every CSV session"):
        sync.validate(full=True)
    report = sync.last_report() or sync.validate()
except Exception as exc:  # shown redacted; the page stays usable
    show_error(exc)
    st.stop()

notice = st.session_state.pop(NOTICE, None)
if notice is not None:  # the outcome of the resync that triggered this run
    kind, message, failures = notice
    (st.success if kind == "success" else st.warning)(message)
    for name, error in failures.items():
        st.error(f"{name}: {error}")

counts = report.counts()
for column, status in zip(st.columns(len(STATUSES)), STATUSES, strict=True):
    name = status.replace("_", " ")
    problem = status != IN_SYNC and counts[status] > 0  # what needs a resync stands out in red
    column.metric(f":red[**{name}**]" if problem else name, counts[status], border=problem)
st.caption(
    f"Validated {report.validated_at} in {report.seconds:.2f} s: {report.total_sessions} sessions, "
    f"{report.scanned_sessions} re-read{' (full)' if report.full else ''}."
)
for what, error in report.errors.items():
    st.warning(f"Could not read {what}: {error}")

st.subheader("Sections")
sections = report.sections
f1, f2, f3, f4 = st.columns(4)
statuses = f1.multiselect(
    "Status", STATUSES, default=[s for s in STATUSES if s != IN_SYNC and counts[s]] or [IN_SYNC]
)
lakehouses = f2.multiselect("Lakehouse", sorted(set(sections.get_column("lakehouse").to_list())))
participants = f3.multiselect("Participant", sorted(set(sections.get_column("participant_id").to_list())))
session_text = f4.text_input("Session id contains")
view = report.filtered(
    statuses=statuses, lakehouses=lakehouses, participants=participants, session_contains=session_text
)
shown = view.sections
if st.toggle("One row per session", help="Sections per status, summed per lakehouse and session"):
    st.dataframe(view.sessions(), hide_index=True)
else:
    st.dataframe(shown, hide_index=True)

st.subheader("Resync")
b1, b2, _ = st.columns([1, 1, 2])
selection = None
if b1.button("Resync every out-of-sync section", type="primary"):
    selection = Selection()
if b2.button(f"Resync the {shown.height} sections shown", disabled=shown.is_empty()):
    selection = Selection(
        lakehouses=tuple(set(shown.get_column("lakehouse").to_list())),
        sections=tuple(set(shown.get_column("test_section_id").to_list())),
    )
if selection is not None:
    bar = st.progress(0.0, text="Queueing sections...")
    try:
        result = sync.resync(
            selection,
            progress=bar.progress,
        )
    except Exception as exc:
        show_error(exc)
    else:
        bar.progress(1.0, text="Done")
        message = (
            f"Queued {result.queued} outbox entries and drained the outbox in {result.seconds:.1f} s. "
            f"Now: {', '.join(f'{k} {v}' for k, v in result.after.counts().items() if v)}."
        )
        # Record a fresh validation and redraw, so the cards above show the state after the resync.
        sync.validate()
        st.session_state[NOTICE] = ("success" if result.ok else "warning", message, dict(result.failures))
        st.rerun()

st.subheader("Outbox")
outbox = sync.outbox_frame()
if outbox.is_empty():
    st.write("Nothing is waiting for a lakehouse.")
else:
    st.dataframe(outbox, hide_index=True)
    if st.button("Push the outbox now", help="Retry every entry at once, ignoring its backoff"):
        drained = sync.publisher.drain(force=True)
        for name, error in drained.failures.items():
            st.error(f"{name}: {error}")
        if drained.ok:
            st.success(f"Pushed {sum(drained.pushed_sections.values())} sections.")

st.subheader("History")
history = sync.history_frame(500)
if history.is_empty():
    st.write("No sync runs recorded yet.")
else:
    figure = px.scatter(
        history.to_pandas(),
        x="started_at",
        y="rows",
        color="status",
        color_discrete_map={"ok": "#2e7d32", "partial": "#ef6c00", "failed": "#c62828"},
        symbol="kind",
        hover_data=["lakehouse", "sections", "seconds", "error"],
        labels={"started_at": "Started", "rows": "Rows pushed", "status": "Outcome", "kind": "Run"},
        title="Sync runs: rows per run, coloured by outcome",
    )
    st.plotly_chart(figure)
    st.dataframe(history.reverse().head(100), hide_index=True)
