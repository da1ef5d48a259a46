"""Exports in the field's formats, checked against each format's own rules and by round trip."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from flowtype_core import Workbench, open_workbench
from flowtype_core.cli import main as cli
from flowtype_core.errors import InvalidInput
from flowtype_core.export import export, export_archive
from tests.conftest import AALTO_DIR

LABEL = re.compile(r"[A-Za-z0-9]+")
NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    wb = open_workbench(data_dir=tmp_path_factory.mktemp("source"))
    wb.import_aalto(AALTO_DIR)
    yield wb
    wb.close()


def _metrics(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert cli(["metrics", "--json", "--data-dir", str(data_dir)]) == 0
    return json.loads(capsys.readouterr().out)


def _equal_metrics(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, float) and isinstance(b[key], float):
            assert b[key] == pytest.approx(value, rel=0, abs=1e-9), key
        elif isinstance(value, dict):
            _equal_metrics(value, b[key])
        else:
            assert b[key] == value, key


def test_aalto_round_trip_gives_the_same_metrics(
    imported: Workbench, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "aalto"
    report = export(imported.lakehouse, "aalto", out)
    assert report["files"] == 156 and report["skipped_sections"] == 0
    lines = (out / "109_keystrokes.txt").read_text("utf-8").splitlines()
    assert lines[0] == (AALTO_DIR / "109_keystrokes.txt").read_text("utf-8").splitlines()[0]
    assert lines[1].split("\t")[0] == "109"  # the dataset's own id, so a re-import gives aalto-109
    again = tmp_path / "again"
    capsys.readouterr()
    assert cli(["import-aalto", str(out), "--data-dir", str(again), "--json"]) == 0
    before, after = _metrics(imported.data_dir, capsys), _metrics(again, capsys)
    assert after["participants"] == before["participants"] == 156
    _equal_metrics(before, after)
    original = imported.lakehouse.read_table("keystrokes").height
    assert original == 112_704
    wb2 = open_workbench(data_dir=again)
    try:
        assert wb2.lakehouse.read_table("keystrokes").height == original
    finally:
        wb2.close()


def _check_bids_tsv(path: Path, sidecar: dict) -> int:
    """The BIDS rules for tabular files and task events, as the specification states them."""
    text = path.read_bytes().decode("utf-8")  # UTF-8 is required
    rows = list(csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["onset", "duration"]  # onset first, duration second
    assert len(set(header)) == len(header)
    for column in header:
        assert column in sidecar, f"column {column} has no description in the sidecar"
    for row in body:
        assert len(row) == len(header)
        assert all(cell != "" for cell in row), "empty cells are not allowed; use n/a"
        assert NUMBER.fullmatch(row[0]), row[0]  # onset: a number of seconds
        assert row[1] == "n/a" or (NUMBER.fullmatch(row[1]) and float(row[1]) >= 0), row[1]
    return len(body)


def test_bids_export_follows_the_events_tsv_rules(imported: Workbench, tmp_path: Path) -> None:
    out = tmp_path / "bids"
    report = export(imported.lakehouse, "bids", out)
    description = json.loads((out / "dataset_description.json").read_text())
    assert {"Name", "BIDSVersion"} <= description.keys()
    sidecar = json.loads((out / "task-typing_events.json").read_text())
    assert sidecar["onset"]["Units"] == "s" and sidecar["duration"]["Units"] == "s"
    subjects = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(subjects) == 156
    events = 0
    for subject in subjects:
        label = subject.name.removeprefix("sub-")
        assert subject.name.startswith("sub-") and LABEL.fullmatch(label)
        files = list((subject / "beh").iterdir())
        assert [f.name for f in files] == [f"sub-{label}_task-typing_events.tsv"]
        events += _check_bids_tsv(files[0], sidecar)
    assert events == report["events"] == 112_704
    participants = list(csv.reader((out / "participants.tsv").read_text().splitlines(), delimiter="\t"))
    assert participants[0][0] == "participant_id"
    assert {row[0] for row in participants[1:]} == {s.name for s in subjects}


def test_bids_onsets_and_durations_are_seconds_of_the_stored_times(
    imported: Workbench, tmp_path: Path
) -> None:
    export(imported.lakehouse, "bids", tmp_path / "bids")
    rows = imported.lakehouse.read_table("keystrokes").filter(pl.col("participant_id") == "aalto-109")
    first = rows["press_time"].min()
    events = pl.read_csv(
        tmp_path / "bids" / "sub-aalto109" / "beh" / "sub-aalto109_task-typing_events.tsv",
        separator="\t",
        quote_char=None,
        null_values="n/a",
        schema_overrides={"key": pl.String, "test_section_id": pl.String, "session_id": pl.String},
    )
    joined = events.join(rows, on=["test_section_id", "keystroke_id"], how="inner", suffix="_stored")
    assert joined.height == rows.height
    assert (joined["onset"] * 1000).round(0).cast(pl.Int64).to_list() == (
        joined["press_time"] - first
    ).to_list()
    held = joined.filter(pl.col("release_time").is_not_null())
    assert (held["duration"] * 1000).round(0).cast(pl.Int64).to_list() == (
        held["release_time"] - held["press_time"]
    ).to_list()


def test_kvc_export_holds_press_release_keycode_per_sentence(imported: Workbench, tmp_path: Path) -> None:
    report = export(imported.lakehouse, "kvc", tmp_path / "kvc")
    assert report["files"] == 156 and report["keystrokes"] == 112_704
    payload = json.loads((tmp_path / "kvc" / "aalto-109.json").read_text())
    stored = imported.lakehouse.read_table("keystrokes").filter(pl.col("participant_id") == "aalto-109")
    assert set(payload["sessions"]) == set(stored["test_section_id"].unique().to_list())
    section, sequence = next(iter(payload["sessions"].items()))
    expected = stored.filter(pl.col("test_section_id") == section).sort("press_time", "keystroke_id")
    assert sequence == [list(r) for r in expected.select("press_time", "release_time", "keycode").iter_rows()]


def test_parquet_export_holds_the_four_tables(imported: Workbench, tmp_path: Path) -> None:
    report = export(imported.lakehouse, "parquet", tmp_path / "pq")
    for table in ("keystrokes", "sections", "sessions", "participants"):
        frame = pl.read_parquet(tmp_path / "pq" / f"{table}.parquet")
        assert frame.height == report[table]
        assert frame.columns == imported.lakehouse.read_table(table).columns
    assert report["keystrokes"] == 112_704


def test_export_refuses_a_used_folder_and_an_unknown_format(imported: Workbench, tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="already exists and is not an empty folder"):
        export(imported.lakehouse, "aalto", used)
    assert [p.name for p in used.iterdir()] == ["keep.txt"]
    with pytest.raises(InvalidInput, match="unknown export format"):
        export(imported.lakehouse, "xlsx", tmp_path / "x")
    with pytest.raises(InvalidInput, match="nothing to export"):
        export(imported.lakehouse, "aalto", tmp_path / "y", study="no-such-study")
    assert not (tmp_path / "y").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_a_tab_in_stored_text_is_left_out_and_counted_never_altered(tmp_path: Path) -> None:
    """Capture and import refuse control characters; rows stored before that rule still export safely."""
    from flowtype_core.export import aalto
    from flowtype_core.export.selection import ExportTables
    from flowtype_core.schema import KEYSTROKES, PARTICIPANTS, SECTIONS, SESSIONS

    base = {
        "participant_id": "p1",
        "session_id": "s",
        "keystroke_id": 0,
        "press_time": 1,
        "release_time": 2,
        "letter": "a",
        "keycode": 65,
        "created_at": datetime.now(UTC),
    }
    rows = [
        {**base, "test_section_id": "ok", "sentence": "the cat sat", "user_input": "the cat sat"},
        {**base, "test_section_id": "tab", "sentence": "a\tb", "user_input": "a\tb"},
    ]
    keystrokes = KEYSTROKES.conform(pl.DataFrame(rows))
    tables = ExportTables(keystrokes, SECTIONS.empty(), SESSIONS.empty(), PARTICIPANTS.empty())
    report = aalto.write(tables, tmp_path)
    assert report["skipped_sections"] == 1 and report["keystrokes"] == 1
    text = (tmp_path / "p1_keystrokes.txt").read_text()
    assert "a\tb" not in text and "the cat sat" in text


def test_the_download_archive_holds_the_same_files(imported: Workbench, tmp_path: Path) -> None:
    import io
    import zipfile

    payload, report = export_archive(imported.lakehouse, "kvc")
    names = zipfile.ZipFile(io.BytesIO(payload)).namelist()
    assert len(names) == report["files"] == 156
    assert "flowtype-kvc/aalto-109.json" in names
