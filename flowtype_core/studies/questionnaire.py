"""Questionnaire items and the check of a participant's answers.

The default is the background questionnaire of the Aalto 136M-keystrokes platform (Dhakal et al.,
CHI 2018, §3 "Procedure": age, gender, typing course, fingers used, hours typed per day, keyboard
layout, keyboard type, native language), so a study's answers compare with that dataset's
`metadata_participants.txt`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id

KINDS = ("choice", "number", "text")
MAX_TEXT_ANSWER = 200
MAX_QUESTIONS = 50


@dataclass(frozen=True)
class Question:
    """One item: `choice` takes one of `options`; `number` a whole number in [low, high]; `text` free text."""

    id: str
    label: str
    kind: str = "choice"
    options: tuple[str, ...] = ()
    low: int = 0
    high: int = 0
    required: bool = True


AALTO_QUESTIONNAIRE = (
    Question("age", "Age", "number", low=10, high=100),
    Question("gender", "Gender", options=("female", "male", "other", "prefer not to say")),
    Question("typing_course", "Have you taken a typing course?", options=("yes", "no")),
    Question("fingers", "How many fingers do you type with?", options=("1-2", "3-4", "5-6", "7-8", "9-10")),
    Question("hours_per_day", "Hours you type per day", "number", low=0, high=24),
    Question("layout", "Keyboard layout", options=("QWERTY", "AZERTY", "QWERTZ", "Dvorak", "other")),
    Question(
        "keyboard_type",
        "Keyboard type",
        options=("full-size", "laptop", "small physical (e.g. on a phone)", "touch screen"),
    ),
    Question("native_language", "Native language", "text"),
)


def parse_questions(items: Any) -> tuple[Question, ...]:
    """Check questionnaire items from a protocol file; the error names the item."""
    if not isinstance(items, list) or len(items) > MAX_QUESTIONS:
        raise InvalidInput(f"questionnaire must be a list of at most {MAX_QUESTIONS} items")
    questions: list[Question] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput(f"questionnaire[{i}] must be a mapping")
        qid = check_id(item.get("id"), f"questionnaire[{i}].id")
        kind = item.get("kind", "choice")
        if kind not in KINDS:
            raise InvalidInput(f"questionnaire item {qid!r}: kind must be one of {', '.join(KINDS)}")
        label = item.get("label")
        if not isinstance(label, str) or not label.strip():
            raise InvalidInput(f"questionnaire item {qid!r} needs a label")
        options = tuple(str(o) for o in item.get("options") or ())
        if kind == "choice" and len(options) < 2:
            raise InvalidInput(f"questionnaire item {qid!r}: a choice needs at least two options")
        low, high = item.get("low", 0), item.get("high", 0)
        if kind == "number" and not (isinstance(low, int) and isinstance(high, int) and low <= high):
            raise InvalidInput(f"questionnaire item {qid!r}: low and high must be whole numbers, low <= high")
        questions.append(
            Question(qid, label.strip(), kind, options, low, high, bool(item.get("required", True)))
        )
    if len({q.id for q in questions}) != len(questions):
        raise InvalidInput("questionnaire item ids must be unique")
    return tuple(questions)


def check_answers(questions: tuple[Question, ...], answers: dict[str, Any]) -> dict[str, Any]:
    """The answers as stored: every required item answered, each within its item's rules."""
    unknown = sorted(set(answers) - {q.id for q in questions})
    if unknown:
        raise InvalidInput(f"answers to unknown questions: {', '.join(unknown)[:200]}")
    checked: dict[str, Any] = {}
    for q in questions:
        value = answers.get(q.id)
        if value is None or value == "":
            if q.required:
                raise InvalidInput(f"please answer: {q.label}")
            continue
        if q.kind == "choice" and value not in q.options:
            raise InvalidInput(f"{q.label}: choose one of the options")
        if q.kind == "number" and (
            isinstance(value, bool) or not isinstance(value, int) or not q.low <= value <= q.high
        ):
            raise InvalidInput(f"{q.label}: a whole number from {q.low} to {q.high}")
        if q.kind == "text":
            if not isinstance(value, str) or len(value) > MAX_TEXT_ANSWER:
                raise InvalidInput(f"{q.label}: text of at most {MAX_TEXT_ANSWER} characters")
            if any(not ch.isprintable() for ch in value):
                raise InvalidInput(f"{q.label}: control characters are not allowed")
            value = value.strip()
        checked[q.id] = value
    return checked
