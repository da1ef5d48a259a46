"""Offline replay: which practice policy makes a typist practise their own slow digraphs.

For every typist held out of a fold, each policy picks `PICKS` sentences from the practice corpus
knowing what the policy would know in the app: their typing history, and for the model a
population and booster learnt from the other folds' typists only.

A typist's slow-digraph time is, per digraph they typed at least `MIN_PRESSES` times, how much
longer it takes them than the (training) population expects of a typist of their speed, in ms per
press (digraphs they type as fast or faster count zero). A pick exercises that time once per
occurrence of the digraph in its sentence; a policy's share is what its picks exercise over what
the best `PICKS` sentences of the pool would, averaged over typists (1 = the oracle's picks).

Policies: random (seeded), keybr-style (the least confident letter, most often), Monkeytype's
weakspot (best of 20 random sentences, drawn without replacement), and the model (hardest first).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import polars as pl

from flowtype_core.ranker.history import History, Population
from flowtype_core.ranker.peers import KEYBR, WEAKSPOT, best_of_random, peer_scores
from flowtype_core.ranker.units import text_units

PICKS = 5
MIN_PRESSES = 3
POLICIES = ("random", "keybr-style", "weakspot", "model")


def slow_digraph_ms(history: History, population: Population, participants: Sequence[str]) -> pl.DataFrame:
    """(participant_id, uid, excess_ms): ms per press above what the population expects of them."""
    pop = population.units.filter(pl.col("uid").str.starts_with("digraph:"), pl.col("n") > 0).select(
        "uid", (pl.col("rel") / pl.col("n")).alias("pop_rel")
    )
    speed = history.speed.filter(pl.col("p_iki_n") > 0).select(
        "participant_id", (pl.col("p_iki_sum") / pl.col("p_iki_n")).alias("p_iki")
    )
    return (
        history.units.filter(
            pl.col("participant_id").is_in(pl.Series(list(participants), dtype=pl.String).implode()),
            pl.col("uid").str.starts_with("digraph:"),
            pl.col("n") >= MIN_PRESSES,
        )
        .join(speed, on="participant_id")
        .join(pop, on="uid")
        .select(
            "participant_id",
            "uid",
            ((pl.col("iki") / pl.col("n")) - pl.col("pop_rel") * pl.col("p_iki"))
            .clip(lower_bound=0)
            .alias("excess_ms"),
        )
        .filter(pl.col("excess_ms") > 0)
    )


def exercised(pool: Sequence[str], slow: pl.DataFrame) -> pl.DataFrame:
    """(participant_id, sentence, exercised_ms) for every typist with slow digraphs and pool sentence."""
    digraphs = text_units(list(pool)).filter(pl.col("uid").str.starts_with("digraph:"))
    return (
        slow.join(digraphs, on="uid")
        .group_by("participant_id", "sentence")
        .agg((pl.col("excess_ms") * pl.col("t")).sum().alias("exercised_ms"))
    )


def _picks(policy: str, scores: pl.DataFrame, typist: str, rng: random.Random) -> list[str]:
    """The `PICKS` sentences a policy chooses for one typist from its scored candidates."""
    sentences = scores.get_column("sentence").to_list()
    if policy == "random":
        return rng.sample(sentences, min(PICKS, len(sentences)))
    if policy == "weakspot":
        remaining = list(range(len(sentences)))
        values = scores.get_column(WEAKSPOT).to_list()
        chosen: list[int] = []
        while remaining and len(chosen) < PICKS:
            at = best_of_random([values[i] for i in remaining], rng=rng)
            chosen.append(sentences[remaining.pop(at)])
        return chosen
    column = {"keybr-style": KEYBR, "model": "score"}[policy]
    return (
        scores.sort([column, "sentence"], descending=[True, False])
        .get_column("sentence")
        .head(PICKS)
        .to_list()
    )


def replay_fold(
    candidates: pl.DataFrame,
    scored: pl.DataFrame,
    examples: pl.DataFrame,
    units: pl.DataFrame,
    slow: pl.DataFrame,
    *,
    seed: int,
) -> list[dict[str, float | str]]:
    """Per typist and policy, the share of the oracle's exercised slow-digraph time.

    `candidates`: (participant_id, test_section_id, sentence) per held-out typist and pool sentence;
    `scored`: the same rows with the model's `score`.
    """
    pool = candidates.get_column("sentence").unique().to_list()
    gains = exercised(pool, slow)
    peers = peer_scores(candidates, examples, units)
    table = peers.join(
        scored.select("participant_id", "sentence", "score"), on=["participant_id", "sentence"]
    )
    rows = []
    for (typist,), mine in table.group_by("participant_id", maintain_order=True):
        gain = dict(
            gains.filter(pl.col("participant_id") == typist).select("sentence", "exercised_ms").iter_rows()
        )
        best = float(np.sum(sorted(gain.values(), reverse=True)[:PICKS]))
        if best <= 0:
            continue  # no slow digraph of theirs occurs in the pool
        rng = random.Random(f"{seed}:{typist}")
        for policy in POLICIES:
            got = sum(gain.get(s, 0.0) for s in _picks(policy, mine.sort("sentence"), str(typist), rng))
            rows.append({"participant_id": str(typist), "policy": policy, "share": got / best})
    return rows


def summarise(rows: list[dict[str, float | str]]) -> dict[str, dict[str, float]]:
    """Per policy: the mean share over typists and how many typists it covers."""
    if not rows:
        return {}
    frame = pl.DataFrame(rows)
    summary = frame.group_by("policy").agg(pl.col("share").mean().alias("mean"), pl.len().alias("typists"))
    by_policy = {row["policy"]: row for row in summary.iter_rows(named=True)}
    return {
        p: {"share": round(float(by_policy[p]["mean"]), 6), "typists": int(by_policy[p]["typists"])}
        for p in POLICIES
        if p in by_policy
    }
