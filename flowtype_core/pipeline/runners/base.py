"""The one interface every pipeline runner implements, and the run records they all keep.

A run executes a target's tasks (`bronze`, `silver`, `gold`, ...) somewhere (a local process, a
Databricks job) and is watched through `status`. Records are JSON files under
`<data-dir>/pipeline_runs/`, so history and live state survive an app restart whatever the runner.
"""

from __future__ import annotations

import json
import secrets
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowtype_core.errors import FlowTypeError
from flowtype_core.ids import check_id
from flowtype_core.store.atomic import atomic_write_text

if TYPE_CHECKING:
    from flowtype_core.config import Settings

PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED = "pending", "running", "succeeded", "failed", "cancelled"
TASK_STATES = (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED)
FINAL_STATES = (SUCCEEDED, FAILED, CANCELLED)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class TaskRecord:
    """One task of a run: its state, the rows it moved, how long it took, why it failed."""

    name: str
    state: str = PENDING
    rows_in: int | None = None
    rows_written: int | None = None
    quarantined: int | None = None
    seconds: float | None = None
    started_at: str | None = None
    ended_at: str | None = None
    error: str | None = None
    url: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunRecord:
    """One pipeline run as every runner reports it; `external_id`/`url` point into Databricks."""

    run_id: str
    runner: str
    target: str
    tasks: list[TaskRecord]
    state: str = PENDING
    created_at: str = field(default_factory=now_iso)
    started_at: str | None = None
    ended_at: str | None = None
    error: str | None = None
    url: str | None = None
    external_id: str | None = None
    pid: int | None = None
    details: dict[str, Any] = field(default_factory=dict)  # runner-specific, e.g. files sent before it

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def task(self, name: str) -> TaskRecord:
        return next(t for t in self.tasks if t.name == name)

    def elapsed_seconds(self) -> float | None:
        """Wall time so far (or in total, once finished)."""
        if self.started_at is None:
            return None
        end = datetime.fromisoformat(self.ended_at) if self.ended_at else datetime.now(UTC)
        return round((end - datetime.fromisoformat(self.started_at)).total_seconds(), 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def history_row(self) -> dict[str, Any]:
        """One line of the run history: what ran, where, when, for how long, how it ended."""
        return {
            "run_id": self.run_id,
            "target": self.target,
            "runner": self.runner,
            "state": self.state,
            "created_at": self.created_at,
            "seconds": self.elapsed_seconds(),
            "rows_written": sum(t.rows_written or 0 for t in self.tasks),
            "quarantined": sum(t.quarantined or 0 for t in self.tasks),
            "error": self.error or next((t.error for t in self.tasks if t.state == FAILED), None),
            "url": self.url,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunRecord:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        values["tasks"] = [TaskRecord(**t) for t in raw.get("tasks", [])]
        return cls(**values)


def new_run_id() -> str:
    """Sortable by start time, unique across processes."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "_" + secrets.token_hex(3)


class RunStore:
    """Run records as `<data-dir>/pipeline_runs/<run_id>.json`, each replaced atomically."""

    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir) / "pipeline_runs"
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, run_id: str) -> Path:
        return self.root / f"{check_id(run_id, 'run_id')}.json"

    def save(self, record: RunRecord) -> None:
        atomic_write_text(self.path(record.run_id), json.dumps(record.to_dict(), indent=1))

    def load(self, run_id: str) -> RunRecord:
        path = self.path(run_id)
        if not path.is_file():
            raise FlowTypeError(f"no pipeline run {run_id!r} in {self.root}")
        return RunRecord.from_dict(json.loads(path.read_text("utf-8")))

    def run_ids(self) -> list[str]:
        """Every recorded run, newest first."""
        return sorted((p.stem for p in self.root.glob("*.json")), reverse=True)


class Runner(ABC):
    """Starts pipeline targets somewhere and reports on them; records live in a `RunStore`."""

    name: str

    def __init__(self, store: RunStore) -> None:
        self.store = store

    @classmethod
    def settings_problems(cls, settings: Settings) -> list[str]:
        """What this runner still needs from the settings (strict mode); a local one needs nothing."""
        return []

    @abstractmethod
    def start(self, target: str) -> RunRecord:
        """Start `target` in the background and return its record at once."""

    @abstractmethod
    def status(self, run_id: str) -> RunRecord:
        """The run's current record (refreshed from wherever it executes)."""

    @abstractmethod
    def cancel(self, run_id: str) -> RunRecord:
        """Ask the run to stop; its unfinished tasks end `cancelled`."""

    def sync_models(self) -> dict[str, Any]:
        """Bring models trained where this runner executes into `<data-dir>/models`; what was fetched.

        Local runs register their models there already, so by default there is nothing to do.
        """
        return {}

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """Recent runs of this data directory (any runner), newest first, unfinished ones refreshed."""
        records = []
        for run_id in self.store.run_ids()[:limit]:
            record = self.store.load(run_id)
            records.append(
                self.status(run_id) if not record.is_final and record.runner == self.name else record
            )
        return records

    def wait(self, run_id: str, *, timeout: float = 3600, poll: float = 0.5) -> RunRecord:
        """Block until the run ends (CLI, notebooks, tests); raises TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.status(run_id)
            if record.is_final:
                return record
            if time.monotonic() > deadline:
                raise TimeoutError(f"pipeline run {run_id} still {record.state} after {timeout:.0f} s")
            time.sleep(poll)


def finish(record: RunRecord) -> RunRecord:
    """Derive the run's state from its tasks once none is pending or running."""
    states = {t.state for t in record.tasks}
    if states & {PENDING, RUNNING}:
        return record
    record.state = FAILED if FAILED in states else CANCELLED if CANCELLED in states else SUCCEEDED
    record.ended_at = record.ended_at or now_iso()
    return record
