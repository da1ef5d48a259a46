"""A study's questionnaire as a form; the answers are checked by `studies.check_answers`."""

from __future__ import annotations

from typing import Any

import streamlit as st

from flowtype_core.errors import InvalidInput
from flowtype_core.studies import Question, check_answers
from ui.resources import show_error


def _ask(question: Question) -> Any:
    label = question.label + ("" if question.required else " (optional)")
    key = f"flowtype_q_{question.id}"
    if question.kind == "choice":
        return st.selectbox(label, question.options, index=None, placeholder="Choose…", key=key)
    if question.kind == "number":
        value = st.number_input(
            label, min_value=question.low, max_value=question.high, value=None, step=1, key=key
        )
        return None if value is None else int(value)
    return st.text_input(label, max_chars=200, key=key)


def questionnaire_form(questions: tuple[Question, ...]) -> dict[str, Any] | None:
    """The answers once they are complete and valid; None while the form is being filled in."""
    st.subheader("A few questions first")
    st.caption("Your answers are stored with your typing under your pseudonymous id.")
    with st.form("flowtype_questionnaire"):
        answers = {q.id: _ask(q) for q in questions}
        if not st.form_submit_button("Continue to the typing test", type="primary"):
            return None
    try:
        return check_answers(questions, {k: v for k, v in answers.items() if v not in (None, "")})
    except InvalidInput as exc:
        show_error(exc)
        return None
