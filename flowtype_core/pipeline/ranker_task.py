"""The ranker's I/O: its gold tables read from a catalog, handed to `flowtype_core.ranker` as frames.

The ranker is a library over polars frames; this is the one place that knows where its training
data lives (the gold tables of whichever catalog the pipeline runs on). Models are written by the
ranker's own registry into the directory given here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from flowtype_core.pipeline.catalog import CatalogReader
from flowtype_core.pipeline.tables import GOLD_RANKER_EXAMPLES, GOLD_RANKER_UNITS
from flowtype_core.progress import Progress
from flowtype_core.ranker.examples import examples_from_keystrokes
from flowtype_core.ranker.model import ModelRecord
from flowtype_core.ranker.train import ShouldCancel, TrainConfig, TrainingData, train_from_frames


def read_gold(catalog: CatalogReader) -> TrainingData | None:
    """The gold ranker tables of `catalog`, or None while gold has not written them yet."""
    scans = [catalog.scan(GOLD_RANKER_EXAMPLES), catalog.scan(GOLD_RANKER_UNITS)]
    if any(scan is None for scan in scans):
        return None
    examples, units = (catalog.to_polars(scan) for scan in scans)
    return TrainingData.of(examples, units, "gold")


def load_training_data(catalog: CatalogReader, read_keystrokes: Callable[[], pl.DataFrame]) -> TrainingData:
    """The gold ranker tables when they exist, else the same frames built from the keystrokes
    (`read_keystrokes`, called only then: before the first pipeline run)."""
    gold = read_gold(catalog)
    if gold is not None:
        return gold
    examples, units = examples_from_keystrokes(read_keystrokes())
    return TrainingData.of(examples, units, "keystrokes")


def train_ranker(
    catalog: CatalogReader,
    models_dir: str | Path,
    read_keystrokes: Callable[[], pl.DataFrame],
    *,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
    config: TrainConfig | None = None,
) -> ModelRecord:
    """Train on `catalog`'s gold tables (or the keystrokes) and register under `models_dir`.

    `progress(fraction, message)` is called as work advances; `should_cancel()` is polled between
    steps and boosting rounds, and a True answer raises `TrainingCancelled`.
    """
    if progress is not None:
        progress(0.0, "reading the training data")
    data = load_training_data(catalog, read_keystrokes)
    return train_from_frames(
        data.examples,
        data.units,
        models_dir=models_dir,
        config=config,
        progress=progress,
        should_cancel=should_cancel,
        source=data.source,
    )
