"""Many small commits are compacted automatically after a number of pushes (SPEC §3.3)."""

from __future__ import annotations

from datetime import UTC, datetime

from deltalake import DeltaTable

from tests.conftest import make_batch


def test_publisher_compacts_after_every_n_pushes(wb, sentences):
    wb.publisher.maintain_every = 4
    handle = wb.recorder.start_session("m1", consented_at=datetime.now(UTC))
    for i in range(8):
        wb.recorder.submit_section(
            handle, i, sentences[i], make_batch(sentences[i].text, handle.token, i, seed=i)
        )
        wb.publisher.drain()  # one push (one commit per table) per sentence
    history = wb.history.read()
    maintained = history.filter(history["kind"] == "maintain")
    assert maintained.height >= 2 and set(maintained["status"]) == {"ok"}
    table = DeltaTable(str(wb.data_dir / "lakehouse" / "keystrokes"))
    assert len(table.file_uris()) <= 2  # eight sentence commits compacted
    assert wb.lakehouse.read_table("keystrokes").height == sum(
        wb.store.read("sections.csv", "m1", handle.session_id)["keystroke_count"]
    )
