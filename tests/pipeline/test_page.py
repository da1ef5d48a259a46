"""The Pipeline page: a researcher starts a local run and watches it reach `succeeded`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from flowtype_core.accounts import AccountStore
from flowtype_core.pipeline.runners.local_worker import NICENESS

PAGE = Path(__file__).resolve().parents[2] / "pages" / "pipeline.py"


def page_as(data_dir: Path, username: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("FLOWTYPE_DATA_DIR", str(data_dir))
    st.cache_resource.clear()  # the workbench is cached per server: this test has its own data dir
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["flowtype_user"] = AccountStore(data_dir).get(username)
    return at.run()


def test_start_a_local_run_and_watch_it_succeed(
    store_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = store_copy(3)
    AccountStore(data_dir).create_user("rita", "correct-horse", role="researcher", name="Rita")
    at = page_as(data_dir, "rita", monkeypatch)
    assert not at.exception
    assert "No pipeline run yet" in at.info[0].value

    at.selectbox[0].select("all")
    next(b for b in at.button if b.label == "Start").click()
    at.run()
    assert not at.exception, at.exception
    states = {m.label: m.value for m in at.metric}
    assert set(states) == {"bronze", "silver", "gold", "train_ranker"}

    deadline = time.monotonic() + 120
    while {m.value for m in at.metric} != {"succeeded"}:
        assert time.monotonic() < deadline, {m.label: m.value for m in at.metric}
        assert not {m.value for m in at.metric} & {"failed", "cancelled"}
        time.sleep(0.3)
        at.run()
    assert not at.exception
    assert any("**succeeded**" in m.value for m in at.markdown)
    assert f"niceness: {os.nice(0) + NICENESS}" in [c.value for c in at.caption]  # a run's plain detail
    (history,) = [d.value for d in at.dataframe if "run_id" in d.value.columns]
    assert history["state"].tolist() == ["succeeded"]
    assert history["rows_written"].iloc[0] > 0
    assert any(e.label == "train_ranker details" for e in at.expander)  # the model's NDCG is shown


def test_the_page_is_for_researchers_only(
    store_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = store_copy(1)
    AccountStore(data_dir).create_user("rita", "correct-horse", role="researcher", name="Rita")
    AccountStore(data_dir).create_user("andy", "correct-horse", role="analyst", name="Andy")
    at = page_as(data_dir, "andy", monkeypatch)
    assert [e.value for e in at.error] == ["You do not have access to this page."]
    assert not at.button
