"""The typing test's session state and its drawn pieces: consent, per-sentence result, summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from flowtype_core.corpus import Sentence
from flowtype_core.errors import InvalidInput, StorageFull
from flowtype_core.practice import (
    DiffSegment,
    SectionFeedback,
    SessionSummary,
    feedback_for_section,
    typed_diff,
)
from flowtype_core.quality import flag_meanings
from flowtype_core.ranker import Recommendation
from flowtype_core.recorder import Recorder, ResumedSession, SectionResult, SessionHandle
from flowtype_core.store.csv_store import SessionStore
from ui.keystroke_capture import Action, captured_action

RUN_KEY = "flowtype_typing_run"  # "flowtype…" keys are cleared at logout (ui.auth)
CONSENT_KEY = "flowtype_typing_agreed"  # consent given, questionnaire still to answer
CAPTURE_KEY = "flowtype_typing_capture"
NEXT_KEY = "flowtype_typing_next"
RETRY_KEY = "flowtype_typing_retry"
MAX_SENTENCES = 20

CONSENT_TEXT = """
**What is recorded.** For every key you press while typing a sentence: which key it was and when
it went down and came up (to the millisecond), plus the text you submitted. Nothing else on your
computer is read, and nothing is recorded outside the typing box.

**Why.** To compute your speed and accuracy, to show you which keys and letter pairs slow you
down, and to choose practice sentences that suit you. Researchers on this study use the same data,
stored under your username, to study typing behaviour.

**Where.** In this workbench's data folder and its analysis tables. Sentences you finish are kept
even if you stop midway.
"""


@dataclass
class TypingRun:
    """One participant's test in progress; lives in the browser session's state."""

    handle: SessionHandle
    sentences: list[Recommendation]  # the session's sentences, each with why it was picked
    consented_at: datetime
    feedback: bool = True  # False in a study condition that types without live marks or figures
    index: int = 0
    attempt: int = 0  # bumped by a retype, so the field starts empty again
    result: SectionResult | None = None  # set while the latest sentence's result is shown
    feedback_hints: SectionFeedback | None = None
    diff: tuple[DiffSegment, ...] = ()
    finished: bool = False
    last_trigger: tuple[str, str] | None = None

    def is_new(self, kind: str, payload: dict[str, object]) -> bool:
        """Whether a component trigger is new: a value delivered again (a rerun that replays the
        last one) is acted on once. Each value differs from the last: a submit holds its own key
        presses, the others the time of their key press (a nonce)."""
        seen = (kind, json.dumps(payload, sort_keys=True, default=str))
        if seen == self.last_trigger:
            return False
        self.last_trigger = seen
        return True

    @property
    def current(self) -> Recommendation:
        return self.sentences[self.index]

    @classmethod
    def resumed(cls, session: ResumedSession, feedback: bool, recorder: Recorder) -> TypingRun:
        """The run a reload left, at its first untyped sentence (finished if none is left)."""
        sentences = [
            Recommendation(Sentence(p["id"], p["text"]), 0.0, p["reason"], tuple(p["targets"]), p["source"])
            for p in session.plan
        ]
        last = len(sentences) - 1
        run = cls(
            session.handle, sentences, session.consented_at, feedback, index=min(session.next_index, last)
        )
        if session.next_index > last:
            run.advance(recorder)  # every sentence was typed: complete it and show the summary
        return run

    @property
    def is_last(self) -> bool:
        return self.index == len(self.sentences) - 1

    def show(self, result: SectionResult, hints: SectionFeedback) -> None:
        """Hold the sentence's result (and where the typed text differs) for the result screen."""
        self.result, self.feedback_hints = result, hints
        self.diff = typed_diff(self.current.sentence.text, result.user_input)

    def retype(self) -> None:
        """Back to the same sentence; the new attempt replaces the recorded one."""
        self.result = self.feedback_hints = None
        self.attempt += 1

    def advance(self, recorder: Recorder) -> None:
        """Move to the next sentence; after the last one the session is completed."""
        if self.is_last:
            recorder.end_session(self.handle, status="completed")
            self.finished = True
        else:
            self.index += 1
        self.result = self.feedback_hints = None
        self.attempt = 0

    def abandon(self, recorder: Recorder) -> None:
        """Mark an unfinished session abandoned (its finished sentences stay recorded)."""
        if not self.finished:
            recorder.end_session(self.handle, status="abandoned")
            self.finished = True


def run_plan(sentences: list[Recommendation]) -> list[dict[str, object]]:
    """A run's sentences as the session folder keeps them, so a reload can resume the run."""
    return [
        {
            "id": r.sentence.id,
            "text": r.sentence.text,
            "reason": r.reason,
            "source": r.source,
            "targets": r.targets,
        }
        for r in sentences
    ]


def current_run(participant_id: str) -> TypingRun | None:
    """This participant's run, if any. A run held for anyone else is dropped, never shown."""
    run = st.session_state.get(RUN_KEY)
    if isinstance(run, TypingRun) and run.handle.participant_id == participant_id:
        return run
    st.session_state.pop(RUN_KEY, None)
    return None


def consent_form(default_sentences: int, *, study_text: str | None = None) -> tuple[datetime, int] | None:
    """The consent screen; (moment of agreement, sentences wanted) once the participant agrees.

    In a study the protocol's consent text is shown and its sentence count is fixed.
    """
    st.markdown(CONSENT_TEXT if study_text is None else study_text)
    with st.form("flowtype_typing_consent"):
        if study_text is None:
            sentences = st.number_input(
                "Sentences this session", min_value=1, max_value=MAX_SENTENCES, value=default_sentences
            )
        else:
            sentences = default_sentences
            st.caption(
                f"This session has {default_sentences} sentence{'' if default_sentences == 1 else 's'}."
            )
        agreed = st.checkbox("I agree that my key presses are recorded as described above.")
        if st.form_submit_button("Start the typing test", type="primary"):
            if agreed:
                return datetime.now(UTC), int(sentences)
            st.warning("Please tick the box to agree first. Nothing is recorded without your consent.")
    return None


def _visible(text: str) -> str:
    return text.replace(" ", "␣")


def hint_lines(feedback: SectionFeedback) -> list[str]:
    """Plain-language hints from a section's feedback."""
    lines = []
    if feedback.slowest_digraph and feedback.slowest_latency_ms is not None:
        typical = f" (your typical gap was {feedback.median_iki_ms:.0f} ms)" if feedback.median_iki_ms else ""
        lines.append(
            f"Slowest letter pair: **{_visible(feedback.slowest_digraph)}**, "
            f"{feedback.slowest_latency_ms:.0f} ms between the keys{typical}."
        )
    for typed, expected in feedback.corrections:
        wanted = f" where **{_visible(expected)}** was expected" if expected else " past the sentence's end"
        lines.append(f"You corrected **{_visible(typed)}**{wanted}.")
    return lines


def _number(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def show_progress(run: TypingRun) -> None:
    """Where the participant is in the session, and why this sentence (outside a fixed study set)."""
    done = run.index + (run.result is not None)
    st.progress(done / len(run.sentences), text=f"Sentence {run.index + 1} of {len(run.sentences)}")
    if run.result is None and run.current.source != "study":
        st.caption(f"Why this sentence: {run.current.reason}.")


def show_result(run: TypingRun) -> None:
    """The latest sentence's speed, accuracy and hint (just "recorded" when feedback is off)."""
    result, hints = run.result, run.feedback_hints
    if result is None:
        return
    st.subheader(f"Sentence {run.index + 1} of {len(run.sentences)}: done")
    if not result.valid:
        why = "; ".join(flag_meanings(result.quality_flags))
        st.warning(f"This sentence is kept but left out of your averages ({why}).", icon="⚠️")
    if not run.feedback:
        return
    wpm, errors, kspc = st.columns(3)
    wpm.metric("Speed (WPM)", _number(result.wpm, ".1f"))
    errors.metric("Uncorrected error rate", f"{_number(result.error_rate, '.1f')} %")
    kspc.metric("Key presses", result.keystroke_count)
    for line in hint_lines(hints) if hints else []:
        st.markdown(line)


def result_buttons(run: TypingRun) -> None:
    """The mouse's way on from a result (Enter and Escape do the same in the component)."""
    buttons = st.container(horizontal=True)
    buttons.button("See my summary" if run.is_last else "Next sentence", type="primary", key=NEXT_KEY)
    buttons.button("Retype this sentence", key=RETRY_KEY)


def pressed_result_button() -> tuple[Action, dict[str, Any]] | None:
    """Which of `result_buttons` was clicked on the previous run, read before anything is drawn."""
    if st.session_state.get(NEXT_KEY):
        return "next", {}
    if st.session_state.get(RETRY_KEY):
        return "retry", {}
    return None


def act_on(run: TypingRun, recorder: Recorder, store: SessionStore) -> Exception | None:
    """Do what the participant asked on the previous screen, before anything is drawn, so a key
    press costs one script run; a rejected batch comes back to be shown (nothing was written)."""
    action = captured_action(CAPTURE_KEY)
    if action is not None and not run.is_new(*action):
        action = None
    action = action or pressed_result_button()
    if action is None or (action[0] == "submit") != (run.result is None):
        return None  # a replayed or stale trigger: the screen it came from is gone
    kind, batch = action
    if kind == "next":
        run.advance(recorder)
    elif kind == "retry":
        run.retype()
    else:
        try:
            result = recorder.submit_section(run.handle, run.index, run.current.sentence, batch)
        except (InvalidInput, StorageFull) as exc:
            return exc  # the field is empty again, so the participant just retypes
        participant_id, session_id = run.handle.participant_id, run.handle.session_id
        run.show(result, feedback_for_section(store, participant_id, session_id, result.test_section_id))
    return None


def show_summary(summary: SessionSummary) -> None:
    """Means over the session's valid sentences, and this session against the earlier ones."""
    st.subheader("Session summary")
    wpm, errors, sentences = st.columns(3)
    wpm.metric("Mean speed (WPM)", _number(summary.average_wpm, ".1f"))
    errors.metric("Mean uncorrected error rate", f"{_number(summary.average_error_rate, '.1f')} %")
    sentences.metric("Sentences", summary.sentences)
    if summary.excluded:
        st.caption(
            f"{summary.excluded} flagged sentence{'s' if summary.excluded > 1 else ''} "
            "left out of the means (kept in your record)."
        )
    if summary.history.height > 1:
        st.plotly_chart(history_chart(summary.history), width="stretch", config={"displayModeBar": False})
    elif summary.per_sentence.height:
        st.bar_chart(
            summary.per_sentence, x="sentence", y="wpm", x_label="Sentence", y_label="WPM", height=220
        )


THIS_SESSION = "#ff4b4b"  # Streamlit's primary red: this session stands out from the grey history
EARLIER = "#a3a8b8"


def history_chart(history: pl.DataFrame) -> go.Figure:
    """Mean WPM per session, oldest first, this session in colour and labelled."""
    current = history.get_column("this_session").to_list()
    figure = go.Figure(
        go.Bar(
            x=history.get_column("session").to_list(),
            y=history.get_column("wpm").to_list(),
            marker_color=[THIS_SESSION if c else EARLIER for c in current],
            text=[f"{w:.0f}" if c else "" for w, c in zip(history.get_column("wpm"), current, strict=True)],
            textposition="outside",
            hovertemplate="Session %{x}: %{y:.1f} WPM<extra></extra>",
        )
    )
    figure.update_layout(
        title="Your mean speed per session (this one in red)",
        height=260,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"title": "Session", "dtick": 1},
        yaxis={"title": "WPM", "rangemode": "tozero"},
        showlegend=False,
    )
    return figure
