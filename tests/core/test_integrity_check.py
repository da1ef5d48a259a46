"""`python -m flowtype_core check`: finds what a killed writer, a full disk or a bad copy left, and
`--repair` removes the stray temp files (issue 20 item 4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flowtype_core.cli import main
from flowtype_core.corpus import load_corpus
from tests.conftest import ROOT, make_batch

DAY = 24 * 3600


@pytest.fixture
def recorded(wb):
    """Two sentences of one session, pushed to the local lakehouse; the workbench then closed."""
    handle = wb.recorder.start_session("p1", consented_at=datetime.now(UTC))
    for i, sentence in enumerate(load_corpus()[:2]):
        wb.recorder.submit_section(handle, i, sentence, make_batch(sentence.text, handle.token, i, seed=i))
    wb.publisher.drain()
    assert wb.publisher.wait_idle(30)
    return wb.store.session_dir("p1", handle.session_id)


def _check(data_dir: Path, *extra: str, capsys) -> tuple[int, dict]:
    code = main(["check", "--data-dir", str(data_dir), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def _kinds(report: dict) -> list[tuple[str, str]]:
    return sorted((p["kind"], p["path"]) for p in report["problems"])


def test_a_clean_data_dir_has_no_problems(data_dir, recorded, capsys):
    code, report = _check(data_dir, capsys=capsys)
    assert code == 0 and report["ok"] is True and report["problems"] == []
    tables = [p for p in (data_dir / "lakehouse").iterdir() if (p / "_delta_log").is_dir()]
    assert len(tables) >= 3
    assert report["checked"] == {"csv_files": 3, "delta_tables": len(tables), "outbox_entries": 0}


def test_a_truncated_csv_is_partial(data_dir, recorded, capsys):
    path = recorded / "keystrokes.csv"
    path.write_bytes(path.read_bytes()[:-7])
    code, report = _check(data_dir, capsys=capsys)
    relative = str(path.relative_to(data_dir))
    assert code == 1 and report["counts"] == {"partial_csv": 1}
    assert _kinds(report) == [("partial_csv", relative)]
    assert "cut off" in report["problems"][0]["detail"]


def test_unreadable_and_mistyped_csvs_are_reported(data_dir, recorded, capsys):
    (recorded / "session.csv").write_bytes(b"\xff\xfe\x00garbage\n")
    sections = recorded / "sections.csv"
    lines = sections.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("keystroke_count")] = "many"
    sections.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    code, report = _check(data_dir, capsys=capsys)
    assert code == 1
    assert _kinds(report) == [
        ("unreadable_csv", str(sections.relative_to(data_dir))),
        ("unreadable_csv", str((recorded / "session.csv").relative_to(data_dir))),
    ]


def test_a_section_without_its_presses_is_partial(data_dir, recorded, capsys):
    keystrokes = recorded / "keystrokes.csv"
    lines = keystrokes.read_text().splitlines()
    keystrokes.write_text("\n".join(line for line in lines if "_s001," not in line) + "\n")
    code, report = _check(data_dir, capsys=capsys)
    assert code == 1 and report["counts"] == {"partial_csv": 1}
    assert (
        "_s001 lists" in report["problems"][0]["detail"]
        and "0 are on disk" in report["problems"][0]["detail"]
    )


def _killed_mid_write(folder: Path) -> Path:
    """A real writer (`atomic_write_many`) SIGKILLed after its temp file exists, before the rename."""
    code = (
        f"import sys, os, time; sys.path.insert(0, {str(ROOT)!r})\n"
        "from pathlib import Path\n"
        "from flowtype_core.store import atomic\n"
        "os.fsync = lambda fd: (print('writing', flush=True), time.sleep(600))\n"
        f"atomic.atomic_write_many(Path({str(folder)!r}), [('keystrokes.csv', b'new content')])\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    (temp,) = folder.glob(".keystrokes.csv.*.tmp")
    return temp


def test_stray_temp_files_are_reported_and_removed_with_repair(data_dir, recorded, capsys):
    before = (recorded / "keystrokes.csv").read_bytes()
    temp = _killed_mid_write(recorded)
    fresh = _killed_mid_write(data_dir / "outbox" / "local")
    old = time.time() - 3600
    os.utime(temp, (old, old))
    code, report = _check(data_dir, capsys=capsys)
    assert code == 1 and _kinds(report) == [("stray_temp", str(temp.relative_to(data_dir)))]
    code, report = _check(data_dir, "--repair", capsys=capsys)
    assert code == 0 and report["repaired"] == [str(temp.relative_to(data_dir))]
    assert not temp.exists() and fresh.exists()  # a young temp may belong to a running writer
    assert (recorded / "keystrokes.csv").read_bytes() == before


def test_delta_tables_that_fail_to_load_are_reported(data_dir, recorded, capsys):
    lakehouse = data_dir / "lakehouse"
    next((lakehouse / "keystrokes").glob("*.parquet")).unlink()
    (log,) = sorted((lakehouse / "sessions" / "_delta_log").glob("*.json"))[:1]
    log.write_text("{not json")
    code, report = _check(data_dir, capsys=capsys)
    assert code == 1
    assert _kinds(report) == [
        ("delta_unloadable", "lakehouse/keystrokes"),
        ("delta_unloadable", "lakehouse/sessions"),
    ]
    assert "missing" in next(p for p in report["problems"] if p["path"] == "lakehouse/keystrokes")["detail"]


def test_outbox_entries_older_than_a_day_are_reported(wb, data_dir, recorded, capsys):
    entries = wb.outbox.put_many(
        "local", [("p1", recorded.name, "_session"), ("p1", recorded.name, f"{recorded.name}_s000")]
    )
    folder = data_dir / "outbox" / "local"
    stale = folder / entries[0].filename
    record = json.loads(stale.read_text())
    record.update(seq=int((time.time() - 2 * DAY) * 1e9), attempts=7, last_error="lakehouse down")
    stale.write_text(json.dumps(record))
    (folder / "broken.json").write_text("{")
    code, report = _check(data_dir, capsys=capsys)
    assert code == 1
    assert _kinds(report) == [
        ("outbox_entry_older_than_a_day", str(stale.relative_to(data_dir))),
        ("outbox_entry_unreadable", "outbox/local/broken.json"),
    ]
    detail = next(p["detail"] for p in report["problems"] if p["kind"] == "outbox_entry_older_than_a_day")
    assert detail == "waiting 48.0 h after 7 attempt(s); last error: lakehouse down"
    assert report["checked"]["outbox_entries"] == 3


def test_the_command_line_exits_1_and_prints_json(data_dir, recorded):
    (recorded / "sections.csv").write_bytes(b"participant_id,session_id\np1")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "flowtype_core", "check", "--data-dir", str(data_dir), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["counts"] == {"partial_csv": 1}
    text = subprocess.run(
        [sys.executable, "-m", "flowtype_core", "check", "--data-dir", str(data_dir / "nowhere")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert text.returncode == 2 and "no data directory at" in text.stderr
