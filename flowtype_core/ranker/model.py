"""A trained ranker and the registry of versions under `<data-dir>/models/` (or any directory).

A version is a directory written whole, then renamed into place, so a reader never sees half a
model: `model.txt` (the LightGBM booster), `population_*.parquet` (what it learnt about everyone),
`params.json`, `metrics.json`, `feature_importance.json` and `training_data.json` (fingerprint and
counts of the data it saw). `current` names the version the app uses. Directories are plain
files, so the same code reads and writes a local folder or a Databricks Volume (`/Volumes/...`).
"""

from __future__ import annotations

import errno
import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import polars as pl

from flowtype_core.errors import FlowTypeError
from flowtype_core.extras import require
from flowtype_core.ranker.features import FEATURES, section_features
from flowtype_core.ranker.history import History, Population
from flowtype_core.store.atomic import atomic_write_text

if TYPE_CHECKING:
    import lightgbm as lgb

MODEL_FILE = "model.txt"
UNITS_FILE = "population_units.parquet"
SENTENCES_FILE = "population_sentences.parquet"
FEATURES_FILE = "features.json"
CURRENT = "current"
_FILES = {
    "params": "params.json",
    "metrics": "metrics.json",
    "feature_importance": "feature_importance.json",
    "training_data": "training_data.json",
}


class HasDataDir(Protocol):
    """Anything that names a data directory (a `Workbench` does)."""

    @property
    def data_dir(self) -> Path: ...


def models_dir_of(source: HasDataDir | str | Path) -> Path:
    """Where a data directory keeps its model versions: `<data-dir>/models`."""
    return (Path(source) if isinstance(source, str | Path) else source.data_dir) / "models"


@dataclass(frozen=True)
class RankerModel:
    """A booster plus the population statistics its features are computed against."""

    booster: lgb.Booster
    population: Population
    features: tuple[str, ...] = FEATURES

    def score(self, targets: pl.DataFrame, history: History) -> pl.DataFrame:
        """`targets` with their features and `score` (higher = harder for that typist)."""
        featured = section_features(targets, history, self.population)
        return featured.with_columns(pl.Series("score", self.predict(featured), dtype=pl.Float64))

    def predict(self, featured: pl.DataFrame) -> np.ndarray:
        matrix = featured.select(self.features).to_numpy().astype(np.float64)
        return np.asarray(self.booster.predict(matrix, num_threads=1), dtype=np.float64)

    def importance(self) -> dict[str, float]:
        """Total split gain per feature, largest first: what the model leans on."""
        gains = self.booster.feature_importance(importance_type="gain")
        pairs = sorted(zip(self.features, gains, strict=True), key=lambda p: (-p[1], p[0]))
        return {name: round(float(gain), 6) for name, gain in pairs}

    def save(self, directory: str | Path) -> Path:
        """Write the model's own files into `directory` (created if needed)."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MODEL_FILE).write_text(self.booster.model_to_string(), encoding="utf-8")
        self.population.units.write_parquet(folder / UNITS_FILE)
        self.population.sentences.write_parquet(folder / SENTENCES_FILE)
        (folder / FEATURES_FILE).write_text(json.dumps(list(self.features)), encoding="utf-8")
        return folder


def model_dir(path: str | Path) -> Path:
    """A version directory from either the directory or its `model.txt`."""
    candidate = Path(path)
    folder = candidate.parent if candidate.name == MODEL_FILE else candidate
    if not (folder / MODEL_FILE).is_file():
        raise FlowTypeError(f"no ranker model at {path}: expected a directory holding {MODEL_FILE}")
    return folder


def load_model(path: str | Path) -> RankerModel:
    """Read a model saved by `RankerModel.save` (a version directory or its model.txt)."""
    folder = model_dir(path)
    return _load_cached(str(folder.resolve()), (folder / MODEL_FILE).stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load_cached(folder: str, _mtime: int) -> RankerModel:
    root = Path(folder)
    lgb = require("lightgbm", "loading a ranker model")
    booster = lgb.Booster(model_str=(root / MODEL_FILE).read_text(encoding="utf-8"))
    population = Population(
        pl.read_parquet(root / UNITS_FILE),
        pl.read_parquet(root / SENTENCES_FILE),
    )
    features = tuple(json.loads((root / FEATURES_FILE).read_text(encoding="utf-8")))
    return RankerModel(booster, population, features)


@dataclass(frozen=True)
class ModelRecord:
    """A registered version: where it is and what it scored (metrics per method, NDCG@5/@10)."""

    version: str
    model_path: str
    created_at: str
    metrics: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    feature_importance: dict[str, float] = field(default_factory=dict)
    training_data: dict[str, Any] = field(default_factory=dict)

    @property
    def ndcg5(self) -> float:
        return float(self.metrics["held_out"]["model"]["ndcg@5"])

    def load(self) -> RankerModel:
        return load_model(self.model_path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "model_path": self.model_path,
            "created_at": self.created_at,
            "metrics": self.metrics,
            "params": self.params,
            "feature_importance": self.feature_importance,
            "training_data": self.training_data,
        }

    @classmethod
    def read(cls, folder: Path) -> ModelRecord:
        parts = {key: json.loads((folder / name).read_text(encoding="utf-8")) for key, name in _FILES.items()}
        return cls(
            version=folder.name,
            model_path=str(folder),
            created_at=parts["training_data"].get("created_at", ""),
            **parts,
        )


class ModelRegistry:
    """Versions `v0001`, `v0002`, ... under one directory, and the `current` pointer."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def versions(self) -> list[ModelRecord]:
        """Every complete version, oldest first."""
        if not self.root.is_dir():
            return []
        folders = sorted(p for p in self.root.iterdir() if p.is_dir() and version_number(p.name) is not None)
        return [ModelRecord.read(p) for p in sorted(folders, key=lambda p: version_number(p.name) or 0)]

    def current(self) -> ModelRecord | None:
        """The version the app serves, or None before the first training."""
        pointer = self.root / CURRENT
        if not pointer.is_file():
            return None
        folder = self.root / pointer.read_text(encoding="utf-8").strip()
        return ModelRecord.read(folder) if (folder / MODEL_FILE).is_file() else None

    def register(
        self,
        model: RankerModel,
        *,
        metrics: dict[str, Any],
        params: dict[str, Any],
        training_data: dict[str, Any],
        make_current: bool = True,
    ) -> ModelRecord:
        """Write a new version atomically and (by default) point `current` at it."""
        staging = self.new_staging()
        try:
            model.save(staging)
            created_at = datetime.now(UTC).isoformat(timespec="seconds")
            contents = {
                "params": params,
                "metrics": metrics,
                "feature_importance": model.importance(),
                "training_data": {**training_data, "created_at": created_at},
            }
            for key, name in _FILES.items():  # importance stays in gain order, the rest sorted
                (staging / name).write_text(
                    json.dumps(contents[key], indent=2, sort_keys=key != "feature_importance"),
                    encoding="utf-8",
                )
            return self.adopt(staging, make_current=make_current)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def new_staging(self) -> Path:
        """An empty directory inside the registry to write a version into before `adopt` names it."""
        self.root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))

    def adopt(self, staging: Path, *, make_current: bool = True) -> ModelRecord:
        """Turn a complete staged version (trained here or copied from elsewhere) into the next version."""
        needed = (MODEL_FILE, UNITS_FILE, SENTENCES_FILE, FEATURES_FILE, *_FILES.values())
        missing = [name for name in needed if not (staging / name).is_file()]
        if missing:
            raise FlowTypeError(f"not a complete model version in {staging}: {', '.join(missing)} missing")
        folder = self._claim(staging)
        if make_current:
            self.set_current(folder.name)
        return ModelRecord.read(folder)

    def set_current(self, version: str) -> None:
        if not (self.root / version / MODEL_FILE).is_file():
            raise FlowTypeError(f"no model version {version!r} in {self.root}")
        atomic_write_text(self.root / CURRENT, version + "\n")

    def _claim(self, staging: Path) -> Path:
        """Rename the staged directory to the next free version name (safe with concurrent trainers)."""
        numbers = [version_number(p.name) for p in self.root.iterdir()]
        number = max((n for n in numbers if n is not None), default=0) + 1
        while True:
            target = self.root / f"v{number:04d}"
            if not target.exists():
                try:
                    os.rename(staging, target)  # fails if another trainer took the name meanwhile
                    return target
                except OSError as exc:
                    if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                        raise
            number += 1


def version_number(name: str) -> int | None:
    """The number of a version directory name (`v0007` -> 7), or None for anything else."""
    if len(name) == 5 and name[0] == "v" and name[1:].isdigit():
        return int(name[1:])
    return None
