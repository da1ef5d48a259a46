"""Issue 20 item 2: faults met through the real server and a real chromium. A disk that fills up,
a lakehouse that is slow and then down, the app killed mid-session, and two tabs of one
participant typing at once. Each ends with every submitted sentence stored exactly once in the
CSV store and the lakehouse, and `sync validate` all in_sync."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from flowtype_core.accounts import AccountStore
from tests.browser.conftest import ROOT, StreamlitServer, app_env
from tests.browser.test_e2e_typing import PASSWORD
from tests.conftest import fill_disk, small_disk
from tests.load.stored import check_stored_once
from tests.load.typists import Outcome, chromium, open_typist, outbox_drained, run_async
from tests.support.databricks_sql_server import DatabricksSqlServer

pytestmark = pytest.mark.browser

DISK_FULL = "The disk holding the data folder is full, so this was not saved"
TAKEN_OVER = "this session was continued in another tab or window"


def _participant(data: Path, name: str = "pam") -> str:
    """A fresh install's researcher and the participant they registered."""
    accounts = AccountStore(data)
    accounts.create_user("rita", PASSWORD, role="researcher", name="Rita")
    accounts.create_user(name, PASSWORD, role="participant", name=name)
    return name


def _sessions(data: Path, participant: str) -> pl.DataFrame:
    return pl.concat(
        pl.read_csv(p, infer_schema=False)
        for p in sorted((data / "sessions" / participant).glob("*/session.csv"))
    )


def test_a_full_disk_refuses_the_sentence_clearly_and_the_retype_lands_once(
    serve_streamlit: Callable[..., Any], tmp_path: Path
) -> None:
    with small_disk(tmp_path / "disk", size_mb=48) as disk:
        data = disk / "data"
        name = _participant(data)
        env = app_env(tmp_path, data)
        server = serve_streamlit(ROOT / "app.py", env)

        async def scenario() -> Outcome:
            outcome = Outcome(name)
            async with chromium() as browser:
                typist = await open_typist(browser, name)
                await typist.log_in(server.url)
                await typist.consent(2)
                outcome.typed.append(await typist.type_sentence(0, 2, "steady"))
                (session,) = (data / "sessions" / name).iterdir()
                before = {p.name: p.read_bytes() for p in session.iterdir()}

                filler = fill_disk(disk)
                await typist.submit(1, 2, "uneven")
                await typist.see(DISK_FULL)
                assert {
                    p.name: p.read_bytes() for p in session.iterdir()
                } == before  # no temp file, no change
                filler.unlink()

                outcome.typed.append(await typist.type_sentence(1, 2, "uneven"))  # the field is empty again
                await typist.see("Session summary")
                return await typist.collect(outcome)

        outcome = run_async(scenario)
        assert len(outcome.problems) == 1 and DISK_FULL in outcome.problems[0], outcome.problems
        outbox_drained(data)
        check_stored_once(env, outcome.typed)


def _databricks_env(base: Path, data: Path, warehouse: DatabricksSqlServer) -> dict[str, str]:
    """The served app's settings with the Databricks lakehouse on the stand-in warehouse."""
    return {
        **app_env(base, data),
        "FLOWTYPE_LAKEHOUSE": "databricks",
        "FLOWTYPE_DATABRICKS_SERVER_URL": warehouse.url,
        "DATABRICKS_HTTP_PATH": warehouse.http_path,
        "DATABRICKS_ACCESS_TOKEN": warehouse.token,
        "DATABRICKS_CATALOG": "main",
        "DATABRICKS_SCHEMA": "flowtype",
        "DATABRICKS_VOLUME": "staging",
    }


def _until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)  # poll interval only


def test_a_slow_then_down_lakehouse_never_holds_up_typing_and_the_outbox_drains(
    serve_streamlit: Callable[..., Any], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    name = _participant(data)
    with DatabricksSqlServer(tmp_path / "warehouse") as warehouse:
        env = _databricks_env(tmp_path, data, warehouse)
        server = serve_streamlit(ROOT / "app.py", env)

        async def scenario() -> Outcome:
            outcome = Outcome(name)
            async with chromium() as browser:
                typist = await open_typist(browser, name)
                await typist.log_in(server.url)
                await typist.consent(4)
                outcome.typed.append(await typist.type_sentence(0, 4, "steady"))

                # Slow: every statement waits in the warehouse's queue until released. Once the push
                # of one sentence is known to be stuck there, the next sentence must still get its
                # result: a submit that waited on the lakehouse would never return (no timing).
                queued = warehouse.queued()
                warehouse.hold()
                outcome.typed.append(await typist.type_sentence(1, 4, "uneven"))
                await asyncio.to_thread(
                    _until, lambda: warehouse.queued() > queued, "no push reached the held warehouse"
                )
                outcome.typed.append(await typist.type_sentence(2, 4, "steady"))

                # Down: the warehouse goes away; the last sentence and the session's end still land.
                warehouse.stop()
                outcome.typed.append(await typist.type_sentence(3, 4, "uneven"))
                await typist.see("Session summary")
                return await typist.collect(outcome)

        outcome = run_async(scenario)
        assert outcome.problems == []
        pending = list((data / "outbox" / "databricks").glob("*.json"))
        assert pending, "nothing was waiting for the lakehouse while it was down"
        warehouse.start()
        outbox_drained(data)
        check_stored_once(env, outcome.typed)
        (status,) = _sessions(data, name).get_column("status").to_list()
        assert status == "completed"


def test_an_app_killed_mid_session_restarts_and_the_participant_carries_on(
    serve_streamlit: Callable[..., Any], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    name = _participant(data)
    env = app_env(tmp_path, data)
    servers: list[StreamlitServer] = [serve_streamlit(ROOT / "app.py", env)]

    async def scenario() -> Outcome:
        outcome = Outcome(name)
        async with chromium() as browser:
            typist = await open_typist(browser, name)
            await typist.log_in(servers[0].url)
            await typist.consent(4)
            for index in range(2):
                outcome.typed.append(await typist.type_sentence(index, 4, "steady"))
            # Killed while the third sentence is being typed (its keys are never submitted).
            typing = asyncio.create_task(typist.submit(2, 4, "uneven"))
            await asyncio.sleep(1.0)  # some keys in
            servers[0].kill()
            await typing
            port = int(servers[0].url.rsplit(":", 1)[1])
            servers.append(await asyncio.to_thread(serve_streamlit, ROOT / "app.py", env, port))

            # A reload: logged in again (or still, by cookie), the session resumes at sentence 3.
            await typist.log_in(servers[1].url)
            for index in range(2, 4):
                outcome.typed.append(await typist.type_sentence(index, 4, "uneven"))
            await typist.see("Session summary")
            watched = await typist.collect(Outcome(name))
            outcome.problems = watched.problems
            return outcome

    outcome = run_async(scenario)
    assert outcome.problems == []
    outbox_drained(data)
    check_stored_once(env, outcome.typed)
    sessions = _sessions(data, name).sort("session_id")
    assert sessions.select("status", "sentence_count").rows() == [("completed", "4")]


def test_two_tabs_of_one_participant_type_at_once_without_mixing(
    serve_streamlit: Callable[..., Any], tmp_path: Path
) -> None:
    """A second tab takes the session over; the first tab, typing at the same moment, is told so
    and nothing it typed is stored: the session holds exactly the second tab's sentences."""
    data = tmp_path / "data"
    name = _participant(data)
    env = app_env(tmp_path, data)
    server = serve_streamlit(ROOT / "app.py", env)

    async def scenario() -> tuple[Outcome, Outcome]:
        async with chromium() as browser:
            first = await open_typist(browser, name)
            await first.log_in(server.url)
            await first.consent(3)
            await first.sentence()
            second = await first.another_tab()
            await second.log_in(server.url)  # the shared cookie logs it in; it continues the session
            tabs = (Outcome(name), Outcome(name))
            # The same sentence typed in both tabs at once; the first tab's has a corrected typo,
            # so its presses could not pass for the second tab's.
            await asyncio.gather(
                first.submit(0, 3, "steady", typo=True), second.type_sentences(3, "uneven", tabs[1])
            )
            await first.see(TAKEN_OVER)
            return await first.collect(tabs[0]), await second.collect(tabs[1])

    first, second = run_async(scenario)
    assert len(first.problems) == 1 and TAKEN_OVER in first.problems[0], first.problems
    assert second.problems == []
    outbox_drained(data)
    check_stored_once(env, second.typed)
    assert _sessions(data, name).select("status", "sentence_count").rows() == [("completed", "3")]
