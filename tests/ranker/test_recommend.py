"""Adaptive practice: model picks with reasons for a typist with history, graceful fallbacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from flowtype_core import Workbench
from flowtype_core.corpus import load_corpus
from flowtype_core.demo import generate_demo
from flowtype_core.errors import InvalidInput
from flowtype_core.ranker import ModelRecord, ModelRegistry, models_dir_of, recommend_sentences
from flowtype_core.ranker.examples import examples_from_keystrokes, sentence_features
from flowtype_core.ranker.history import History

TYPIST = "demo-01"


@pytest.fixture
def with_history(wb: Workbench) -> Workbench:
    generate_demo(wb.recorder, participants=1, sessions_per_participant=2, sentences_per_session=10, seed=3)
    return wb


def _install(record: ModelRecord, wb: Workbench) -> None:
    root = models_dir_of(wb)
    shutil.copytree(record.model_path, root / record.version)
    ModelRegistry(root).set_current(record.version)


def _typed(wb: Workbench) -> set[str]:
    return set(wb.store.read_all("sections.csv", TYPIST).get_column("sentence_id").to_list())


def test_a_typist_with_history_gets_model_picks_that_say_what_they_target(
    with_history: Workbench, trained: ModelRecord
) -> None:
    _install(trained, with_history)
    typed = _typed(with_history)
    excluded = {load_corpus()[0].id, load_corpus()[1].id}
    picks = recommend_sentences(with_history, TYPIST, 8, exclude=excluded)
    assert len(picks) == 8 and len({p.sentence.id for p in picks}) == 8
    assert all(p.source == "model" for p in picks)
    assert not {p.sentence.id for p in picks} & (typed | excluded)
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)
    targeted = [p for p in picks if p.targets]
    assert targeted, [p.reason for p in picks]
    for pick in targeted:
        assert all(target in pick.reason for target in pick.targets)
    # The picks are the model's own top candidates: `model.score` of every untyped sentence
    # against this typist's history (built here from the stored keystrokes), highest first.
    pool = [s for s in load_corpus() if s.id not in typed | excluded]
    candidates = sentence_features(
        pl.DataFrame(
            {
                "participant_id": [TYPIST] * len(pool),
                "test_section_id": [s.id for s in pool],
                "sentence": [s.text for s in pool],
                "iki_sum_ms": [0.0] * len(pool),
                "iki_count": [0] * len(pool),
            }
        )
    )
    history = History.from_gold(
        *examples_from_keystrokes(with_history.store.read_all("keystrokes.csv", TYPIST))
    )
    scored = trained.load().score(candidates, history)
    scores = dict(zip(scored["test_section_id"], scored["score"], strict=True))
    best = sorted(pool, key=lambda s: (-scores[s.id], s.id))[:8]
    assert [p.sentence.id for p in picks] == [s.id for s in best]
    assert [p.score for p in picks] == pytest.approx([scores[s.id] for s in best], rel=1e-12)
    assert scores[best[0].id] > min(scores.values())  # the scores tell the candidates apart


def test_without_a_model_the_typist_gets_a_default_order_and_is_told_why(with_history: Workbench) -> None:
    picks = recommend_sentences(with_history, TYPIST, 5)
    assert len(picks) == 5
    assert all(p.source == "default" and "no ranker model" in p.reason for p in picks)
    assert not {p.sentence.id for p in picks} & _typed(with_history)
    assert [p.sentence.id for p in recommend_sentences(with_history, TYPIST, 5)] == [
        p.sentence.id for p in picks
    ]


def test_a_model_weaker_than_its_best_baseline_lets_the_baseline_order(
    with_history: Workbench, trained: ModelRecord
) -> None:
    _install(trained, with_history)
    metrics_file = models_dir_of(with_history) / trained.version / "metrics.json"
    metrics = json.loads(metrics_file.read_text())
    best = metrics["best_heuristic"]
    metrics["held_out"]["model"]["ndcg@5"] = metrics["held_out"][best]["ndcg@5"] - 0.01
    metrics_file.write_text(json.dumps(metrics))
    picks = recommend_sentences(with_history, TYPIST, 4)
    assert all(p.source == "baseline" and best.replace("_", " ") in p.reason for p in picks)
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)


def test_a_new_typist_gets_the_populations_view(wb: Workbench, trained: ModelRecord) -> None:
    _install(trained, wb)
    picks = recommend_sentences(wb, "newcomer", 3)
    assert [p.source for p in picks] == ["population"] * 3
    assert all("no typing history" in p.reason and p.targets == () for p in picks)


def test_bad_requests_are_refused(wb: Workbench, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        recommend_sentences(wb, "../escape", 3)
    with pytest.raises(InvalidInput):
        recommend_sentences(wb, "someone", len(load_corpus()) + 1)
