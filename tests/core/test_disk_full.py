"""A disk that fills up while a sentence is written: a clear error, nothing half-written, and the
same sentence stored once after space is freed (issue 20 item 2; the browser side is in
tests/load/test_faults.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from flowtype_core import open_workbench
from flowtype_core.errors import StorageFull
from tests.conftest import fill_disk, make_batch, small_disk


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_full_disk_refuses_the_sentence_whole_and_the_retype_lands_once(tmp_path, sentences):
    with small_disk(tmp_path / "disk", size_mb=8) as disk:
        wb = open_workbench(data_dir=disk / "data")
        try:
            handle = wb.recorder.start_session("dora", consented_at=datetime.now(UTC))
            wb.recorder.submit_section(
                handle, 0, sentences[0], make_batch(sentences[0].text, handle.token, 0)
            )
            assert wb.publisher.wait_idle(30)
            session_dir = wb.store.session_dir("dora", handle.session_id)
            before = _files(session_dir)
            outbox_before = _files(wb.outbox.root)

            filler = fill_disk(disk)
            batch = make_batch(sentences[1].text, handle.token, 1, seed=2)
            with pytest.raises(StorageFull, match="disk holding the data folder is full") as caught:
                wb.recorder.submit_section(handle, 1, sentences[1], batch)
            assert isinstance(caught.value, OSError)
            assert _files(session_dir) == before  # the old files whole, no temp file left
            assert _files(wb.outbox.root) == outbox_before  # nothing queued for a sentence not stored

            filler.unlink()
            result = wb.recorder.submit_section(handle, 1, sentences[1], batch)
            assert wb.publisher.wait_idle(30)
            sections = wb.store.read("sections.csv", "dora", handle.session_id)
            assert sections.get_column("test_section_id").to_list() == [
                f"{handle.session_id}_s000",
                result.test_section_id,
            ]
            lake = wb.lakehouse.read_table("keystrokes")
            assert lake.filter(lake["test_section_id"] == result.test_section_id).height == len(
                batch["events"]
            )
            assert not lake.select("participant_id", "test_section_id", "keystroke_id").is_duplicated().any()
        finally:
            wb.close()
