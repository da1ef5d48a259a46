"""Fixtures shared by every test tier: a fresh data directory and a workbench over it."""

from __future__ import annotations

import contextlib
import errno
import random
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flowtype_core import Workbench, open_workbench
from flowtype_core.corpus import load_corpus
from flowtype_core.demo import TypistProfile, synthesize_batch

ROOT = Path(__file__).resolve().parents[1]
AALTO_DIR = ROOT.parent / "shared" / "datasets" / "aalto_sample" / "keystrokes"


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's secrets file or Databricks profile."""
    for name in (
        "FLOWTYPE_LAKEHOUSE",
        "FLOWTYPE_RUNNER",
        "FLOWTYPE_DATA_DIR",
        "DATABRICKS_HOST",
        "DATABRICKS_TOKEN",
        "DATABRICKS_SERVER_HOSTNAME",
        "DATABRICKS_ACCESS_TOKEN",
        "DATABRICKS_PROFILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FLOWTYPE_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-databrickscfg"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def wb(data_dir: Path) -> Iterator[Workbench]:
    workbench = open_workbench(data_dir=data_dir)
    yield workbench
    workbench.close()


@pytest.fixture
def typist() -> TypistProfile:
    return TypistProfile(
        iki_median_ms=180, iki_sigma=0.4, hold_mean_ms=100, typo_rate=0.02, correction_rate=0.9
    )


def make_batch(
    sentence: str,
    token: str,
    index: int,
    *,
    seed: int = 1,
    profile: TypistProfile | None = None,
    start: datetime | None = None,
) -> dict:
    """A batch exactly as the browser component sends it."""
    profile = profile or TypistProfile(180, 0.4, 100, 0.02, 0.9)
    start_ms = (start or datetime.now(UTC)).timestamp() * 1000 - 60_000
    return synthesize_batch(
        sentence, profile, random.Random(seed), start_ms=start_ms, token=token, section_index=index
    )


@pytest.fixture
def sentences():
    return load_corpus()


@contextlib.contextmanager
def small_disk(mount: Path, size_mb: int) -> Iterator[Path]:
    """A tmpfs of `size_mb` mounted at `mount` (the tests run as root): a disk that really fills up.
    Where it cannot be mounted the test fails, saying why; it never skips."""
    mount.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        pytest.fail(f"cannot mount a tmpfs at {mount} (the disk-full tests need root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


def fill_disk(folder: Path) -> Path:
    """Write one file in `folder` until its filesystem has no byte left; returns it (delete it to
    give the space back)."""
    filler = folder / "filler.bin"
    chunk = b"\0" * (64 << 10)
    with filler.open("wb", buffering=0) as handle:  # unbuffered: the last write may be partial
        while True:
            try:
                handle.write(chunk)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return filler
