"""Issue 16 item 7: deleting an account keeps its data (a typist without an account, id reserved)
or removes it from the CSV store and every lakehouse, through the outbox; a resync afterwards
brings nothing back and validation stays in sync."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import polars as pl
import pytest

from flowtype_core import Workbench, open_workbench
from flowtype_core.demo import generate_demo
from flowtype_core.erasure import delete_account, remove_typist_data
from flowtype_core.errors import InvalidInput
from flowtype_core.roster import roster
from flowtype_core.schema import PARTICIPANTS, TABLES
from flowtype_core.sync.report import IN_SYNC, PENDING
from flowtype_core.sync.service import Selection, SyncService
from tests.sync.conftest import assert_exactly_once, cli_env, with_demo
from tests.sync.test_cli import ROOT

PASSWORD = "correct horse battery"


@pytest.fixture
def wb(backend: Any) -> Any:
    """A researcher, accounts demo-01 and demo-02 with data, dataset typist demo-03, all published."""
    wb = open_workbench(**backend.settings())
    wb.accounts.create_user("lead", PASSWORD, role="researcher")
    for username in ("demo-01", "demo-02"):
        wb.accounts.create_user(username, PASSWORD, role="participant")
    with_demo(wb, participants=3, sessions=2, sentences=2)
    answers = pl.DataFrame({"participant_id": ["demo-01", "demo-02"], "answers": ['{"age": 30}', "{}"]})
    wb.store.upsert_participants(
        answers.with_columns(
            pl.lit(None, t).alias(c) for c, t in PARTICIPANTS.columns.items() if c not in answers.columns
        )
    )
    wb.publisher.enqueue_participants(["demo-01", "demo-02"])
    assert wb.publisher.wait_idle()
    yield wb
    wb.close()


def held(wb: Workbench, participant_id: str) -> dict[str, dict[str, int]]:
    """Rows per lakehouse and table under `participant_id`."""
    return {
        name: {t: lakehouse.read_table(t, participant_id=participant_id).height for t in TABLES}
        for name, lakehouse in wb.lakehouses.items()
    }


def assert_in_sync(wb: Workbench) -> None:
    report = SyncService.for_workbench(wb).validate(full=True)
    assert report.ok and report.counts()[IN_SYNC] == report.sections.height > 0, report.out_of_sync()
    assert_exactly_once(wb)


def test_removing_an_accounts_data_clears_the_store_and_every_lakehouse_for_good(wb: Workbench) -> None:
    before = held(wb, "demo-01")
    assert all(rows > 0 for tables in before.values() for rows in tables.values()), before
    kept = held(wb, "demo-02")

    done = delete_account(wb, "demo-01", by="lead", remove_data=True)
    assert done.account_deleted and done.data_removed and done.sessions_removed == 2
    assert wb.accounts.get("demo-01") is None
    assert not (wb.store.root / "demo-01").exists()
    assert wb.publisher.wait_idle()

    assert held(wb, "demo-01") == {name: dict.fromkeys(TABLES, 0) for name in wb.lakehouses}
    assert held(wb, "demo-02") == kept
    assert_in_sync(wb)
    # A resync of everything replays the CSV store: nothing of demo-01 comes back.
    result = SyncService.for_workbench(wb).resync(Selection(everything=True))
    assert result.ok, result.to_dict()
    assert held(wb, "demo-01") == {name: dict.fromkeys(TABLES, 0) for name in wb.lakehouses}
    assert_in_sync(wb)
    assert "demo-01" not in roster(wb.store, wb.accounts).typists.get_column("participant_id").to_list()
    # No data is left under the id, so nobody inherits anything by registering it.
    assert wb.accounts.create_user("demo-01", PASSWORD, role="participant").username == "demo-01"


def test_keeping_the_data_leaves_a_typist_without_an_account_whose_id_stays_reserved(wb: Workbench) -> None:
    kept = held(wb, "demo-02")
    done = delete_account(wb, "demo-02", by="lead", remove_data=False)
    assert done.account_deleted and not done.data_removed and done.lakehouses == ()
    assert wb.publisher.wait_idle()
    assert held(wb, "demo-02") == kept
    people = roster(wb.store, wb.accounts)
    assert people.accounts.get_column("participant_id").to_list() == ["demo-01", "lead"]
    typists = people.typists.filter(pl.col("participant_id") == "demo-02").row(0, named=True)
    assert typists["sessions"] == 2 and typists["sentences"] == 4 and typists["last_session"] is not None
    with pytest.raises(InvalidInput, match="already owns data in the session store"):
        wb.accounts.create_user("demo-02", PASSWORD, role="participant")
    assert_in_sync(wb)
    # Later, its data can still be removed as a dataset typist's.
    assert remove_typist_data(wb, "demo-02").sessions_removed == 2
    assert wb.publisher.wait_idle()
    assert held(wb, "demo-02") == {name: dict.fromkeys(TABLES, 0) for name in wb.lakehouses}
    assert_in_sync(wb)


def test_what_cannot_be_deleted_is_refused_with_a_reason(wb: Workbench) -> None:
    with pytest.raises(InvalidInput, match="your own account"):
        delete_account(wb, "lead", by="lead", remove_data=True)
    with pytest.raises(InvalidInput, match="last active researcher"):
        delete_account(wb, "lead", by="", remove_data=True)
    with pytest.raises(InvalidInput, match="is an account"):
        remove_typist_data(wb, "demo-01")
    with pytest.raises(InvalidInput, match="no data is recorded"):
        remove_typist_data(wb, "nobody-7")
    with pytest.raises(InvalidInput, match="not a valid id"):
        remove_typist_data(wb, "../demo-03")
    assert wb.store.root.joinpath("demo-01").is_dir() and wb.accounts.get("lead") is not None


def test_an_erasure_waits_out_an_outage_and_keeps_the_id_reserved_until_it_lands(
    backend: Any, wb: Workbench
) -> None:
    backend.stop()
    remove_typist_data(wb, "demo-03")
    assert not (wb.store.root / "demo-03").exists()
    assert not wb.publisher.drain(force=True).ok  # the lakehouse is down: the erasure stays queued
    with pytest.raises(InvalidInput, match="erasure is still queued"):
        wb.accounts.create_user("demo-03", PASSWORD, role="participant")
    backend.start()
    statuses = (
        SyncService.for_workbench(wb)
        .validate(full=True)
        .sections.filter(pl.col("participant_id") == "demo-03")
    )
    assert statuses.height > 0 and set(statuses.get_column("status")) == {PENDING}
    assert wb.publisher.wait_idle()
    assert held(wb, "demo-03") == {name: dict.fromkeys(TABLES, 0) for name in wb.lakehouses}
    assert_in_sync(wb)


def test_data_recorded_under_the_id_before_the_erasure_lands_is_kept(backend: Any, wb: Workbench) -> None:
    backend.stop()
    remove_typist_data(wb, "demo-03")
    # New sessions for demo-01..03 while the erasure waits (the recorder needs no account).
    generate_demo(wb.recorder, participants=3, sessions_per_participant=1, sentences_per_session=2, seed=11)
    backend.start()
    assert wb.publisher.wait_idle()
    csv = wb.store.read_all("keystrokes.csv", "demo-03")
    assert csv.height > 0
    for lakehouse in wb.lakehouses.values():
        lake = lakehouse.read_table("keystrokes", participant_id="demo-03")
        assert sorted(lake.get_column("test_section_id").unique()) == sorted(
            csv.get_column("test_section_id").unique()
        )
        assert lake.height == csv.height
        assert lakehouse.read_table("sessions", participant_id="demo-03").height == 1
    assert_in_sync(wb)


def cli(backend: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowtype_core", *args, "--data-dir", str(backend.data_dir)],
        cwd=ROOT,
        env=cli_env(backend),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_participant_delete_and_list_from_the_command_line(backend: Any, wb: Workbench) -> None:
    refused = cli(backend, "participant", "delete", "demo-03", "--json")
    assert refused.returncode == 2 and "pass --data" in refused.stderr
    deleted = cli(backend, "participant", "delete", "demo-03", "--data", "--json")
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(deleted.stdout) == {
        "participant_id": "demo-03",
        "account_deleted": False,
        "data_removed": True,
        "sessions_removed": 2,
        "lakehouses": [backend.kind],
        "pending_in_outbox": 0,
    }
    kept = json.loads(cli(backend, "participant", "delete", "demo-02", "--json").stdout)
    assert kept["account_deleted"] and not kept["data_removed"]
    listed = json.loads(cli(backend, "participant", "list", "--json").stdout)
    assert [a["participant_id"] for a in listed["accounts"]] == ["demo-01", "lead"]
    assert [t["participant_id"] for t in listed["typists"]] == ["demo-02"]
    validate = json.loads(cli(backend, "sync", "validate", "--full", "--json").stdout)
    assert validate["counts"][IN_SYNC] == len(validate["sections"]) > 0
    assert not any(s["participant_id"] == "demo-03" for s in validate["sections"])
    assert held(wb, "demo-03") == {name: dict.fromkeys(TABLES, 0) for name in wb.lakehouses}
