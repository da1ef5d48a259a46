"""The Sync page: status summary, filters, resync with progress, outbox and history."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from flowtype_core import Workbench
from flowtype_core.accounts import AccountStore
from flowtype_core.corpus import load_corpus
from tests.app.conftest import logged_in
from tests.conftest import make_batch
from tests.sync.conftest import with_demo


@pytest.fixture
def researcher(backend: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in backend.settings().items():
        monkeypatch.setenv(name, value)
    AccountStore(backend.data_dir).create_user("rita", "correct-horse", role="researcher", name="Rita")
    return "rita"


def _metrics(at: Any) -> dict[str, str]:
    """Card values by status name, markup (the red of a problem status) taken off the label."""
    return {m.label.removeprefix(":red[**").removesuffix("**]"): m.value for m in at.metric}


def _highlighted(at: Any) -> set[str]:
    return {
        m.label.removeprefix(":red[**").removesuffix("**]") for m in at.metric if m.label.startswith(":red[")
    }


def test_page_shows_problems_and_repairs_them(backend: Any, sync_wb: Workbench, researcher: str) -> None:
    with_demo(sync_wb, participants=1, sessions=2, sentences=2)
    section = sync_wb.store.read_all("sections.csv").row(0, named=True)
    backend.delete_rows(
        "keystrokes",
        f"participant_id = '{section['participant_id']}' AND test_section_id = '{section['test_section_id']}'",
    )

    at = logged_in("researcher", username=researcher).run()
    at.switch_page("pages/sync.py").run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = _metrics(at)
    assert metrics["in sync"] == "3" and metrics["count mismatch"] == "1"
    assert _highlighted(at) == {"count mismatch"}  # only a non-zero problem count stands out
    assert at.multiselect[0].value == ["count_mismatch"]  # the status filter starts on the problems
    table = at.dataframe[0].value
    assert list(table["test_section_id"]) == [section["test_section_id"]]

    at.toggle[0].set_value(True).run()  # one row per session
    per_session = at.dataframe[0].value
    assert list(per_session["session_id"]) == [section["session_id"]]
    assert list(per_session["count_mismatch"]) == [1]
    at.toggle[0].set_value(False).run()

    next(b for b in at.button if b.label == "Resync every out-of-sync section").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Queued 2 outbox entries" in s.value for s in at.success), [s.value for s in at.success]
    # The cards show the state after the resync in the same click, not the validation before it.
    assert _metrics(at)["in sync"] == "4" and _metrics(at)["count mismatch"] == "0"
    assert not _highlighted(at)
    (chart,) = at.get("plotly_chart")
    traces = json.loads(chart.proto.spec)["data"]
    ok = [t for t in traces if t["legendgroup"].startswith("ok")]
    assert ok and all(t["marker"]["color"] == "#2e7d32" for t in ok)  # a successful resync is green
    assert not any(t["legendgroup"].startswith("failed") for t in traces)
    assert any("Nothing is waiting" in m.value for m in at.markdown)


def test_push_now_reports_failures_then_drains_the_outbox(
    backend: Any, sync_wb: Workbench, researcher: str
) -> None:
    with_demo(sync_wb, participants=1, sessions=1, sentences=1)
    at = logged_in("researcher", username=researcher).run()
    at.switch_page("pages/sync.py").run()
    assert any("Nothing is waiting" in m.value for m in at.markdown)

    backend.stop()
    recorder = sync_wb.recorder
    handle = recorder.start_session("push-01", consented_at=datetime.now(UTC))
    sentence = load_corpus()[0]
    recorder.submit_section(handle, 0, sentence, make_batch(sentence.text, handle.token, 0))
    waiting = len(sync_wb.outbox.entries())
    assert waiting, "the section waits in the outbox while the lakehouse is down"

    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.dataframe[-2].value.shape[0] == waiting  # the outbox table, above the history
    next(b for b in at.button if b.label == "Push the outbox now").click().run()
    assert any(backend.kind in e.value for e in at.error), [e.value for e in at.error]
    assert len(sync_wb.outbox.entries()) == waiting, "a failed push keeps every entry"

    backend.start()
    next(b for b in at.button if b.label == "Push the outbox now").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.value.startswith("Pushed 1 sections") for s in at.success), [s.value for s in at.success]
    assert sync_wb.outbox.entries() == []
    at.run()
    assert any("Nothing is waiting" in m.value for m in at.markdown)
