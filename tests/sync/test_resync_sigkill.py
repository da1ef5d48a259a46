"""SIGKILL a process in the middle of a big resync; re-running it leaves every section exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowtype_core import Workbench, open_workbench
from flowtype_core.sync.report import IN_SYNC, MISSING, PENDING
from flowtype_core.sync.service import SyncService
from tests.sync.conftest import assert_exactly_once, cli_env, with_demo

ROOT = Path(__file__).resolve().parents[2]


def resync_child(settings: dict[str, str], wait_to_be_killed: bool) -> None:
    """Run in a spawned interpreter: resync one session per batch, reporting each batch."""
    wb = open_workbench(**settings)
    wb.publisher.sessions_per_push = 1

    def progress(fraction: float, message: str) -> None:
        print(f"progress {fraction} {message}", flush=True)
        if wait_to_be_killed:
            sys.stdin.readline()  # parked between two batches until the test kills us

    SyncService.for_workbench(wb).resync(progress=progress)
    print("finished", flush=True)


@pytest.mark.parametrize("kill_point", ["between_batches", "while_pushing"])
def test_sigkill_during_resync_then_rerun_is_exactly_once(
    backend: Any, sync_wb: Workbench, kill_point: str
) -> None:
    with_demo(sync_wb, participants=3, sessions=2, sentences=3)
    for table in ("keystrokes", "sections"):
        backend.delete_rows(table, "participant_id IS NOT NULL")
    assert SyncService.for_workbench(sync_wb).validate().counts()[MISSING] == 18

    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        "from tests.sync.test_resync_sigkill import resync_child; "
        f"resync_child({backend.settings()!r}, {kill_point == 'between_batches'})"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    first = child.stdout.readline()
    assert first.startswith("progress "), first
    os.kill(child.pid, signal.SIGKILL)
    child.wait(60)
    assert child.returncode == -signal.SIGKILL

    sync = SyncService.for_workbench(sync_wb)
    if kill_point == "between_batches":  # exactly one session went through before the kill
        counts = sync.validate().counts()
        assert counts[IN_SYNC] == 3
        assert counts[PENDING] == 15
        assert len({(e.participant_id, e.session_id) for e in sync_wb.outbox.entries()}) == 5

    rerun = subprocess.run(
        [sys.executable, "-m", "flowtype_core", "sync", "resync", "--json"],
        cwd=ROOT,
        env=cli_env(backend),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout)
    assert result["after"][IN_SYNC] == 18 and result["ok"]
    assert sync_wb.outbox.entries() == []
    assert_exactly_once(sync_wb)
