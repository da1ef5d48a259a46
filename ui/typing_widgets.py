"""The typing test's session state and its drawn pieces: consent, per-sentence result, summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import streamlit as st

from flowtype_core.practice import SectionFeedback, SessionSummary
from flowtype_core.ranker import Recommendation
from flowtype_core.recorder import Recorder, SectionResult, SessionHandle

RUN_KEY = "flowtype_typing_run"  # "flowtype…" keys are cleared at logout (ui.auth)
CAPTURE_KEY = "flowtype_typing_capture"
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
    index: int = 0
    result: SectionResult | None = None  # set while the latest sentence's result is shown
    feedback: SectionFeedback | None = None
    finished: bool = False

    @property
    def current(self) -> Recommendation:
        return self.sentences[self.index]

    @property
    def is_last(self) -> bool:
        return self.index == len(self.sentences) - 1

    def advance(self, recorder: Recorder) -> None:
        """Move to the next sentence; after the last one the session is completed."""
        if self.is_last:
            recorder.end_session(self.handle, status="completed")
            self.finished = True
        else:
            self.index += 1
        self.result = self.feedback = None

    def abandon(self, recorder: Recorder) -> None:
        """Mark an unfinished session abandoned (its finished sentences stay recorded)."""
        if not self.finished:
            recorder.end_session(self.handle, status="abandoned")
            self.finished = True


def current_run(participant_id: str) -> TypingRun | None:
    """This participant's run, if any. A run held for anyone else is dropped, never shown."""
    run = st.session_state.get(RUN_KEY)
    if isinstance(run, TypingRun) and run.handle.participant_id == participant_id:
        return run
    st.session_state.pop(RUN_KEY, None)
    return None


def consent_form(default_sentences: int) -> tuple[datetime, int] | None:
    """The consent screen; (moment of agreement, sentences wanted) once the participant agrees."""
    st.markdown(CONSENT_TEXT)
    with st.form("flowtype_typing_consent"):
        sentences = st.number_input(
            "Sentences this session", min_value=1, max_value=MAX_SENTENCES, value=default_sentences
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


def show_result(run: TypingRun) -> None:
    """The latest sentence's speed, accuracy and hint."""
    result, feedback = run.result, run.feedback
    if result is None:
        return
    st.subheader(f"Sentence {run.index + 1} of {len(run.sentences)}: done")
    wpm, errors, kspc = st.columns(3)
    wpm.metric("Speed (WPM)", _number(result.wpm, ".1f"))
    errors.metric("Uncorrected error rate", f"{_number(result.error_rate, '.1f')} %")
    kspc.metric("Key presses", result.keystroke_count)
    for line in hint_lines(feedback) if feedback else []:
        st.markdown(line)


def show_summary(summary: SessionSummary) -> None:
    """Means over the session and a small chart of speed per sentence."""
    st.subheader("Session summary")
    wpm, errors, sentences = st.columns(3)
    wpm.metric("Mean speed (WPM)", _number(summary.average_wpm, ".1f"))
    errors.metric("Mean uncorrected error rate", f"{_number(summary.average_error_rate, '.1f')} %")
    sentences.metric("Sentences", summary.sentences)
    if summary.per_sentence.height:
        st.bar_chart(
            summary.per_sentence, x="sentence", y="wpm", x_label="Sentence", y_label="WPM", height=220
        )
