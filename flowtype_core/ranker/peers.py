"""The two peers' per-key models as baselines: keybr's confidence and Monkeytype's weakspot.

Both look only at the typist's own history on their OTHER sections (leave-one-section-out, like
the model's typist features), in the order they typed them, and both are per key:

- keybr: per key, an exponential moving average (alpha 0.1 per hit) of the time to type it;
  confidence = target time / smoothed time with a 175 characters-per-minute target; the lesson
  focuses on the letter of lowest confidence. A sentence scores the number of times it makes the
  typist type that focus letter; ties go to the sentence whose letters have the lowest mean
  confidence.
- Monkeytype weakspot: per character, the average over its last 50 hits of the time taken, plus
  5000 ms for each hit that was an error; a word scores the mean of its characters, and practice
  takes the best of 20 random words (`best_of_random`). A sentence scores like a word; characters
  the typist never typed get their own average over every character.

The gold units hold per-section sums (presses, capped IKI, corrections), not single hits, so a
section's hits of one key enter as that many hits of their mean: exact for the keybr average,
and for the last-50 window the oldest section inside it counts with the share of its hits that fit.
Keys are letters (case folded, as keybr's letters and Monkeytype's characters are per letter)
plus digits and punctuation; space, Shift and Backspace are not characters of a word.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import polars as pl

KEYBR = "keybr_confidence"
WEAKSPOT = "monkeytype_weakspot"
PEERS = (KEYBR, WEAKSPOT)
KEYBR_TARGET_CPM = 175.0
KEYBR_TARGET_MS = 60_000.0 / KEYBR_TARGET_CPM
KEYBR_ALPHA = 0.1
WEAKSPOT_HITS = 50
WEAKSPOT_ERROR_MS = 5000.0
WEAKSPOT_SAMPLES = 20
# keybr's lessons practise letters: the focus letter is chosen among these.
LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")


def _key(char: str) -> str | None:
    """The key a sentence character is typed with, case folded; None for space and control keys."""
    if len(char) != 1 or char.isspace():
        return None
    return char.lower()


def section_order(test_section_ids: pl.Expr) -> list[pl.Expr]:
    """Sort keys putting a typist's sections in typing order: numeric-aware (Aalto's ids are
    numbers, the store's `<session>_sNNN` strings sort as text)."""
    return [test_section_ids.str.len_chars(), test_section_ids]


def _key_history(units: pl.DataFrame) -> pl.DataFrame:
    """(participant_id, test_section_id, key, n, ms, errors): per section and case-folded key."""
    keys = units.filter(
        pl.col("kind") == "key",
        pl.col("unit").str.len_chars() == 1,
        ~pl.col("unit").str.contains(r"^\s$"),  # as `_key`: whitespace is no key of a word
        pl.col("presses") > 0,
    ).with_columns(pl.col("unit").str.to_lowercase().alias("key"))
    return keys.group_by("participant_id", "test_section_id", "key").agg(
        pl.col("presses").sum().cast(pl.Float64).alias("n"),
        pl.col("iki_sum_ms").sum().cast(pl.Float64).alias("ms"),
        pl.col("corrected").sum().cast(pl.Float64).alias("errors"),
    )


def _keybr_state(order: list[int], n: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Smoothed time per key after these sections (NaN for keys never typed)."""
    smoothed = np.full(n.shape[1], np.nan)
    for j in order:
        hit = n[j] > 0
        keep = (1.0 - KEYBR_ALPHA) ** n[j]
        first = hit & np.isnan(smoothed)  # keybr starts a key's average at its first sample
        smoothed = np.where(first, mean[j], smoothed)
        smoothed = np.where(hit & ~first, smoothed * keep + mean[j] * (1.0 - keep), smoothed)
    return smoothed


def _weakspot_state(order: list[int], n: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Average cost per key over its last `WEAKSPOT_HITS` hits in these sections (NaN if none)."""
    total = np.zeros(n.shape[1])
    hits = np.zeros(n.shape[1])
    for j in reversed(order):  # newest first, until each key has its window
        room = np.maximum(WEAKSPOT_HITS - hits, 0.0)
        take = np.minimum(n[j], room)
        share = np.divide(take, n[j], out=np.zeros_like(take), where=n[j] > 0)
        total += cost[j] * share
        hits += take
    return np.divide(total, hits, out=np.full_like(total, np.nan), where=hits > 0)


def _sentence_counts(sentences: Sequence[str], keys: list[str]) -> np.ndarray:
    index = {k: i for i, k in enumerate(keys)}
    counts = np.zeros((len(sentences), len(keys)))
    for row, sentence in enumerate(sentences):
        for char in sentence:
            key = _key(char)
            if key is not None and key in index:
                counts[row, index[key]] += 1
    return counts


def _keybr_score(smoothed: np.ndarray, counts: np.ndarray, letters: np.ndarray) -> float:
    known = ~np.isnan(smoothed)
    candidates = known & letters
    if not candidates.any():
        return 0.0
    confidence = np.where(known, KEYBR_TARGET_MS / np.where(known, smoothed, 1.0), np.nan)
    focus = int(np.nanargmin(np.where(candidates, confidence, np.nan)))
    typed = counts * known
    mean_confidence = float((typed * np.nan_to_num(confidence)).sum() / typed.sum()) if typed.sum() else 1.0
    # Lexicographic: focus-letter count first; the tie-break stays inside (0, 1).
    return float(counts[focus]) + 1.0 / (2.0 + mean_confidence)


def _weakspot_score(average: np.ndarray, counts: np.ndarray) -> float:
    known = ~np.isnan(average)
    if not known.any() or not counts.sum():
        return 0.0
    filled = np.where(known, average, np.nanmean(average))
    return float((counts * filled).sum() / counts.sum())


def peer_scores(targets: pl.DataFrame, examples: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """`targets` (participant_id, test_section_id, sentence) with `PEERS` columns (higher = weaker).

    A target's own section, when it is in `examples`, is left out of its typist's history.
    """
    people = targets.get_column("participant_id").unique().implode()
    units = units.filter(pl.col("participant_id").is_in(people))
    examples = examples.filter(pl.col("participant_id").is_in(people))
    history = _key_history(units)
    sentences = targets.get_column("sentence").to_list()
    written = {key for sentence in sentences for key in map(_key, sentence) if key is not None}
    keys = sorted(written | set(history.get_column("key").unique().to_list()))
    key_index = {k: i for i, k in enumerate(keys)}
    letters = np.array([k in LETTERS for k in keys], dtype=bool)
    sections = (
        examples.select("participant_id", "test_section_id")
        .unique()
        .sort("participant_id", *section_order(pl.col("test_section_id")))
    )
    by_person = history.partition_by("participant_id", as_dict=True)
    per_person: dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]] = {}
    for (person,), rows in sections.group_by("participant_id", maintain_order=True):
        ids = rows.get_column("test_section_id").to_list()
        position = {s: i for i, s in enumerate(ids)}
        n, ms, errors = (np.zeros((len(ids), len(keys))) for _ in range(3))
        mine = by_person.get((person,), history.clear())
        columns = mine.select("test_section_id", "key", "n", "ms", "errors").iter_rows()
        for section, key, hits, time, wrong in columns:
            if section in position:
                at = position[section], key_index[key]
                n[at], ms[at], errors[at] = hits, time, wrong
        per_person[str(person)] = (ids, n, ms, errors)
    counts = _sentence_counts(sentences, keys)
    keybr, weakspot = [], []
    states: dict[tuple[str, str | None], tuple[np.ndarray, np.ndarray]] = {}
    for row, (person, section) in enumerate(targets.select("participant_id", "test_section_id").iter_rows()):
        if person not in per_person or not keys:
            keybr.append(0.0)
            weakspot.append(0.0)
            continue
        ids, n, ms, errors = per_person[person]
        left_out = section if section in ids else None  # a new sentence sees the whole history
        if (person, left_out) not in states:
            order = [i for i, s in enumerate(ids) if s != left_out]
            mean = np.divide(ms, n, out=np.zeros_like(ms), where=n > 0)
            cost = ms + WEAKSPOT_ERROR_MS * errors
            states[person, left_out] = (_keybr_state(order, n, mean), _weakspot_state(order, n, cost))
        smoothed, average = states[person, left_out]
        keybr.append(_keybr_score(smoothed, counts[row], letters))
        weakspot.append(_weakspot_score(average, counts[row]))
    return targets.with_columns(
        pl.Series(KEYBR, keybr, dtype=pl.Float64), pl.Series(WEAKSPOT, weakspot, dtype=pl.Float64)
    )


def best_of_random(scores: Sequence[float], *, rng: random.Random, samples: int = WEAKSPOT_SAMPLES) -> int:
    """Monkeytype's pick: the index of the highest score among `samples` drawn at random."""
    drawn = rng.sample(range(len(scores)), min(samples, len(scores)))
    return max(drawn, key=lambda i: (scores[i], -i))
