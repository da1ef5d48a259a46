"""Issue 19 item 5: the data dir is 0700 and what FlowType writes in it 0600, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowtype_core import open_workbench
from flowtype_core.sync.history import SyncRun
from tests.sync.conftest import with_demo


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default umask (group and others may read), so modes are not left to chance."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_a_new_data_dir_and_its_records_are_private(tmp_path: Path) -> None:
    wb = open_workbench(data_dir=tmp_path / "data", FLOWTYPE_LAKEHOUSE="local")
    try:
        wb.accounts.create_user("lead", "correct horse battery", role="researcher")
        with_demo(wb, participants=1, sessions=1, sentences=1)
        wb.history.record(SyncRun("validate", "local"))
        (pid, sid), *_ = wb.store.sessions()
        wb.outbox.put("local", pid, sid, "_session")
        assert mode(wb.data_dir) == 0o700
        records = [
            *wb.store.session_dir(pid, sid).glob("*.csv"),
            wb.store.session_dir(pid, sid) / "consent.json",
            wb.history.path,
            *wb.outbox.root.rglob("*.json"),
            wb.accounts.path,
        ]
        assert len(records) >= 7
        assert {str(p.relative_to(wb.data_dir)): mode(p) for p in records} == {
            str(p.relative_to(wb.data_dir)): 0o600 for p in records
        }
        assert mode(wb.store.root) == mode(wb.store.session_dir(pid, sid)) == 0o700
    finally:
        wb.close()


@pytest.mark.usefixtures("open_umask")
def test_an_existing_open_data_dir_is_tightened_when_opened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    open_workbench(data_dir=data, FLOWTYPE_LAKEHOUSE="local").close()
    assert mode(data) == 0o700
