"""What the typing test tells a typist about how each sentence and the whole session went.

Kept out of the page so a notebook can compute the same hints and summaries from the same store.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

import polars as pl

from flowtype_core.metrics import digraph_latencies
from flowtype_core.metrics.definitions import BACKSPACE
from flowtype_core.scalars import number, number_or_none
from flowtype_core.store.csv_store import SessionStore


@dataclass(frozen=True)
class SectionFeedback:
    """A per-sentence hint: the slowest letter pair, and the wrong keys the typist erased.

    `corrections` holds (typed, expected) pairs; expected is None past the sentence's end.
    """

    slowest_digraph: str | None
    slowest_latency_ms: float | None
    median_iki_ms: float | None
    corrections: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class SessionSummary:
    """One session as the typist sees it at the end: the means over its valid sentences (flagged
    ones are never mixed in), each sentence's figures, and the typist's earlier sessions."""

    status: str
    sentences: int
    excluded: int  # sentences left out of the means by the validity rules
    average_wpm: float | None
    average_error_rate: float | None
    per_sentence: pl.DataFrame  # sentence (1-based), wpm, error_rate, valid
    history: pl.DataFrame  # session (1-based, oldest first), started_at, wpm, this_session


DiffOp = Literal["equal", "replace", "delete", "insert"]


@dataclass(frozen=True)
class DiffSegment:
    """A run of the target against what was typed: equal, typed wrong (replace), left out
    (delete: target only) or typed in excess (insert: typed only)."""

    op: DiffOp
    target: str
    typed: str


def typed_diff(target: str, typed: str) -> tuple[DiffSegment, ...]:
    """The sentence against the submitted text, character by character, for the result screen.

    A minimal edit alignment, so one missed letter marks one letter, not the rest of the line.
    """
    matcher = SequenceMatcher(None, target, typed, autojunk=False)
    return tuple(DiffSegment(op, target[a0:a1], typed[b0:b1]) for op, a0, a1, b0, b1 in matcher.get_opcodes())


def erased_mistakes(letters: list[str], sentence: str) -> list[tuple[str, str | None]]:
    """Replay the presses and list each erased character that did not match the sentence there.

    Characters typed ahead after a mistake and erased with it were right, so they are not listed.
    """
    typed: list[str] = []
    mistakes: list[tuple[str, str | None]] = []
    for letter in letters:
        if letter == BACKSPACE and typed:
            position, char = len(typed) - 1, typed.pop()
            expected = sentence[position] if position < len(sentence) else None
            if char != expected:
                mistakes.append((char, expected))
        elif len(letter) == 1:
            typed.append(letter)
    return mistakes[::-1]  # in typing order


def section_feedback(keystrokes: pl.DataFrame) -> SectionFeedback:
    """The hint for one section's key presses (any frame with the keystrokes columns).

    Letter pairs inside words are preferred: the pause before a word mostly reflects reading,
    not the fingers.
    """
    presses = keystrokes.sort("press_time", "keystroke_id")
    digraphs = digraph_latencies(presses)
    in_words = digraphs.filter(~pl.col("digraph").str.contains(" ", literal=True))
    candidates = in_words if in_words.height else digraphs
    slowest = candidates.sort(["latency_mean_ms", "digraph"], descending=[True, False]).head(1)
    iki = presses.get_column("press_time").diff().drop_nulls()
    sentence = presses.item(0, "sentence") if presses.height else ""
    return SectionFeedback(
        slowest_digraph=slowest.item(0, "digraph") if slowest.height else None,
        slowest_latency_ms=slowest.item(0, "latency_mean_ms") if slowest.height else None,
        median_iki_ms=number(iki.median()) if iki.len() else None,
        corrections=tuple(erased_mistakes(presses.get_column("letter").to_list(), sentence)),
    )


def feedback_for_section(
    store: SessionStore, participant_id: str, session_id: str, test_section_id: str
) -> SectionFeedback:
    """The hint for a stored section, read from its CSV keystrokes (the durable record)."""
    keystrokes = store.read("keystrokes.csv", participant_id, session_id)
    return section_feedback(keystrokes.filter(pl.col("test_section_id") == test_section_id))


HISTORY_SESSIONS = 20  # the summary chart shows this many latest sessions


def session_summary(store: SessionStore, participant_id: str, session_id: str) -> SessionSummary:
    """The session's own stored figures, so the summary shows exactly what was recorded."""
    session = store.read("session.csv", participant_id, session_id)
    sections = store.read("sections.csv", participant_id, session_id).sort("test_section_id")
    valid = sections.filter(pl.col("valid"))
    row = session.row(0, named=True) if session.height else {}
    return SessionSummary(
        status=row.get("status", "in_progress"),
        sentences=sections.height,
        excluded=sections.height - valid.height,
        average_wpm=_mean(valid, "wpm"),
        average_error_rate=_mean(valid, "error_rate"),
        per_sentence=sections.select(
            pl.int_range(1, pl.len() + 1).alias("sentence"), "wpm", "error_rate", "valid"
        ),
        history=wpm_history(store, participant_id, session_id),
    )


def _mean(frame: pl.DataFrame, column: str) -> float | None:
    return number_or_none(frame.get_column(column).mean())


def wpm_history(store: SessionStore, participant_id: str, session_id: str) -> pl.DataFrame:
    """Mean speed over the valid sentences of each of the typist's latest sessions, oldest first,
    this one marked: a typist sees at a glance whether today was a good day."""
    sections = store.read_all("sections.csv", participant_id).filter(pl.col("valid"))
    return (
        sections.group_by("session_id")
        .agg(pl.col("started_at").min(), pl.col("wpm").mean())
        .sort("started_at")
        .tail(HISTORY_SESSIONS)
        .select(
            pl.int_range(1, pl.len() + 1).alias("session"),
            "started_at",
            "wpm",
            (pl.col("session_id") == session_id).alias("this_session"),
        )
    )
