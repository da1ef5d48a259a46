"""The Aalto reader on the real sample, and on files with the dataset's known defects injected."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flowtype_core.corpus import text_sentence_id
from flowtype_core.datasets import read_aalto
from flowtype_core.datasets.aalto import AALTO_COLUMNS
from flowtype_core.errors import InvalidInput
from flowtype_core.metrics import participant_metrics, population_summary, section_metrics
from flowtype_core.schema import KEYSTROKES, SECTIONS, SESSIONS

SAMPLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "aalto_sample" / "keystrokes"


@pytest.fixture(scope="module")
def sample():
    return read_aalto(SAMPLE)


def test_sample_reads_completely_into_the_table_contracts(sample) -> None:
    assert sample.keystrokes.height == 112_704
    assert sample.sections.height == 2_340 and sample.sessions.height == 156
    assert len(sample.files) == 156 and sample.malformed == {}
    assert sample.keystrokes.schema == KEYSTROKES.schema
    assert sample.sections.schema == SECTIONS.schema
    assert sample.sessions.schema == SESSIONS.schema
    assert sample.keystrokes.select(KEYSTROKES.key).is_duplicated().sum() == 0
    assert set(sample.sessions.get_column("sentence_count")) == {15}
    # Quotes are data, not CSV quoting, and the non-UTF-8 bytes in three files do not stop a read.
    assert sample.keystrokes.filter(pl.col("letter") == '"').height == 2


def test_sample_population_matches_reference_figures(sample) -> None:
    summary = population_summary(participant_metrics(section_metrics(sample.keystrokes)))
    assert summary["participants"] == 156 and summary["keystrokes"] == 112_704
    # Plausibility ranges around the published study, then the sample's own reference figures.
    assert 45 <= summary["wpm_mean"] <= 58
    assert 220 <= summary["iki_mean_ms_mean"] <= 270
    assert 105 <= summary["hold_mean_ms_mean"] <= 130
    assert 0.7 <= summary["error_rate_pct_mean"] <= 1.6
    assert 1.12 <= summary["kspc_mean"] <= 1.22
    assert 0.15 <= summary["rollover_mean"] <= 0.30
    assert summary["wpm_mean"] == pytest.approx(50.2, abs=0.05)
    assert summary["error_rate_pct_mean"] == pytest.approx(1.08, abs=0.005)
    assert summary["iki_mean_ms_mean"] == pytest.approx(247.5, abs=0.05)
    assert summary["hold_mean_ms_mean"] == pytest.approx(117.3, abs=0.05)
    assert summary["kspc_mean"] == pytest.approx(1.168, abs=0.0005)
    assert summary["rollover_mean"] == pytest.approx(0.206, abs=0.0005)


def test_sections_and_sessions_rows_carry_metrics_and_times(sample) -> None:
    section = sample.sections.filter(pl.col("test_section_id") == "10800").row(0, named=True)
    assert section["participant_id"] == "aalto-1053" and section["session_id"] == "aalto"
    assert section["sentence_id"] == text_sentence_id(
        "The best-of-seven series moves to Indianapolis, Indiana.", "aalto"
    )
    assert section["started_at"].year == 2016 and section["started_at"] < section["completed_at"]
    assert section["wpm"] > 0 and section["mean_iki_ms"] > 0
    session = sample.sessions.filter(pl.col("participant_id") == "aalto-1053").row(0, named=True)
    assert session["status"] == "completed" and session["created_at"] < session["ended_at"]
    assert (
        session["total_keystrokes"]
        == sample.keystrokes.filter(pl.col("participant_id") == "aalto-1053").height
    )


HEADER = "\t".join(AALTO_COLUMNS)
QUOTED = 'He said "stop" twice.'


def row(*fields: object) -> str:
    return "\t".join(str(f) for f in fields)


def test_malformed_rows_are_dropped_and_counted_per_file(tmp_path: Path) -> None:
    good = [
        row(7, 70, QUOTED, QUOTED, 2, "1.473278e+12", 1473278000090, "e", 69),
        row(7, 70, QUOTED, QUOTED, 1, 1473277999800, 1473277999900, "H", 72),  # pressed first
        row(7, 70, QUOTED, QUOTED, 3, 1473278000150, "", '"', 222),  # never released
    ]
    bad = [
        row(7, 70, QUOTED, QUOTED, 4, 1473278000200),  # too few fields
        row(7, 70, QUOTED, QUOTED, 5, 1473278000300, 1473278000400, "x", 88, "extra"),  # too many
        row(7, 70, QUOTED, QUOTED, 6, "noon", 1473278000400, "x", 88),  # press time not a number
        row(7, 70, QUOTED, QUOTED, "", 1473278000500, 1473278000600, "x", 88),  # no keystroke id
        row(7, 70, QUOTED, QUOTED, 7, 1473278000.5, 1473278000600, "x", 88),  # fractional time
        row(7, 70, QUOTED, QUOTED, 2, 1473278000700, 1473278000800, "x", 88),  # repeats key 2
        row("../x", 70, QUOTED, QUOTED, 8, 1473278000900, 1473278001000, "x", 88),  # unsafe id
    ]
    (tmp_path / "7_keystrokes.txt").write_text("\r\n".join([HEADER, *good, *bad]) + "\r\n", encoding="utf-8")
    clean = [row(8, 80, "ok", "ok", 0, 1000, 1100, "o", 79), row(8, 80, "ok", "ok", 1, 1300, 1350, "k", 75)]
    (tmp_path / "8_keystrokes.txt").write_bytes(
        ("\n".join([HEADER, *clean]) + "\n").encode()
        + row(8, 80, "ok", "\xe9", 2, 1, 2, "x", 1).encode("latin-1")
    )
    (tmp_path / "9_keystrokes.txt").write_text(HEADER + "\n")  # no rows at all
    (tmp_path / "notes.txt").write_text("not a keystroke file")

    imported = read_aalto(tmp_path)

    assert imported.malformed == {"7_keystrokes.txt": len(bad)}
    reports = {f.file: f for f in imported.files}
    assert (reports["7_keystrokes.txt"].rows, reports["7_keystrokes.txt"].kept) == (len(good) + len(bad), 3)
    assert (reports["8_keystrokes.txt"].rows, reports["8_keystrokes.txt"].kept) == (3, 3)
    assert (reports["9_keystrokes.txt"].rows, reports["9_keystrokes.txt"].kept) == (0, 0)
    assert sorted(reports) == ["7_keystrokes.txt", "8_keystrokes.txt", "9_keystrokes.txt"]
    ks = imported.keystrokes.filter(pl.col("participant_id") == "aalto-7").sort("keystroke_id")
    assert ks.get_column("press_time").to_list() == [1473277999800, 1473278000000, 1473278000150]
    assert ks.get_column("release_time").to_list() == [1473277999900, 1473278000090, None]
    assert ks.get_column("sentence").to_list() == [QUOTED] * 3
    assert ks.get_column("letter").to_list() == ["H", "e", '"']
    # The lossily decoded byte is one replaced character, not a failed read.
    assert imported.keystrokes.get_column("user_input").to_list()[-1] == "\ufffd"
    section = imported.sections.filter(pl.col("participant_id") == "aalto-7").row(0, named=True)
    assert section["keystroke_count"] == 3
    # Press order is H, e, '"' (ids 1, 2, 3): 350 ms over 20 characters of input.
    assert section["wpm"] == pytest.approx((len(QUOTED) - 1) / 0.35 * 60 / 5)


def test_reports_progress_and_refuses_an_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no \\*_keystrokes.txt files"):
        read_aalto(tmp_path)
    (tmp_path / "1_keystrokes.txt").write_text(HEADER + "\n" + row(1, 10, "a", "a", 0, 5, 9, "a", 65) + "\n")
    seen: list[tuple[float, str]] = []
    read_aalto(tmp_path, progress=lambda fraction, message: seen.append((fraction, message)))
    assert seen[-1][0] == 1.0 and "1 keystrokes in 1 sections" in seen[-1][1]
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)
