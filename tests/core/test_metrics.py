"""SPEC §3.5 metrics on hand-computed sections, including the edge cases the definitions name."""

from __future__ import annotations

import math

import polars as pl
import pytest

from flowtype_core.metrics import (
    PUBLISHED_CHI2018,
    digraph_latencies,
    key_stats,
    keystroke_features,
    participant_metrics,
    population_summary,
    section_metrics,
    session_metrics,
)
from flowtype_core.schema import KEYSTROKES

# (participant, section, sentence, user_input, [(keystroke_id, letter, press, release), ...])
SECTIONS = [
    # Ids deliberately not in press order: a-b-x-d is the press order, ids sort as b, d, x, a.
    (
        "p1",
        "t1",
        "abcd",
        "abxd",
        [(3, "a", 1000, 1100), (0, "b", 1200, 1250), (2, "x", 1240, 1300), (1, "d", 1600, 1700)],
    ),
    # A key never released (j), then a backspace that corrects it.
    (
        "p1",
        "t2",
        "hi",
        "hi",
        [(0, "h", 0, 80), (1, "j", 150, None), (2, "BKSP", 300, 350), (3, "i", 500, 560)],
    ),
    ("p2", "t3", "a", "a", [(0, "a", 10, 20)]),  # one character: no WPM, no IKI, no rollover
    ("p2", "t4", "ab", "ab", [(0, "a", 5, 9), (1, "b", 5, 8)]),  # zero duration: no WPM
    ("p2", "t5", "ok", "", [(0, "o", 100, 150), (1, "BKSP", 300, 350)]),  # nothing submitted
]


def keystrokes(sections: list = SECTIONS) -> pl.DataFrame:
    rows = [
        {
            "participant_id": participant,
            "session_id": "s1",
            "test_section_id": section,
            "sentence": sentence,
            "user_input": user_input,
            "keystroke_id": kid,
            "press_time": press,
            "release_time": release,
            "letter": letter,
            "keycode": 65,
            "created_at": None,
        }
        for participant, section, sentence, user_input, keys in sections
        for kid, letter, press, release in keys
    ]
    return pl.DataFrame(rows, schema=KEYSTROKES.schema)


def by_section() -> dict[str, dict]:
    return {row["test_section_id"]: row for row in section_metrics(keystrokes()).iter_rows(named=True)}


def test_section_metrics_match_hand_computation_in_press_order() -> None:
    t1 = by_section()["t1"]
    assert t1["keystroke_count"] == 4
    assert t1["started_at"] == 1000 and t1["completed_at"] == 1600 and t1["duration_ms"] == 600
    assert t1["wpm"] == pytest.approx(3 / 0.6 * 60 / 5)  # 60
    assert t1["error_rate"] == pytest.approx(25.0)  # one substitution in four characters
    assert t1["kspc"] == pytest.approx(1.0)
    assert t1["iki_mean_ms"] == pytest.approx(200.0)  # 200, 40, 360
    assert t1["iki_median_ms"] == pytest.approx(200.0)
    assert t1["hold_mean_ms"] == pytest.approx(77.5)  # 100, 50, 60, 100
    assert t1["rollover"] == pytest.approx(1 / 3)  # only x is pressed before b is released
    assert t1["backspaces"] == 0
    assert t1["sentence"] == "abcd" and t1["user_input"] == "abxd"


def test_unreleased_key_is_left_out_of_hold_and_is_no_rollover() -> None:
    t2 = by_section()["t2"]
    assert t2["hold_mean_ms"] == pytest.approx((80 + 50 + 60) / 3)
    assert t2["rollover"] == pytest.approx(0.0)
    assert t2["iki_mean_ms"] == pytest.approx(500 / 3)
    assert t2["iki_median_ms"] == pytest.approx(150.0)
    assert t2["wpm"] == pytest.approx(1 / 0.5 * 60 / 5)
    assert t2["kspc"] == pytest.approx(2.0)
    assert t2["error_rate"] == pytest.approx(0.0)
    assert t2["backspaces"] == 1


def test_undefined_metrics_are_null() -> None:
    rows = by_section()
    one_char, zero_duration, empty_input = rows["t3"], rows["t4"], rows["t5"]
    assert one_char["wpm"] is None and one_char["iki_mean_ms"] is None and one_char["rollover"] is None
    assert one_char["hold_mean_ms"] == pytest.approx(10.0)
    assert zero_duration["wpm"] is None and zero_duration["duration_ms"] == 0
    assert zero_duration["iki_mean_ms"] == pytest.approx(0.0)
    assert zero_duration["rollover"] == pytest.approx(1.0)  # b pressed at 5, a released at 9
    assert empty_input["wpm"] is None and empty_input["kspc"] is None
    assert empty_input["error_rate"] == pytest.approx(100.0)


def test_edit_distance_counts_characters_not_bytes() -> None:
    ks = keystrokes([("p", "t", "café au lait", "cafe au lait", [(0, "c", 0, 10), (1, "e", 100, 110)])])
    assert section_metrics(ks)["error_rate"][0] == pytest.approx(100 / 12)


def test_row_order_and_extra_columns_do_not_change_results() -> None:
    ks = keystrokes().with_columns(pl.lit("x").alias("extra"))
    shuffled = ks.sample(fraction=1.0, shuffle=True, seed=3)
    expected = section_metrics(ks).sort("test_section_id")
    assert section_metrics(shuffled).sort("test_section_id").equals(expected)


def test_sections_from_keystroke_features_reuse_them() -> None:
    features = keystroke_features(keystrokes())
    expected = section_metrics(keystrokes()).sort("test_section_id")
    assert section_metrics(features).sort("test_section_id").equals(expected)
    # The features are taken as given, not recomputed: proof that the windows were skipped.
    doubled = features.with_columns(pl.col("iki_ms") * 2)
    t1 = section_metrics(doubled).filter(pl.col("test_section_id") == "t1").row(0, named=True)
    assert t1["iki_mean_ms"] == pytest.approx(400.0)


def test_native_frame_type_is_preserved() -> None:
    lazy = section_metrics(keystrokes().lazy())
    assert isinstance(lazy, pl.LazyFrame)
    assert (
        lazy.collect().sort("test_section_id").equals(section_metrics(keystrokes()).sort("test_section_id"))
    )


def test_empty_input_gives_empty_frames_and_an_empty_summary() -> None:
    sections = section_metrics(KEYSTROKES.empty())
    assert sections.height == 0 and {"wpm", "error_rate", "rollover"} <= set(sections.columns)
    participants = participant_metrics(sections)
    assert participants.height == 0
    summary = population_summary(participants)
    assert summary["participants"] == 0 and summary["wpm_mean"] is None


def test_participant_and_session_means_leave_undefined_sections_out() -> None:
    sections = section_metrics(keystrokes())
    participants = {r["participant_id"]: r for r in participant_metrics(sections).iter_rows(named=True)}
    p1, p2 = participants["p1"], participants["p2"]
    assert p1["n_sections"] == 2 and p1["keystrokes"] == 8 and p1["backspaces"] == 1
    assert p1["wpm"] == pytest.approx((60 + 24) / 2)
    assert p1["error_rate"] == pytest.approx(12.5)
    assert p2["wpm"] is None  # none of p2's sections has a WPM
    assert p2["kspc"] == pytest.approx(((1 / 1) + (2 / 2)) / 2)  # t5 has no KSPC
    sessions = session_metrics(sections).sort("participant_id")
    assert sessions.get_column("n_sections").to_list() == [2, 3]
    assert sessions.get_column("started_at").to_list() == [0, 5]
    assert sessions.get_column("completed_at").to_list() == [1600, 300]


def test_population_summary_uses_sample_sd_over_participants() -> None:
    participants = pl.DataFrame(
        {
            "participant_id": ["a", "b", "c"],
            "n_sections": [15, 15, 14],
            "keystrokes": [700, 800, 650],
            "wpm": [40.0, 50.0, 60.0],
            "error_rate": [0.0, 1.0, None],
            "iki_mean_ms": [200.0, 250.0, 300.0],
            "hold_mean_ms": [100.0, 110.0, 120.0],
            "rollover": [0.1, 0.2, 0.3],
            "kspc": [1.1, 1.2, 1.3],
        }
    )
    summary = population_summary(participants)
    assert summary["participants"] == 3 and summary["sections"] == 44 and summary["keystrokes"] == 2150
    assert summary["wpm_mean"] == pytest.approx(50.0)
    assert summary["wpm_sd"] == pytest.approx(10.0)  # ddof=1; the population SD would be 8.16
    assert summary["error_rate_pct_mean"] == pytest.approx(0.5)
    assert summary["error_rate_pct_sd"] == pytest.approx(math.sqrt(0.5))
    assert summary["rollover_sd"] == pytest.approx(0.1)
    single = population_summary(participants.head(1))
    assert single["wpm_mean"] == pytest.approx(40.0) and single["wpm_sd"] is None
    for key in ("wpm", "error_rate_pct", "iki_mean_ms", "hold_mean_ms", "rollover", "kspc"):
        assert f"{key}_mean" in summary and f"{key}_sd" in summary


def test_keystroke_features_follow_press_order() -> None:
    features = keystroke_features(keystrokes()).filter(pl.col("test_section_id") == "t1").sort("press_time")
    assert features.get_column("iki_ms").to_list() == [None, 200, 40, 360]
    assert features.get_column("hold_ms").to_list() == [100, 50, 60, 100]
    assert features.get_column("rollover").to_list() == [None, False, True, False]
    assert features.get_column("prev_letter").to_list() == [None, "a", "b", "x"]
    assert features.get_column("digraph").to_list() == [None, "ab", "bx", "xd"]


def test_digraph_latencies_pair_characters_only() -> None:
    digraphs = digraph_latencies(keystrokes()).filter(pl.col("participant_id") == "p1").sort("digraph")
    # t2's "j"->BKSP and BKSP->"i" are not character pairs.
    assert digraphs.get_column("digraph").to_list() == ["ab", "bx", "hj", "xd"]
    assert digraphs.get_column("latency_mean_ms").to_list() == [200.0, 40.0, 150.0, 360.0]
    assert digraphs.get_column("count").to_list() == [1, 1, 1, 1]
    assert digraphs.row(0, named=True)["first"] == "a" and digraphs.row(0, named=True)["second"] == "b"


def test_key_stats_count_corrected_presses() -> None:
    stats = {r["letter"]: r for r in key_stats(keystrokes()).iter_rows(named=True)}
    assert stats["j"]["backspace_rate"] == pytest.approx(1.0)
    assert stats["o"]["backspace_rate"] == pytest.approx(1.0)
    assert stats["a"]["presses"] == 3 and stats["a"]["backspace_rate"] == pytest.approx(0.0)
    assert stats["i"]["iki_mean_ms"] == pytest.approx(200.0)
    assert stats["a"]["hold_mean_ms"] == pytest.approx((100 + 10 + 4) / 3)
    assert stats["BKSP"]["presses"] == 2


def test_published_figures_carry_their_source() -> None:
    assert PUBLISHED_CHI2018["wpm_mean"] == 51.56 and PUBLISHED_CHI2018["wpm_sd"] == 20.20
    assert PUBLISHED_CHI2018["rollover_mean"] == 0.25
    assert "10.1145/3173574.3174220" in PUBLISHED_CHI2018["citation"]


def _monkeytype_consistency(ikis: list[float]) -> float:
    mean = sum(ikis) / len(ikis)
    c = math.sqrt(sum((i - mean) ** 2 for i in ikis) / len(ikis)) / mean
    return 100 * (1 - math.tanh(c + c**3 / 3 + c**5 / 5))


def test_consistency_is_monkeytypes_score_of_the_sections_ikis() -> None:
    rows = by_section()
    # t1's IKIs in press order are 200, 40, 360: mean 200, population SD 130.6, c = 0.653.
    assert rows["t1"]["consistency"] == pytest.approx(_monkeytype_consistency([200, 40, 360]))
    assert rows["t1"]["consistency"] == pytest.approx(35.31, abs=0.01)
    assert rows["t2"]["consistency"] == pytest.approx(_monkeytype_consistency([150, 150, 200]))
    assert rows["t3"]["consistency"] is None  # no IKI at all
    even = section_metrics(
        keystrokes([("p3", "t9", "abc", "abc", [(0, "a", 0, 5), (1, "b", 100, 105), (2, "c", 200, 205)])])
    )
    assert even.get_column("consistency")[0] == pytest.approx(100.0)  # perfectly even rhythm


def test_consistency_reaches_participants_and_the_summary() -> None:
    participants = participant_metrics(section_metrics(keystrokes()))
    p1 = participants.filter(pl.col("participant_id") == "p1").get_column("consistency")[0]
    expected = (_monkeytype_consistency([200, 40, 360]) + _monkeytype_consistency([150, 150, 200])) / 2
    assert p1 == pytest.approx(expected)
    summary = population_summary(participants)
    assert {"consistency_mean", "consistency_sd"} <= set(summary)
    assert summary["consistency_mean"] == pytest.approx(participants.get_column("consistency").mean())
