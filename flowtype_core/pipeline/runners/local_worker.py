"""The process behind one local run: `python -m flowtype_core.pipeline.runners.local_worker DATA_DIR RUN_ID`.

It owns the run's record file and updates it as each task starts and ends. SIGTERM (a cancel)
ends the current task as `cancelled` at the next Python instruction; Delta commits are atomic, so
a stopped task leaves every table as it was or as the task committed it. One run at a time per
data directory (a lock), whoever started it: the app, the CLI or a notebook.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import traceback
from pathlib import Path

from flowtype_core import redaction
from flowtype_core.backends import engine_session
from flowtype_core.pipeline.layers import LAYERS
from flowtype_core.pipeline.runners.base import (
    CANCELLED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    RunRecord,
    RunStore,
    TaskRecord,
    finish,
    now_iso,
)
from flowtype_core.pipeline.runners.local import cancel_flag
from flowtype_core.progress import described
from flowtype_core.workbench import open_workbench

# A run is batch work beside the app's server on the same cores: at this niceness the scheduler
# serves the participants' submits first and the run takes what is left (issue 20).
NICENESS = 10


class Cancelled(BaseException):
    """Raised in the worker when the run is cancelled (a BaseException: no task may swallow it)."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Cancelled


def execute(data_dir: Path, run_id: str) -> RunRecord:
    """Run the record's tasks in order, saving the record after every change."""
    store = RunStore(data_dir)
    record = store.load(run_id)
    record.pid, record.state, record.started_at = os.getpid(), RUNNING, now_iso()
    record.details["niceness"] = os.nice(0)
    store.save(record)
    lock = (store.root / ".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        record.error = "another pipeline run is using this data directory"
        for task in record.tasks:
            task.state, task.error = FAILED, record.error
        store.save(finish(record))
        return record

    # The worker runs the local runner's layers whatever FLOWTYPE_RUNNER says (`--runner local`);
    # it writes no lakehouse, so Databricks settings in the environment are not checked here. The
    # runner passes its engine as FLOWTYPE_ENGINE (strict mode ran when it was configured).
    wb = open_workbench(data_dir=data_dir, FLOWTYPE_RUNNER="local", FLOWTYPE_STRICT="false")
    try:
        spark = engine_session(wb.settings)
    except Exception as exc:
        traceback.print_exc()
        record.error = redaction.redact(f"the {wb.settings.engine} engine could not start: {exc}")
        for task in record.tasks:
            task.state, task.error = FAILED, record.error
        store.save(finish(record))
        return record
    context = wb.pipeline_context(spark=spark)
    stop_reason: tuple[str, str] | None = None
    for task in record.tasks:
        if stop_reason is not None:
            task.state, task.error = CANCELLED, stop_reason[1]
            continue
        if cancel_flag(store, run_id).exists():
            stop_reason = (CANCELLED, "cancelled before it started")
            task.state, task.error = CANCELLED, stop_reason[1]
            continue
        task.state, task.started_at = RUNNING, now_iso()

        def progress(fraction: float, message: str, /, task: TaskRecord = task) -> None:
            task.details["progress"] = described(fraction, message)
            store.save(record)

        context.progress = progress
        store.save(record)
        try:
            result = LAYERS[task.name](context)
        except Cancelled:
            task.state, task.error = CANCELLED, "cancelled while running"
            stop_reason = (CANCELLED, "cancelled: an earlier task was cancelled")
        except Exception as exc:
            task.state, task.error = FAILED, redaction.redact(f"{type(exc).__name__}: {exc}")
            traceback.print_exc()
            stop_reason = (FAILED, f"not run: {task.name} failed")
        else:
            task.state = SUCCEEDED
            task.rows_in, task.rows_written = result.rows_in, result.rows_written
            task.quarantined, task.seconds = result.quarantined, result.seconds
            task.details = {**result.details, "tables": result.tables}
        task.ended_at = now_iso()
        store.save(record)
    store.save(finish(record))
    return record


def main(argv: list[str]) -> int:
    redaction.install()
    os.nice(NICENESS)
    signal.signal(signal.SIGTERM, _on_sigterm)
    data_dir, run_id = Path(argv[0]), argv[1]
    try:
        record = execute(data_dir, run_id)
    except Cancelled:
        return 1
    return 0 if record.state == SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
