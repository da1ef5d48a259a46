"""The Analytics page's tables, cut by hand: keys, slips, bins, standing (privacy), expected speed."""

from __future__ import annotations

import json

import polars as pl
import pytest

from flowtype_core.analytics import MIN_CELL, build_dashboard, histogram, standing
from flowtype_core.difficulty import expected_speed, speed_by_session
from flowtype_core.schema import KEYSTROKES


def typed(
    participant: str, section: str, letters: list[str], *, session: str = "s1", gap: int = 100
) -> list[dict]:
    text = "".join(letter for letter in letters if len(letter) == 1)
    return [
        {
            "participant_id": participant,
            "session_id": session,
            "test_section_id": section,
            "sentence": text,
            "user_input": text,
            "keystroke_id": i,
            "press_time": 1_000 + i * gap,
            "release_time": 1_050 + i * gap,
            "letter": letter,
            "keycode": 65,
            "created_at": None,
        }
        for i, letter in enumerate(letters)
    ]


def frame(*sections: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([row for section in sections for row in section], schema=KEYSTROKES.schema)


def test_keys_fold_case_and_backspace_is_never_an_error_prone_key() -> None:
    board = build_dashboard(frame(typed("p1", "t1", ["A", "s", "BKSP", "d", "a", "BKSP", "BKSP", "a"])))
    keys = {row["key"]: row for row in board.keys.iter_rows(named=True)}
    assert keys["a"]["presses"] == 3  # "A" and "a" are one key
    assert keys["a"]["error_rate"] == pytest.approx(1 / 3)  # one of three presses undone
    assert keys["s"]["error_rate"] == pytest.approx(1.0)
    assert keys["BKSP"]["error_rate"] is None


def test_slips_pair_the_key_meant_with_the_key_hit() -> None:
    # s, backspace, d: meant d, hit s. The last backspace has no replacement in its section.
    board = build_dashboard(
        frame(typed("p1", "t1", ["a", "s", "BKSP", "d", "f", "BKSP"]), typed("p1", "t2", ["g", "h"]))
    )
    assert board.confusion.rows(named=True) == [{"intended": "d", "pressed": "s", "count": 1}]


def test_histogram_counts_every_value_in_its_bin() -> None:
    bins = histogram(pl.Series([0.0, 9.9, 10.0, 25.0, 29.9, 30.0, None, -1.0]), start=0, stop=30, width=10)
    assert bins.get_column("bin_start").to_list() == [0, 10, 20]
    assert bins.get_column("count").to_list() == [2, 1, 2]  # 30, -1 and null are outside


def test_timing_histograms_are_bins_not_values() -> None:
    board = build_dashboard(frame(typed("p1", "t1", list("abcdef"), gap=130)))
    iki = board.iki_bins.filter(pl.col("count") > 0)
    assert iki.rows() == [(125, 150, 5)]
    assert board.iki_bins.height == 60  # 0-1500 ms in 25 ms bins, whatever the data size


def participants_frame(values: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame({"participant_id": list(values), "wpm": list(values.values())})


def test_a_participants_standing_among_two_holds_no_other_value() -> None:
    result = standing(participants_frame({"me": 41.234567, "other": 77.654321}), "wpm", "me", private=True)
    sent = json.dumps([result.bins.to_dicts(), result.bands, result.percentile], default=str)
    assert "77.65" not in sent and result.bands == {} and result.percentile is None
    assert result.bins.get_column("typists").drop_nulls().is_empty()  # every cell is under the floor
    assert result.mine == pytest.approx(41.234567)  # the typist's own value is theirs to see


def test_private_standing_suppresses_small_cells_and_coarsens_bands() -> None:
    values = {f"p{i}": 40 + i * 0.37 for i in range(12)} | {"fast": 120.0}
    private = standing(participants_frame(values), "wpm", "p0", private=True)
    open_view = standing(participants_frame(values), "wpm", "p0", private=False)
    counts = private.bins.get_column("typists").drop_nulls()
    assert counts.min() >= MIN_CELL and counts.sum() < open_view.bins.get_column("typists").sum()
    width = float(private.bins.get_column("bin_end")[0] - private.bins.get_column("bin_start")[0])
    assert all(band / width == round(band / width) for band in private.bands.values())
    assert open_view.bands["p50"] == pytest.approx(pl.Series(list(values.values())).quantile(0.5))


def sections_frame(rows: list[tuple[str, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"participant_id": p, "session_id": s, "sentence": sentence, "wpm": wpm, "started_at": i}
            for i, (p, s, sentence, wpm) in enumerate(rows)
        ]
    )


def test_expected_speed_takes_each_typists_level_out_of_sentence_ease() -> None:
    # A types at 50 WPM on average, B at 100; both are 20 % slower on "hard" than usual.
    population = sections_frame(
        [("A", "1", "hard", 40), ("A", "1", "easy", 60), ("B", "1", "hard", 80), ("B", "1", "easy", 120)]
    )
    rated = expected_speed(population, population)
    expected = dict(zip(rated.get_column("sentence"), rated.get_column("expected_wpm"), strict=False))
    assert expected["hard"] == pytest.approx(75 * 0.8) and expected["easy"] == pytest.approx(75 * 1.2)
    a = rated.filter(pl.col("participant_id") == "A").get_column("relative_speed").to_list()
    assert a == pytest.approx([40 / 60, 60 / 90])  # the same relative speed on both sentences


def test_relative_speed_over_sessions_is_not_fooled_by_a_harder_mix() -> None:
    population = sections_frame(
        [
            ("A", "1", "hard", 40),
            ("A", "1", "easy", 60),
            ("B", "1", "hard", 80),
            ("B", "1", "easy", 120),
            ("C", "1", "easy", 60),  # C's first session: easy sentences only
            ("C", "2", "hard", 40),  # second session: hard ones, same skill
            ("C", "1", "hard", 40),
        ]
    )
    mine = population.filter(pl.col("participant_id") == "C")
    by_session = speed_by_session(expected_speed(mine, population))
    assert by_session.get_column("session_number").to_list() == [1, 2]
    assert by_session.get_column("wpm").to_list() == [50, 40]  # raw WPM "drops"
    relative = by_session.get_column("relative_speed").to_list()
    assert relative[0] == pytest.approx(relative[1], rel=0.05)  # relative speed does not


def test_sentences_with_too_few_typists_get_no_expected_speed() -> None:
    population = sections_frame([("A", "1", "solo", 40), ("A", "1", "shared", 60), ("B", "1", "shared", 70)])
    rated = expected_speed(population, population, min_typists=2)
    assert rated.filter(pl.col("sentence") == "solo").get_column("expected_wpm").is_null().all()
    assert rated.filter(pl.col("sentence") == "shared").get_column("expected_wpm").is_not_null().all()
    lone = expected_speed(population.head(1), population.head(1), min_typists=2)
    assert lone.get_column("expected_wpm").is_null().all()
