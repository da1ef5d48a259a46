"""Issue 19 item 4: the importer holds dataset rows to live capture's rules and says what it left out.

Hand-made hostile files: overflowing times, a negative hold, a carriage return as a letter, a
5 MB sentence, a NUL byte, latin-1 bytes, an absurd keycode, a broken link and a folder named
like a dataset file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowtype_core.cli import main as cli
from flowtype_core.datasets.aalto import AALTO_COLUMNS, read_aalto


def row(
    section: str, kid: int, press: str, release: str, letter: str = "a", code: str = "65", text: str = "ab c"
) -> bytes:
    return "\t".join(["7", section, text, text, str(kid), press, release, letter, code]).encode("utf-8")


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    return hostile_folder(tmp_path)


def hostile_folder(tmp_path: Path) -> Path:
    """A folder of hostile dataset files (one with good and bad rows, a broken link, a folder)."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    t = 1_473_278_000_000
    lines = [
        "\t".join(AALTO_COLUMNS).encode(),
        *(row("s1", i, str(t + 150 * i), str(t + 150 * i + 90)) for i in range(3)),  # clean
        row("s2", 0, "9.2e18", str(t)),  # overflowing press time
        row("s2", 1, str(t + 500), str(t + 400)),  # released before pressed: a negative hold
        row("s2", 2, str(t + 600), str(t + 700), letter="\r"),  # carriage return as the letter
        row("s3", 0, str(t), str(t + 90), text="x" * 5_000_000),  # a 5 MB sentence
        row("s4", 0, str(t), str(t + 90), code="5000"),  # no such keycode
        row("s5", 0, str(t), str(t + 90), text="ab\x00 c"),  # text after a NUL byte
        row("s6", 0, str(t), str(t + 90), text="caf@").replace(b"@", b"\xe9"),  # latin-1, not UTF-8
    ]
    (folder / "7_keystrokes.txt").write_bytes(b"\n".join(lines) + b"\n")
    (folder / "8_keystrokes.txt").symlink_to(folder / "gone.txt")  # a broken link
    (folder / "9_keystrokes.txt").mkdir()  # a folder named like a file
    return folder


def test_hostile_rows_are_dropped_by_rule_and_counted(hostile: Path) -> None:
    data = read_aalto(hostile)
    assert data.dropped == {
        "bad_letter": 1,
        "bad_text": 1,
        "keycode_out_of_range": 1,
        "nul_byte": 1,
        "release_before_press": 1,
        "time_out_of_range": 1,
    }
    (report,) = data.files
    assert (report.rows, report.kept, report.lossy) == (10, 4, 1)
    assert set(data.unreadable) == {"8_keystrokes.txt", "9_keystrokes.txt"}
    kept = data.keystrokes.sort("test_section_id", "keystroke_id")
    assert kept.get_column("test_section_id").to_list() == ["s1", "s1", "s1", "s6"]
    # The latin-1 byte is never silently dropped or guessed: it shows as U+FFFD and is counted.
    assert kept.filter(kept["test_section_id"] == "s6").get_column("sentence").to_list() == ["caf\ufffd"]
    assert kept.get_column("press_time").max() < 2**53


def test_the_import_report_says_what_was_dropped_and_why(
    hostile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["import-aalto", str(hostile), "--data-dir", str(tmp_path / "data"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["keystrokes"] == 4
    assert report["dropped_rows"]["time_out_of_range"] == 1
    assert report["dropped_by_file"] == {"7_keystrokes.txt": report["dropped_rows"]}
    assert report["lossy_by_file"] == {"7_keystrokes.txt": 1}
    assert set(report["unreadable_files"]) == {"8_keystrokes.txt", "9_keystrokes.txt"}
    assert "No such file" in report["unreadable_files"]["8_keystrokes.txt"]
