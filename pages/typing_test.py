"""The typing test (SPEC §3.1): consent, sentences typed one at a time, a result after each, a summary.

The participant is always the logged-in user; no widget or URL can name anyone else.
"""

from datetime import datetime

import streamlit as st

from flowtype_core.errors import InvalidInput
from flowtype_core.practice import feedback_for_section, session_summary
from flowtype_core.ranker import recommend_sentences
from ui.auth import on_logout, require_role
from ui.keystroke_capture import keystroke_capture
from ui.resources import show_error, workbench
from ui.typing_widgets import (
    CAPTURE_KEY,
    RUN_KEY,
    TypingRun,
    consent_form,
    current_run,
    show_result,
    show_summary,
)

SENTENCES_PER_SESSION = 5

user = require_role("participant", "researcher")
wb = workbench()
participant_id = user.username
st.title("Typing test")


def start(consented_at: datetime, sentences: int) -> None:
    """Open a session (an unfinished earlier one becomes abandoned); the ranker picks its sentences
    for this typist, or falls back to unseen corpus sentences without a model or history."""
    handle = wb.recorder.start_session(participant_id, consented_at=consented_at)
    run = TypingRun(handle, recommend_sentences(wb, participant_id, sentences), consented_at)
    st.session_state[RUN_KEY] = run
    on_logout("typing", lambda: run.abandon(wb.recorder))
    st.rerun()


run = current_run(participant_id)
if run is None:
    agreed = consent_form(SENTENCES_PER_SESSION)
    if agreed is not None:
        start(*agreed)
elif run.finished:
    show_summary(session_summary(wb.store, participant_id, run.handle.session_id))
    if st.button("Start a new session", type="primary"):
        start(run.consented_at, len(run.sentences))
elif run.result is not None:
    show_result(run)
    next_col, retry_col = st.columns(2)
    if next_col.button("See my summary" if run.is_last else "Next sentence", type="primary"):
        run.advance(wb.recorder)
        st.rerun()
    if retry_col.button("Retype this sentence"):
        run.result = run.feedback = None  # the new attempt replaces this one
        st.rerun()
else:
    st.progress(run.index / len(run.sentences), text=f"Sentence {run.index + 1} of {len(run.sentences)}")
    st.caption(f"Why this sentence: {run.current.reason}.")
    errors = st.empty()
    batch = keystroke_capture(
        sentence=run.current.sentence.text, token=run.handle.token, section_index=run.index, key=CAPTURE_KEY
    )
    if batch is not None:
        try:
            run.result = wb.recorder.submit_section(run.handle, run.index, run.current.sentence, batch)
        except InvalidInput as exc:
            with errors.container():
                show_error(exc)  # nothing was written; the field is empty again, so just retype
        else:
            run.feedback = feedback_for_section(
                wb.store, participant_id, run.handle.session_id, run.result.test_section_id
            )
            st.rerun()
