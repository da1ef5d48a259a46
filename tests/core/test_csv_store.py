"""The CSV store reuses what it last parsed or wrote only while the file's bytes are the same."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import polars as pl

from flowtype_core.store.csv_store import FILES, _read_csv, _typed
from tests.conftest import make_batch


def parsed_fresh(path, name: str) -> pl.DataFrame:
    """What reading the file from scratch gives: the reference the reused frames must equal."""
    return pl.read_csv(path, infer_schema=False).select(_typed(FILES[name]))


def test_frames_kept_after_writing_equal_a_fresh_parse(wb, sentences):
    handle = wb.recorder.start_session("dana", consented_at=datetime.now(UTC))
    for i in range(3):
        wb.recorder.submit_section(
            handle, i, sentences[i], make_batch(sentences[i].text, handle.token, i, seed=i)
        )
    # One character typed: WPM and IKI are undefined, so the section row carries nulls.
    wb.recorder.submit_section(handle, 3, sentences[3], make_batch("x", handle.token, 3, seed=9))
    wb.recorder.end_session(handle)
    folder = wb.store.session_dir("dana", handle.session_id)
    for name in FILES:
        kept = _read_csv(folder / name, FILES[name])
        assert kept.height > 0
        assert kept.equals(parsed_fresh(folder / name, name)), name


def test_a_file_rewritten_by_another_process_is_read_again(wb, sentences):
    handle = wb.recorder.start_session("erin", consented_at=datetime.now(UTC))
    wb.recorder.submit_section(
        handle, 0, sentences[0], make_batch(sentences[0].text, handle.token, 0, seed=1)
    )
    path = wb.store.session_dir("erin", handle.session_id) / "keystrokes.csv"
    before = wb.store.read("keystrokes.csv", "erin", handle.session_id)
    # Another writer keeps the header and first press only: same name, different bytes.
    script = "import sys, pathlib; p = pathlib.Path(sys.argv[1]); p.write_text(''.join(p.read_text().splitlines(keepends=True)[:2]))"
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)
    after = wb.store.read("keystrokes.csv", "erin", handle.session_id)
    assert before.height > 1 and after.height == 1
    assert after.equals(before.head(1))
    # The next sentence merges into what is on disk now, not into the remembered frame.
    wb.recorder.submit_section(
        handle, 1, sentences[1], make_batch(sentences[1].text, handle.token, 1, seed=2)
    )
    merged = wb.store.read("keystrokes.csv", "erin", handle.session_id)
    assert merged.filter(pl.col("test_section_id") == before["test_section_id"][0]).height == 1


def test_an_unchanged_file_is_not_parsed_again(wb, sentences):
    handle = wb.recorder.start_session("fay", consented_at=datetime.now(UTC))
    wb.recorder.submit_section(
        handle, 0, sentences[0], make_batch(sentences[0].text, handle.token, 0, seed=5)
    )
    first = wb.store.read("sections.csv", "fay", handle.session_id)
    assert wb.store.read("sections.csv", "fay", handle.session_id) is first
    wb.recorder.submit_section(
        handle, 1, sentences[1], make_batch(sentences[1].text, handle.token, 1, seed=6)
    )
    second = wb.store.read("sections.csv", "fay", handle.session_id)
    assert second is not first and second.height == 2
