"""The Aalto sample imported once through the real capture path; each test gets its own copy."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from flowtype_core import open_workbench
from flowtype_core.datasets.aalto import AaltoImport, read_aalto
from tests.conftest import AALTO_DIR

AALTO_SAMPLE = (
    Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "aalto_sample" / "keystrokes"
)


@pytest.fixture(scope="session")
def aalto() -> AaltoImport:
    """The 156-participant sample as table frames (the reference for every figure)."""
    return read_aalto(AALTO_DIR)


@pytest.fixture(scope="session")
def aalto_store(aalto: AaltoImport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the sample, written by `recorder.ingest` and published."""
    data_dir = tmp_path_factory.mktemp("aalto_store")
    wb = open_workbench(data_dir=data_dir, FLOWTYPE_STRICT="false", FLOWTYPE_LAKEHOUSE="local")
    try:
        wb.recorder.ingest(aalto.keystrokes, aalto.sections, aalto.sessions)
        assert wb.publisher.wait_idle(timeout=600)
    finally:
        wb.close()
    return data_dir


@pytest.fixture
def store_copy(aalto_store: Path, tmp_path: Path) -> Callable[..., Path]:
    """A fresh data directory with the sample's session files (all, or the first `participants`)."""

    def make(participants: int | None = None) -> Path:
        target = tmp_path / "data"
        folders = sorted((aalto_store / "sessions").iterdir())[:participants]
        for folder in folders:
            shutil.copytree(folder, target / "sessions" / folder.name)
        return target

    return make
