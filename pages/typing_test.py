"""The typing test (SPEC §3.1): consent (and a study's questionnaire), sentences typed one at a
time with live feedback, a result after each, a summary. Keyboard only: Enter submits, Enter on
the result goes on, Escape retypes.

The participant is always the logged-in user; no widget or URL can name anyone else.
"""

from datetime import datetime

import streamlit as st

from flowtype_core.practice import session_summary
from flowtype_core.studies import StudyRepository
from flowtype_core.studies.plan import next_sentences, study_plan
from ui.auth import on_logout, require_role
from ui.keystroke_capture import keystroke_capture
from ui.resources import show_error, workbench
from ui.study_widgets import questionnaire_form
from ui.typing_widgets import (
    CAPTURE_KEY,
    CONSENT_KEY,
    RUN_KEY,
    TypingRun,
    act_on,
    consent_form,
    current_run,
    result_buttons,
    run_plan,
    show_progress,
    show_result,
    show_summary,
)

SENTENCES_PER_SESSION = 5

user = require_role("participant", "researcher")
wb = workbench()
participant_id = user.username
plan = study_plan(StudyRepository(wb.data_dir), wb.store, participant_id)
st.title("Typing test")


def start(consented_at: datetime, sentences: int) -> None:
    """Open a session (an unfinished earlier one becomes abandoned) with the study's sentences, or
    the ranker's picks for this typist (unseen corpus sentences without a model or history)."""
    picked = next_sentences(wb, participant_id, plan, sentences)
    study = plan.enrolment.assignment if plan else None
    handle = wb.recorder.start_session(
        participant_id, consented_at=consented_at, study=study, plan=run_plan(picked)
    )
    hold(TypingRun(handle, picked, consented_at, feedback=plan.feedback if plan else True))
    st.rerun()


def hold(run: TypingRun) -> None:
    """Keep the run for this browser session; a logout abandons it."""
    st.session_state[RUN_KEY] = run
    st.session_state.pop(CONSENT_KEY, None)
    on_logout("typing", lambda: run.abandon(wb.recorder))


run = current_run(participant_id)
if run is None and (resumed := wb.recorder.resume(participant_id)) is not None:
    run = TypingRun.resumed(resumed, plan.feedback if plan else True, wb.recorder)
    hold(run)
    st.toast(f"Welcome back: your session continues at sentence {run.index + 1}.", icon="↩️")
rejected = act_on(run, wb.recorder, wb.store) if run is not None and not run.finished else None
if run is None:
    agreed = st.session_state.get(CONSENT_KEY)
    if agreed is None:
        agreed = consent_form(
            plan.count if plan else SENTENCES_PER_SESSION, study_text=plan.consent_text if plan else None
        )
        if agreed is not None:
            st.session_state[CONSENT_KEY] = agreed  # a study's questions are asked only after consent
            st.rerun()
    elif plan is not None and plan.needs_answers:
        answers = questionnaire_form(plan.questionnaire)
        if answers is not None:
            wb.recorder.record_participant(plan.enrolment.assignment, answers=answers)
            start(*agreed)
    else:
        start(*agreed)
elif run.finished:
    show_summary(session_summary(wb.store, participant_id, run.handle.session_id))
    if st.button("Start a new session", type="primary"):
        start(run.consented_at, len(run.sentences))
else:
    show_progress(run)
    show_result(run)
    if rejected is not None:
        show_error(rejected)
    keystroke_capture(
        sentence=run.current.sentence.text,
        token=run.handle.token,
        section_index=run.index,
        key=CAPTURE_KEY,
        attempt=run.attempt,
        feedback=run.feedback,
        result=run.diff if run.result is not None else None,
    )
    if run.result is not None:
        result_buttons(run)
