"""LocalRunner: a real background process per run, records that survive a restart, cancel."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from flowtype_core.config import Settings
from flowtype_core.errors import FlowTypeError
from flowtype_core.pipeline.runners import open_runner
from flowtype_core.pipeline.runners.base import RunRecord, RunStore, TaskRecord, new_run_id
from flowtype_core.pipeline.runners.local_worker import NICENESS


def runner_for(data_dir: Path):
    return open_runner(Settings(data_dir=data_dir, strict=False), "local")


def test_run_all_succeeds_and_its_record_survives_a_restart(store_copy: Callable[..., Path]) -> None:
    data_dir = store_copy(6)
    runner = runner_for(data_dir)
    started = runner.start("all")
    assert [t.name for t in started.tasks] == ["bronze", "silver", "gold", "train_ranker"]
    assert {t.state for t in started.tasks} == {"pending"}

    final = runner.wait(started.run_id, timeout=300, poll=0.2)

    assert final.state == "succeeded", final
    bronze, silver, gold, train = final.tasks
    assert bronze.rows_in == bronze.rows_written > 0
    assert silver.rows_in == bronze.details["tables"]["bronze_keystrokes"]
    assert silver.quarantined == 0
    assert gold.rows_written == sum(gold.details["tables"].values())
    assert train.details["trained"] is True and Path(train.details["model_path"]).is_dir()
    assert 0 < train.details["ndcg@5"] <= 1
    assert all(t.seconds is not None and t.error is None for t in final.tasks)
    assert final.elapsed_seconds() is not None
    # Batch work yields the cores to the app's server: the worker ran below this process's priority.
    assert final.details["niceness"] == os.nice(0) + NICENESS

    restarted = runner_for(data_dir)  # a new app process: nothing in memory
    history = restarted.runs()
    assert [r.run_id for r in history] == [started.run_id]
    assert history[0].to_dict() == final.to_dict()


def test_cancel_stops_the_run(store_copy: Callable[..., Path]) -> None:
    data_dir = store_copy()
    runner = runner_for(data_dir)
    started = runner.start("all")

    runner.cancel(started.run_id)
    final = runner.wait(started.run_id, timeout=120, poll=0.2)

    assert final.state == "cancelled"
    assert "succeeded" not in {t.state for t in final.tasks}
    assert {t.state for t in final.tasks} == {"cancelled"}


def test_a_second_run_is_refused_while_one_is_going(store_copy: Callable[..., Path]) -> None:
    data_dir = store_copy(2)
    runner = runner_for(data_dir)
    first = runner.start("bronze")
    with pytest.raises(FlowTypeError, match=first.run_id):
        runner.start("all")
    assert runner.wait(first.run_id, timeout=120, poll=0.2).state == "succeeded"


def test_a_run_whose_process_died_is_reported_failed(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    store = RunStore(tmp_path)
    record = RunRecord(
        new_run_id(),
        "local",
        "all",
        [TaskRecord("bronze", state="succeeded"), TaskRecord("silver", state="running"), TaskRecord("gold")],
        state="running",
        pid=gone.pid,
    )
    store.save(record)

    status = runner_for(tmp_path).status(record.run_id)

    assert status.state == "failed"
    assert [t.state for t in status.tasks] == ["succeeded", "failed", "cancelled"]
    assert "exited unexpectedly" in status.tasks[1].error
    assert store.load(record.run_id).state == "failed"  # persisted, not recomputed each time
