"""Ranker fixtures: the real Aalto sample, its gold tables, and one model trained on them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flowtype_core.datasets.aalto import AaltoImport, read_aalto
from flowtype_core.ranker import ModelRecord, TrainingData, examples_from_keystrokes, train_from_frames
from tests.conftest import AALTO_DIR


@pytest.fixture(scope="session")
def aalto() -> AaltoImport:
    return read_aalto(AALTO_DIR)


@pytest.fixture(scope="session")
def gold(aalto: AaltoImport) -> TrainingData:
    examples, units = examples_from_keystrokes(aalto.keystrokes)
    return TrainingData.of(examples, units, "keystrokes")


@pytest.fixture(scope="session")
def trained(gold: TrainingData, tmp_path_factory: pytest.TempPathFactory) -> ModelRecord:
    """One model on the whole sample (grouped folds inside); session-wide, training costs seconds."""
    return train_from_frames(gold.examples, gold.units, models_dir=tmp_path_factory.mktemp("models"))


def participant_rows(frame: pl.DataFrame, participants: set[str]) -> pl.DataFrame:
    return frame.filter(pl.col("participant_id").is_in(sorted(participants)))


def models_root(record: ModelRecord) -> Path:
    return Path(record.model_path).parent
