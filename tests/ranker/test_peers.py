"""keybr's confidence and Monkeytype's weakspot baselines against hand-computed cases."""

from __future__ import annotations

import random

import polars as pl
import pytest

from flowtype_core.ranker.peers import KEYBR, KEYBR_TARGET_MS, WEAKSPOT, best_of_random, peer_scores

SECTIONS = ("s1", "s2", "s3")  # typed in this order


def _units(rows: list[tuple[str, str, int, float, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        [("p", s, "key", k, n, ms, err) for s, k, n, ms, err in rows],
        schema=["participant_id", "test_section_id", "kind", "unit", "presses", "iki_sum_ms", "corrected"],
        orient="row",
    )


EXAMPLES = pl.DataFrame({"participant_id": ["p"] * 3, "test_section_id": list(SECTIONS)})
UNITS = _units(
    [
        ("s1", "a", 2, 800.0, 0),
        ("s1", "B", 1, 300.0, 1),  # case folded: B is the b key
        ("s1", " ", 5, 900.0, 0),  # space is not a character of a word
        ("s2", "a", 1, 200.0, 0),
        ("s3", "b", 2, 1000.0, 0),
    ]
)


def _scores(section: str, sentence: str, units: pl.DataFrame = UNITS) -> dict[str, float]:
    targets = pl.DataFrame({"participant_id": ["p"], "test_section_id": [section], "sentence": [sentence]})
    row = peer_scores(targets, EXAMPLES, units).row(0, named=True)
    return {KEYBR: row[KEYBR], WEAKSPOT: row[WEAKSPOT]}


def test_keybr_focuses_the_least_confident_letter_from_the_other_sections() -> None:
    # s3 is left out: a = 400 (first sample), then one hit of 200 -> 0.9*400 + 0.1*200 = 380; b = 300.
    confidence = {"a": KEYBR_TARGET_MS / 380.0, "b": KEYBR_TARGET_MS / 300.0}
    assert confidence["a"] < 1 < confidence["b"]  # a is the focus letter
    mean = (2 * confidence["a"] + 2 * confidence["b"]) / 4
    assert _scores("s3", "ab Ab")[KEYBR] == pytest.approx(2 + 1 / (2 + mean))
    # For s1 the history is s2 (a = 200) and s3 (b = 500): b is now the focus.
    assert int(_scores("s1", "ab ab b")[KEYBR]) == 3


def test_weakspot_averages_the_last_hits_with_an_error_penalty() -> None:
    # s3 left out: a = (200 + 800) / 3 hits; b = 300 ms + 5000 ms for its one error.
    a, b = 1000.0 / 3, 5300.0
    assert _scores("s3", "ab ab")[WEAKSPOT] == pytest.approx((2 * a + 2 * b) / 4)
    # A character never typed takes the typist's average over characters.
    assert _scores("s3", "az")[WEAKSPOT] == pytest.approx((a + (a + b) / 2) / 2)


def test_weakspot_window_keeps_the_newest_fifty_hits() -> None:
    units = _units([("s1", "a", 60, 6000.0, 0), ("s2", "a", 30, 12000.0, 0)])  # 100 ms, then 400 ms
    assert _scores("s3", "a", units)[WEAKSPOT] == pytest.approx((30 * 400 + 20 * 100) / 50)


def test_a_sections_own_typing_never_moves_its_own_scores() -> None:
    changed = UNITS.with_columns(
        pl.when(pl.col("test_section_id") == "s3").then(pl.col("iki_sum_ms") * 9).otherwise("iki_sum_ms")
    )
    assert _scores("s3", "ab ab", changed) == _scores("s3", "ab ab")
    assert _scores("s1", "ab ab", changed) != _scores("s1", "ab ab")


def test_best_of_random_takes_the_highest_of_its_draws() -> None:
    scores = [float(i % 7) for i in range(100)]
    rng = random.Random(1)
    drawn = random.Random(1).sample(range(100), 20)
    assert best_of_random(scores, rng=rng) == max(drawn, key=lambda i: (scores[i], -i))
    assert best_of_random([1.0, 3.0, 2.0], rng=random.Random(0)) == 1  # fewer than 20: all drawn
