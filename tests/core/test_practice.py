"""The typing test's hints and summary, on hand-made presses with known answers."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from flowtype_core.practice import erased_mistakes, feedback_for_section, section_feedback, session_summary
from flowtype_core.schema import KEYSTROKES
from tests.conftest import make_batch


def _presses(sentence: str, letters: list[str], press: list[int]) -> pl.DataFrame:
    n = len(letters)
    return KEYSTROKES.conform(
        pl.DataFrame(
            {
                "participant_id": ["p"] * n,
                "session_id": ["s"] * n,
                "test_section_id": ["s_s000"] * n,
                "sentence": [sentence] * n,
                "user_input": [sentence] * n,
                "keystroke_id": list(range(n)),
                "press_time": press,
                "release_time": [t + 80 for t in press],
                "letter": letters,
                "keycode": [0] * n,
                "created_at": [datetime.now(UTC)] * n,
            }
        )
    )


@pytest.mark.parametrize(
    ("letters", "sentence", "mistakes"),
    [
        (["SHIFT", "T", "h", "w", "BKSP", "e"], "The", [("w", "e")]),
        # Typed ahead after the slip: only the slip counts, not the right letters erased with it.
        (["T", "g", "e", "BKSP", "BKSP", "h", "e"], "The", [("g", "h")]),
        (["a", "b", "c", "BKSP"], "ab", [("c", None)]),
        (["BKSP", "a", "x", "y", "BKSP", "BKSP", "b"], "ab", [("x", "b"), ("y", None)]),
        (["a", "b"], "ab", []),
    ],
)
def test_erased_mistakes(letters: list[str], sentence: str, mistakes: list) -> None:
    assert erased_mistakes(letters, sentence) == mistakes


def test_the_slowest_pair_inside_a_word_is_the_hint() -> None:
    # "ab cd": a->b 100 ms, b->space 150, space->c 400 (reading the next word), c->d 250.
    frame = _presses("ab cd", ["a", "b", " ", "c", "d"], [1000, 1100, 1250, 1650, 1900])
    feedback = section_feedback(frame.sample(fraction=1.0, shuffle=True, seed=1))  # any row order
    assert (feedback.slowest_digraph, feedback.slowest_latency_ms) == ("cd", 250.0)
    assert feedback.median_iki_ms == 200.0  # median of 100, 150, 400, 250
    assert feedback.corrections == ()


def test_with_only_pairs_across_words_the_slowest_of_those_is_the_hint() -> None:
    feedback = section_feedback(_presses("a b", ["a", " ", "b"], [0, 120, 300]))
    assert (feedback.slowest_digraph, feedback.slowest_latency_ms) == (" b", 180.0)


def test_stored_section_feedback_and_session_summary(wb, sentences) -> None:
    handle = wb.recorder.start_session("alice", consented_at=datetime.now(UTC))
    results = []
    for i in range(2):
        batch = make_batch(sentences[i].text, handle.token, i, seed=i)
        results.append(wb.recorder.submit_section(handle, i, sentences[i], batch))
    feedback = feedback_for_section(wb.store, "alice", handle.session_id, results[1].test_section_id)
    assert feedback.slowest_digraph is not None and feedback.median_iki_ms > 0
    wb.recorder.end_session(handle)

    summary = session_summary(wb.store, "alice", handle.session_id)
    assert (summary.status, summary.sentences) == ("completed", 2)
    assert summary.per_sentence.get_column("sentence").to_list() == [1, 2]
    assert summary.per_sentence.get_column("wpm").to_list() == pytest.approx([r.wpm for r in results])
    assert summary.average_wpm == pytest.approx(sum(r.wpm for r in results) / 2)
