"""Leakage guard: a section's own keystrokes never move that section's own score."""

from __future__ import annotations

import dataclasses

import polars as pl

from flowtype_core.datasets.aalto import AaltoImport
from flowtype_core.ranker import (
    ModelRecord,
    TrainingData,
    evaluation,
    examples_from_keystrokes,
    score_sections,
    train,
)
from flowtype_core.ranker.features import FeatureBuilder, targets_for


def _slowed_and_mistyped(keystrokes: pl.DataFrame, section: str) -> pl.DataFrame:
    """The section typed three times slower, with its first letters replaced by x."""
    mine = pl.col("test_section_id") == section
    start = keystrokes.filter(mine).get_column("press_time").min()
    stretched = {
        c: pl.when(mine).then(start + (pl.col(c) - start) * 3).otherwise(pl.col(c))
        for c in ("press_time", "release_time")
    }
    return keystrokes.with_columns(
        **stretched,
        letter=pl.when(mine & (pl.col("keystroke_id") % 4 == 0))
        .then(pl.lit("x"))
        .otherwise(pl.col("letter")),
    )


def test_changing_a_sections_keystrokes_leaves_its_score_unchanged(
    aalto: AaltoImport, gold: TrainingData, trained: ModelRecord
) -> None:
    model = trained.load()
    participant = gold.examples.item(0, "participant_id")
    sections = gold.examples.filter(pl.col("participant_id") == participant).sort("test_section_id")
    target = sections.filter(pl.col("label") == 0).item(0, "test_section_id")  # their fastest
    before = score_sections(model, gold)

    changed_keystrokes = _slowed_and_mistyped(aalto.keystrokes, target)
    examples, units = examples_from_keystrokes(changed_keystrokes)
    changed = TrainingData.of(examples, units, "changed")
    after = score_sections(model, changed)

    def score(frame: pl.DataFrame, section: str) -> float:
        return frame.filter(pl.col("test_section_id") == section).item(0, "score")

    # The change is real: the section's grade and the typist's history both moved ...
    label = {
        f.source: f.examples.filter(pl.col("test_section_id") == target).item(0, "label")
        for f in (gold, changed)
    }
    assert (label["keystrokes"], label["changed"]) == (0, 4)
    others = [s for s in sections.get_column("test_section_id").to_list() if s != target]
    assert any(score(before, s) != score(after, s) for s in others)
    # ... yet the section's own score is exactly what it was.
    assert score(after, target) == score(before, target)
    assert after.height == before.height == gold.examples.height


def test_typist_features_do_not_ride_the_leave_one_out_complement(gold: TrainingData) -> None:
    """A typist total minus the target section varies, inside a typist, only with the target: a
    feature built on it could rank by the target's own speed. The channel is real (the probe), and
    the model must not lean on it: its held-out NDCG barely moves when the typist's mean IKI is
    taken over all their sections (which leaks the opposite way) instead of the other ones."""
    labelled = gold.examples.filter(pl.col("label").is_not_null())
    totals = (
        pl.col("iki_sum_ms").sum().over("participant_id"),
        pl.col("iki_count").sum().over("participant_id"),
    )
    others_mean = (totals[0] - pl.col("iki_sum_ms")) / (totals[1] - pl.col("iki_count"))
    probe = labelled.with_columns((-others_mean).alias("probe"))
    assert evaluation.ndcg_per_group(probe, "probe", 5).get_column("ndcg").mean() > 0.8

    config = train.TrainConfig()
    prepared = train._Prepared.of(gold, config)
    loso = train.cross_validate(prepared, config, train._Reporter(None, None))[0]
    whole = targets_for(prepared.labelled).with_columns(iki_sum_ms=pl.lit(0.0), iki_count=pl.lit(0, pl.Int64))
    swapped = dataclasses.replace(prepared, builder=FeatureBuilder(whole, prepared.history))
    full = train.cross_validate(swapped, config, train._Reporter(None, None))[0]
    gap = loso["held_out"]["model"]["ndcg@5"] - full["held_out"]["model"]["ndcg@5"]
    assert abs(gap) < 0.02, gap
