"""Issue 19 item 1: no two sources can share a section; an import never touches an account's data.

The colliding import of the issue: an Aalto-format file whose PARTICIPANT_ID is an existing
account and whose TEST_SECTION_ID is one of that account's live section ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from flowtype_core import open_workbench
from flowtype_core.datasets.aalto import AALTO_COLUMNS
from flowtype_core.errors import InvalidInput
from flowtype_core.sync.report import IN_SYNC
from flowtype_core.sync.service import Selection, SyncService
from tests.sync.conftest import with_demo


def aalto_file(folder: Path, participant: str, section: str, presses: int = 2) -> Path:
    """A tiny dataset file in the Aalto layout."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(AALTO_COLUMNS)]
    for i in range(presses):
        press = 1_473_278_000_000 + 200 * i
        lines.append(
            "\t".join([participant, section, "ab", "ab", str(i), str(press), str(press + 90), "a", "65"])
        )
    path = folder / f"{participant}_keystrokes.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def live_section(wb: Any) -> tuple[str, str, int]:
    """(participant, section id, presses) of one live section of the account `demo-01`."""
    wb.accounts.create_user("demo-01", "correct horse battery", role="researcher")
    with_demo(wb, participants=1, sessions=1, sentences=2)
    row = wb.store.read_all("sections.csv").row(0, named=True)
    assert row["participant_id"] == "demo-01"
    return row["participant_id"], row["test_section_id"], row["keystroke_count"]


def test_the_colliding_import_leaves_the_live_section_alone_and_resync_converges(
    backend: Any, tmp_path: Path
) -> None:
    wb = open_workbench(**backend.settings())
    try:
        participant, section, presses = live_section(wb)
        report = wb.import_aalto(aalto_file(tmp_path / "dataset", participant, section).parent)
        assert report["participants"] == 1 and report["keystrokes"] == 2

        for lakehouse in wb.lakehouses.values():
            live = lakehouse.read_table("keystrokes", participant_id=participant).filter(
                pl.col("test_section_id") == section
            )
            assert live.height == presses, "the import must not replace the live section"
        imported = wb.store.read_all("keystrokes.csv").filter(pl.col("test_section_id") == section)
        assert imported.height == presses + 2
        assert imported.get_column("participant_id").n_unique() == 2, "the dataset typist has its own id"

        sync = SyncService.for_workbench(wb)
        result = sync.resync(Selection(everything=True))
        assert result.ok, result.to_dict()
        report = sync.validate(full=True)
        assert report.counts()[IN_SYNC] == report.sections.height > 0, report.out_of_sync()
        for lakehouse in wb.lakehouses.values():
            keys = lakehouse.read_table("keystrokes").group_by(
                "participant_id", "test_section_id", "keystroke_id"
            )
            assert keys.len().get_column("len").max() == 1, "no key is held twice"
    finally:
        wb.close()


def test_an_import_into_an_accounts_id_space_is_refused_and_writes_nothing(
    backend: Any, tmp_path: Path
) -> None:
    wb = open_workbench(**backend.settings())
    try:
        wb.accounts.create_user("lead", "correct horse battery", role="researcher")
        wb.accounts.create_user("aalto-8", "correct horse battery", role="participant")
        dataset = aalto_file(tmp_path / "dataset", "8", "s1").parent
        with pytest.raises(InvalidInput, match="aalto-8.*account"):
            wb.import_aalto(dataset)
        assert list(wb.store.sessions()) == []
        assert wb.outbox.entries() == []
        for lakehouse in wb.lakehouses.values():
            assert lakehouse.read_table("keystrokes").is_empty()
    finally:
        wb.close()


def test_the_store_refuses_a_section_id_another_session_of_the_participant_holds(wb: Any) -> None:
    with_demo(wb, participants=1, sessions=2, sentences=1)
    sections = wb.store.read_all("sections.csv").sort("session_id")
    first, second = sections.row(0, named=True), sections.row(1, named=True)
    keystrokes = wb.store.read("keystrokes.csv", first["participant_id"], first["session_id"])
    moved = sections.head(1).with_columns(pl.lit(second["session_id"]).alias("session_id"))
    with pytest.raises(InvalidInput, match="already"):
        wb.store.replace_sections(
            moved, keystrokes.with_columns(pl.lit(second["session_id"]).alias("session_id"))
        )
    assert wb.store.read("sections.csv", first["participant_id"], second["session_id"]).height == 1
