"""Runs pipeline targets in a background process on this machine.

Each run is a fresh Python process (`python -m flowtype_core.pipeline.runners.local_worker`) in
its own session: delta-rs cannot run in forked children, a process can be cancelled without
touching the app, and it keeps going (and keeps its record current) when the app restarts. The
runner only starts, signals and inspects workers; a record whose worker is gone while the record
says it is still going is marked failed (or cancelled, if a cancel was asked for).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import flowtype_core
from flowtype_core.config import Settings
from flowtype_core.errors import FlowTypeError
from flowtype_core.pipeline.plan import plan
from flowtype_core.pipeline.runners.base import (
    CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    Runner,
    RunRecord,
    RunStore,
    TaskRecord,
    finish,
    new_run_id,
    now_iso,
)

WORKER = "flowtype_core.pipeline.runners.local_worker"
_LOG_TAIL = 2000


def cancel_flag(store: RunStore, run_id: str) -> Path:
    """The file whose existence asks a worker to stop (the worker owns the record file)."""
    return store.root / f"{run_id}.cancel"


def log_path(store: RunStore, run_id: str) -> Path:
    return store.root / f"{run_id}.log"


def _alive(pid: int | None, run_id: str) -> bool:
    """True while the worker process of `run_id` exists and is not a zombie."""
    if pid is None:
        return False
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():  # Linux: also rules out a recycled pid and an unreaped zombie
        try:
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return run_id.encode() in cmdline and state != "Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalRunner(Runner):
    """One background process per run, records under `<data-dir>/pipeline_runs/`."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        super().__init__(RunStore(settings.data_dir))
        self.data_dir = Path(settings.data_dir)
        self.engine = settings.engine  # the worker's transforms run there (polars when empty)
        self._workers: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, target: str) -> RunRecord:
        tasks = plan(target)
        busy = [r.run_id for r in self.runs(limit=10) if not r.is_final and r.runner == self.name]
        if busy:
            raise FlowTypeError(f"pipeline run {busy[0]} is still going; wait for it or cancel it first")
        record = RunRecord(new_run_id(), self.name, target, [TaskRecord(t) for t in tasks])
        if self.engine:
            record.details["engine"] = self.engine
        self.store.save(record)
        package_root = str(Path(flowtype_core.__file__).resolve().parents[1])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
            "FLOWTYPE_ENGINE": self.engine,
        }
        with log_path(self.store, record.run_id).open("wb") as log:
            self._workers[record.run_id] = subprocess.Popen(
                [sys.executable, "-m", WORKER, str(self.data_dir.resolve()), record.run_id],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        return record

    def _worker_alive(self, record: RunRecord) -> bool:
        worker = self._workers.get(record.run_id)
        if worker is not None:
            return worker.poll() is None  # also reaps it
        return _alive(record.pid, record.run_id)

    def status(self, run_id: str) -> RunRecord:
        record = self.store.load(run_id)
        if record.is_final or self._worker_alive(record):
            return record
        record = self.store.load(run_id)  # the worker may have finished between the two reads
        if record.is_final:
            return record
        return self._mark_dead(record)

    def _mark_dead(self, record: RunRecord) -> RunRecord:
        cancelled = cancel_flag(self.store, record.run_id).exists()
        reason = "cancelled before it finished" if cancelled else self._death_reason(record.run_id)
        for task in record.tasks:
            if task.state == RUNNING:
                task.state, task.error, task.ended_at = (
                    (CANCELLED if cancelled else FAILED),
                    reason,
                    now_iso(),
                )
            elif task.state == PENDING:
                task.state = CANCELLED
        record.error = reason
        record.ended_at = now_iso()
        finish(record)
        if record.state == CANCELLED and not cancelled:  # died between tasks: nobody asked it to stop
            record.state = FAILED
        self.store.save(record)
        return record

    def _death_reason(self, run_id: str) -> str:
        worker = self._workers.get(run_id)
        code = f" (exit code {worker.returncode})" if worker is not None else ""
        tail = ""
        with contextlib.suppress(OSError):
            tail = log_path(self.store, run_id).read_text("utf-8", errors="replace")[-_LOG_TAIL:].strip()
        return f"the worker process exited unexpectedly{code}" + (f": {tail}" if tail else "")

    def cancel(self, run_id: str) -> RunRecord:
        record = self.store.load(run_id)
        if record.is_final:
            return record
        cancel_flag(self.store, run_id).touch()
        worker = self._workers.get(run_id)
        pid = worker.pid if worker is not None else record.pid
        if pid is not None and self._worker_alive(record):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)  # its own session: the group is the worker
        return self.status(run_id)
