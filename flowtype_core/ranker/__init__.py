"""The practice ranker (SPEC §3.6): which sentences will be hardest for a typist, learnt with LightGBM.

    from flowtype_core.ranker import train_ranker, recommend_sentences
    record = train_ranker("data")                      # evaluate, fit, register under data/models
    picks = recommend_sentences(wb, "p01", 5)          # for the typing test

`examples` builds the gold tables (narwhals: polars and Spark), `features` the leave-one-out
features, `train` the grouped evaluation and fitting, `model` the versioned registry,
`recommend` adaptive practice. Names load on first use, so the gold layer on a Spark cluster
imports `examples` without LightGBM installed.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "EXAMPLES_TABLE": "examples",
    "UNITS_TABLE": "examples",
    "build_examples": "examples",
    "build_units": "examples",
    "examples_from_keystrokes": "examples",
    "ModelRecord": "model",
    "ModelRegistry": "model",
    "RankerModel": "model",
    "load_model": "model",
    "Recommendation": "recommend",
    "recommend_sentences": "recommend",
    "TrainConfig": "train",
    "TrainingCancelled": "train",
    "TrainingData": "train",
    "load_training_data": "train",
    "models_dir_of": "train",
    "score_sections": "train",
    "train_from_frames": "train",
    "train_ranker": "train",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
