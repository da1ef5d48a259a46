"""The sync history: what ran, when, how many rows, how long, and how it ended (SPEC §3.4)."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flowtype_core.redaction import redact
from flowtype_core.store.atomic import private_append

_lock = threading.Lock()


@dataclass
class SyncRun:
    """One record of the history; `error` is redacted before it is stored."""

    kind: str  # publish | resync | validate
    lakehouse: str
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    seconds: float = 0.0
    sections: int = 0
    rows: int = 0
    status: str = "ok"  # ok | failed | partial
    error: str = ""
    detail: dict[str, object] = field(default_factory=dict)


class SyncHistory:
    """Append-only JSON lines at `<data-dir>/sync_history.jsonl`."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "sync_history.jsonl"

    def record(self, run: SyncRun) -> None:
        run.error = redact(run.error)[:2000]
        line = json.dumps(asdict(run), default=str) + "\n"
        with _lock:
            private_append(self.path, line.encode("utf-8"))

    def read(self, limit: int | None = None) -> pl.DataFrame:
        """Newest last; malformed lines (a crash mid-append) are skipped."""
        if not self.path.is_file():
            return pl.DataFrame(schema={k: pl.String for k in SyncRun.__dataclass_fields__})
        rows = []
        for line in self.path.read_text("utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        rows = rows[-limit:] if limit else rows
        for row in rows:
            row["detail"] = json.dumps(row.get("detail", {}))
        return pl.DataFrame(rows, infer_schema_length=None)
