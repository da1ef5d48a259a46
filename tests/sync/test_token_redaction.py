"""Lakehouse errors that carry the access token: the token reaches no log line, result, history or file."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from flowtype_core import open_workbench
from flowtype_core.cli import main as cli_main
from flowtype_core.redaction import MASK
from flowtype_core.sync.service import Selection, SyncService
from tests.sync.conftest import TOKEN, files_under, with_demo

LEAK = f"401 from https://adb-1.azuredatabricks.net/?access_token={TOKEN}: credentials {TOKEN} rejected"


class _Capture(logging.Handler):
    """Every record of every logger, formatted with its traceback, as a handler would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def all_logging() -> Iterator[_Capture]:
    root = logging.getLogger()
    handler, level = _Capture(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_forced_errors_never_reveal_the_token(
    backend: Any, all_logging: _Capture, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = {**backend.settings(), "DATABRICKS_ACCESS_TOKEN": TOKEN}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    healthy = open_workbench()
    with_demo(healthy, participants=1, sessions=1, sentences=2)
    healthy.close()
    backend.force_errors(LEAK, monkeypatch)
    wb = open_workbench()  # a fresh process view: lakehouses opened after the failure began
    sync = SyncService.for_workbench(wb)

    texts: list[str] = []
    report = sync.validate(full=True)
    assert backend.kind in report.errors  # the failure happened and was reported...
    texts.append(json.dumps(report.to_dict(), default=str))
    result = sync.resync(Selection(everything=True))  # unverified sections are only replayed on request
    assert result.failures and not result.ok
    texts.append(json.dumps(result.to_dict(), default=str))
    texts += [e.last_error for e in wb.outbox.entries()]
    assert any(MASK in text for text in texts)  # ...with the secret masked, not dropped silently
    for argv in (["sync", "validate", "--json"], ["-v", "sync", "resync", "--all"], ["sync", "history"]):
        cli_main(argv)
    out = capsys.readouterr()
    texts += [out.out, out.err]
    texts += all_logging.lines
    history = sync.history_frame()
    assert "failed" in history.get_column("status").to_list()
    texts.append(history.write_json())

    assert all_logging.lines, "the failures were logged"
    leaks = [text for text in texts if TOKEN in text]
    assert not leaks, leaks[:3]
    files = [path for path, data in files_under(wb.data_dir) if TOKEN.encode() in data]
    assert not files, files
    wb.close()
