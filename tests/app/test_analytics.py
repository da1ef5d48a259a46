"""Analytics under each role: researchers see everyone, a participant only themselves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flowtype_core import open_workbench
from flowtype_core.demo import generate_demo
from tests.app.conftest import logged_in
from tests.conftest import make_batch


@pytest.fixture
def populated(app_data):
    wb = open_workbench(data_dir=app_data)
    generate_demo(wb.recorder, participants=3, sessions_per_participant=2, sentences_per_session=3)
    handle = wb.recorder.start_session("pat", consented_at=datetime.now(UTC))
    from flowtype_core.corpus import load_corpus

    sentence = load_corpus()[0]
    wb.recorder.submit_section(handle, 0, sentence, make_batch(sentence.text, handle.token, 0))
    assert wb.publisher.wait_idle(60)
    return app_data


def _caption(at) -> str:
    return next(c.value for c in at.caption if "participants ·" in c.value)


def test_researcher_sees_everyone_and_can_filter(populated):
    at = logged_in("researcher").run()
    at.switch_page("pages/analytics.py").run()
    assert not at.exception
    assert _caption(at).startswith("4 participants")
    at.sidebar.multiselect[0].select("demo-01").run()
    assert not at.exception
    assert _caption(at).startswith("1 participants")
    assert any("demo-01" in m.value and "percentile" in m.value for m in at.markdown)


def test_participant_sees_only_their_own_data(populated):
    at = logged_in("participant").run()
    at.switch_page("pages/analytics.py").run()
    assert not at.exception
    assert _caption(at).startswith("1 participants · 1 sentences")
    # No participant picker exists for a participant; the only session offered is their own.
    labels = [m.label for m in at.sidebar.multiselect]
    assert labels == ["Sessions"]
    assert all("demo" not in option for option in at.sidebar.multiselect[0].options)


def test_participant_without_data_sees_a_hint(app_data):
    at = logged_in("participant", username="pia").run()
    at.switch_page("pages/analytics.py").run()
    assert not at.exception
    assert any("No typing data" in i.value for i in at.info)
