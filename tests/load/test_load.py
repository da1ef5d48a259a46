"""Issue 20 item 1 at CI size: participants typing at once through the real server (one chromium,
a context each) while a researcher runs the pipeline and a second process writes the same
lakehouse tables. Asserts correctness only: every sentence stored exactly once in the CSV store
and in Delta, `sync validate` all in_sync, no error shown to anyone. Latency is printed here and
measured at 30 typists by bench/bench_load.py, never asserted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ROOT, app_env
from tests.load.scenario import create_accounts, run_load
from tests.load.stored import check_stored_once
from tests.load.typists import run_async

pytestmark = pytest.mark.browser

TYPISTS = 4
SENTENCES = 5


def test_typists_at_once_store_every_sentence_exactly_once(
    serve_streamlit: Callable[..., Any], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    names = create_accounts(data, TYPISTS)
    env = app_env(tmp_path, data)
    server = serve_streamlit(ROOT / "app.py", env)

    result = run_async(
        lambda: run_load(server.url, data, env, names, server.process.pid, sentences=SENTENCES)
    )
    print(result.summary())

    assert {o.participant_id: o.problems for o in result.outcomes} == {n: [] for n in names}
    assert [len(o.typed) for o in result.outcomes] == [SENTENCES] * TYPISTS
    assert len(result.latencies_ms) == TYPISTS * SENTENCES  # every result was seen after its Enter
    assert result.pipeline_runs and set(result.pipeline_runs) == {"succeeded"}
    assert result.writer["sections"] > 0
    stored = check_stored_once(env, [t for o in result.outcomes for t in o.typed])
    assert stored["sentences"] == TYPISTS * SENTENCES
