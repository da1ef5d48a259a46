"""The practice ranker (SPEC §3.6): which sentences will be hardest for a typist, learnt with LightGBM.

A library over frames: it is handed the gold tables and never reads a catalog itself.

    from flowtype_core.ranker import train_from_frames, recommend_sentences
    record = train_from_frames(examples, units, models_dir="data/models")  # evaluate, fit, register
    picks = recommend_sentences(wb, "p01", 5)                              # for the typing test

(`pipeline.ranker_task.train_ranker` reads a catalog's gold tables and trains from them.)
`examples` builds the gold tables (narwhals: polars and Spark), `features` the leave-one-out
features, `peers` the keybr and Monkeytype baselines, `train` the grouped evaluation and fitting,
`model` the versioned registry, `recommend` adaptive practice. Names load on first use and
LightGBM only when a booster is fit or loaded, so everything imports without the `ranker` extra.
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
    "Forecast": "forecast",
    "lessons_to_target": "forecast",
    "ModelRecord": "model",
    "ModelRegistry": "model",
    "RankerModel": "model",
    "load_model": "model",
    "Recommendation": "recommend",
    "recommend_sentences": "recommend",
    "TrainConfig": "train",
    "TrainingCancelled": "train",
    "TrainingData": "train",
    "models_dir_of": "model",
    "score_sections": "train",
    "train_from_frames": "train",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
