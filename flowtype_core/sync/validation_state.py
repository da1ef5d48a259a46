"""What sync validation keeps between runs under `<data-dir>/sync/`: the watermark and the last
report (`validation.json`), and frames (`<name>.parquet`: CSV stamps, CSV fingerprints, the last
report's rows). A damaged file only costs a full scan."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from flowtype_core.schema import ColumnType
from flowtype_core.store.atomic import atomic_write, atomic_write_text

log = logging.getLogger(__name__)


class ValidationState:
    """The validator's files in `state_dir` (created if missing)."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)

    @property
    def _state_path(self) -> Path:
        return self.dir / "validation.json"

    def _frame_path(self, name: str) -> Path:
        return self.dir / f"{name}.parquet"

    def load_frame(self, name: str, schema: Mapping[str, ColumnType]) -> pl.DataFrame | None:
        """The kept frame `name` cast to `schema`, or None if missing, unreadable or of other columns."""
        path = self._frame_path(name)
        if not path.is_file():
            return None
        try:
            frame = pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as exc:  # a damaged cache only costs a full scan
            log.warning("sync state %s unreadable, rebuilding: %s", path.name, exc)
            return None
        return frame.cast(pl.Schema(schema)) if set(frame.columns) == set(schema) else None

    def save_frame(self, name: str, frame: pl.DataFrame) -> None:
        """Replace the kept frame `name` atomically."""
        buffer = io.BytesIO()
        frame.write_parquet(buffer)
        payload = buffer.getvalue()
        atomic_write(self._frame_path(name), lambda handle: handle.write(payload))

    def load(self) -> dict[str, Any]:
        """The kept JSON state ({} before the first run or if it is damaged)."""
        try:
            state = json.loads(self._state_path.read_text("utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return state if isinstance(state, dict) else {}

    def save(self, state: dict[str, Any]) -> None:
        """Replace the kept JSON state atomically."""
        atomic_write_text(self._state_path, json.dumps(state))
