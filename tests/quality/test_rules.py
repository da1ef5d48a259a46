"""Each validity rule: a hand-made section that trips it, and a human-like one that does not."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import polars as pl
import pytest

from flowtype_core.demo import generate_demo
from flowtype_core.errors import InvalidInput
from flowtype_core.metrics import section_metrics
from flowtype_core.quality import INVALIDATING, RULE_NAMES, flag_sections
from flowtype_core.quality import rules as r
from flowtype_core.recorder import sections_from_keystrokes
from flowtype_core.schema import KEYSTROKES
from tests.conftest import make_batch

SENTENCE = "The quick brown fox jumps over the lazy dog. Then It rests."
START = 1_700_000_000_000


def human_ikis(n: int, seed: int) -> list[float]:
    """Lognormal intervals around 200 ms (the shape keystroke studies report), kept in bounds."""
    rng = random.Random(seed)
    return [min(1500.0, max(60.0, 200 * rng.lognormvariate(0, 0.45))) for _ in range(n)]


def typed(
    text: str = SENTENCE,
    *,
    seed: int = 1,
    ikis: list[float] | None = None,
    holds: dict[int, float | None] | None = None,
    shift: str | None = "SHIFT",
    sentence: str = SENTENCE,
    section: tuple[str, str, str] = ("p", "s", "s_s000"),
) -> pl.DataFrame:
    """Keystrokes typing `text`: `shift` pressed before each capital (none when None).

    `ikis` (default human-like; extra ones unused) are the press-to-press intervals; `holds` sets the hold of
    press i (None: never released). `section` is (participant_id, session_id, test_section_id).
    """
    letters = [k for ch in text for k in ([shift, ch] if shift and ch.isupper() else [ch])]
    gaps = (ikis if ikis is not None else human_ikis(len(letters) - 1, seed))[: len(letters) - 1]
    assert len(gaps) == len(letters) - 1
    presses = [float(START)]
    for gap in gaps:
        presses.append(presses[-1] + gap)
    rng = random.Random(seed + 1)
    releases: list[float | None] = [p + rng.uniform(70, 130) for p in presses]
    for i, hold in (holds or {}).items():
        releases[i] = None if hold is None else presses[i] + hold
    n = len(letters)
    return pl.DataFrame(
        {
            "participant_id": [section[0]] * n,
            "session_id": [section[1]] * n,
            "test_section_id": [section[2]] * n,
            "sentence": [sentence] * n,
            "user_input": [text] * n,
            "keystroke_id": list(range(n)),
            "press_time": [round(p) for p in presses],
            "release_time": [None if x is None else round(x) for x in releases],
            "letter": letters,
            "keycode": [0] * n,
            "created_at": [datetime.fromtimestamp(START / 1000, UTC)] * n,
        },
        schema=KEYSTROKES.schema,
    )


def judge(keystrokes: pl.DataFrame, **columns: object) -> dict:
    sections = section_metrics(keystrokes).with_columns(pl.lit(v).alias(k) for k, v in columns.items())
    rows = flag_sections(sections, keystrokes).rows(named=True)
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("seed", range(20))
def test_human_like_sections_are_clean_and_valid(seed: int) -> None:
    row = judge(typed(seed=seed), hidden_ms=0, blur_count=0)
    assert (row["quality_flags"], row["valid"]) == ("", True)


def test_impossible_speed() -> None:
    # Over 350 WPM (intervals of ~30 ms), yet not metronomic: only the speed gives it away.
    fast = [v / 8 for v in human_ikis(61, 3)]
    row = judge(typed(ikis=fast))
    assert row["wpm"] > r.MAX_WPM
    assert row["quality_flags"] == "impossible_speed,interval_out_of_bounds" and not row["valid"]
    quick = [v / 2 for v in human_ikis(61, 3)]  # fast (~100 WPM) but human
    assert judge(typed(ikis=quick))["quality_flags"] == ""


@pytest.mark.parametrize("hold", [0, -5])
def test_bad_hold(hold: float) -> None:
    row = judge(typed(holds={7: hold}))
    assert (row["quality_flags"], row["valid"]) == ("bad_hold", False)
    assert judge(typed(holds={7: r.MIN_HOLD_MS}))["quality_flags"] == ""


def test_interval_out_of_bounds_needs_a_share_of_intervals() -> None:
    ikis = human_ikis(61, 4)
    some = [20.0 if i % 8 == 0 else v for i, v in enumerate(ikis)]  # 1 in 8: rollover bursts
    many = [20.0 if i % 4 == 0 else v for i, v in enumerate(ikis)]  # 1 in 4
    assert judge(typed(ikis=some))["quality_flags"] == ""
    row = judge(typed(ikis=many))
    assert (row["quality_flags"], row["valid"]) == ("interval_out_of_bounds", True)


def test_long_idle() -> None:
    ikis = human_ikis(61, 5)
    ikis[30] = r.LONG_IDLE_MS
    row = judge(typed(ikis=ikis))
    assert (row["quality_flags"], row["valid"]) == ("long_idle", True)
    ikis[30] = r.LONG_IDLE_MS - 1
    assert judge(typed(ikis=ikis))["quality_flags"] == ""


@pytest.mark.parametrize(("column", "rule"), [("hidden_ms", "tab_hidden"), ("blur_count", "focus_lost")])
def test_tab_hidden_and_focus_lost_from_the_capture(column: str, rule: str) -> None:
    row = judge(typed(), **{column: 1})
    assert (row["quality_flags"], row["valid"]) == (rule, True)
    assert judge(typed(), **{column: 0})["quality_flags"] == ""
    assert column in row  # the provenance columns are the caller's, kept


def test_provenance_flags_recorded_earlier_are_kept_and_the_rest_recomputed() -> None:
    row = judge(typed(), quality_flags="long_idle,focus_lost", valid=False)
    assert (row["quality_flags"], row["valid"]) == ("focus_lost", True)
    assert judge(typed(), quality_flags="")["quality_flags"] == ""


def test_incomplete_input() -> None:
    half = SENTENCE[: len(SENTENCE) // 2]
    short = judge(typed(half[:-1]))
    assert (short["quality_flags"], short["valid"]) == ("incomplete_input", False)
    assert judge(typed("abc"))["quality_flags"] == "incomplete_input"
    # Half the sentence or more counts as an attempt at it (the metrics then show its errors).
    assert judge(typed(SENTENCE[: -(len(SENTENCE) // 2)]))["quality_flags"] == ""


def test_uppercase_without_shift() -> None:
    row = judge(typed(shift=None))
    assert (row["quality_flags"], row["valid"]) == ("uppercase_without_shift", True)
    assert judge(typed(shift="CAPS_LOCK"))["quality_flags"] == ""


def test_key_never_released() -> None:
    row = judge(typed(holds={12: None}))
    assert (row["quality_flags"], row["valid"]) == ("key_never_released", True)


def test_too_regular() -> None:
    rng = random.Random(9)
    metronome = [150 + rng.uniform(-5, 5) for _ in range(61)]  # a script with a fixed delay
    row = judge(typed(ikis=metronome))
    assert (row["quality_flags"], row["valid"]) == ("too_regular", False)
    # The steadiest Aalto typist (CV 0.19) is far from it; so is a very even human section.
    even = [200 * rng.lognormvariate(0, 0.2) for _ in range(61)]
    assert judge(typed(ikis=even))["quality_flags"] == ""
    # Too few intervals to judge a rhythm by.
    assert judge(typed("The quick", sentence="The quick", ikis=[150.0] * 9))["quality_flags"] == ""


def test_flags_follow_the_declared_order_and_valid_follows_the_invalidating_rules() -> None:
    ikis = human_ikis(61, 6)
    ikis[20] = 8_000
    row = judge(typed(ikis=ikis, holds={3: None, 9: 0}, shift=None), hidden_ms=40, blur_count=2)
    expected = [
        "bad_hold",
        "long_idle",
        "tab_hidden",
        "focus_lost",
        "uppercase_without_shift",
        "key_never_released",
    ]
    assert row["quality_flags"] == ",".join(expected)
    assert [n for n in RULE_NAMES if n in expected] == expected
    assert not row["valid"]  # bad_hold invalidates; the others only flag
    assert {"impossible_speed", "bad_hold", "incomplete_input", "too_regular"} == INVALIDATING


def test_a_section_without_keystrokes_is_judged_on_its_row() -> None:
    ks = typed("abc")
    sections = section_metrics(ks)
    row = flag_sections(sections, ks.clear()).row(0, named=True)
    assert (row["quality_flags"], row["valid"]) == ("incomplete_input", False)


def test_lazy_frames_in_lazy_frame_out() -> None:
    ks = typed()
    out = flag_sections(section_metrics(ks.lazy()), ks.lazy())
    assert isinstance(out, pl.LazyFrame)
    assert out.collect().select("quality_flags", "valid").row(0) == ("", True)


def test_recorder_stores_a_short_confirmed_section_flagged_and_invalid(wb, sentences) -> None:
    handle = wb.recorder.start_session("alice", consented_at=datetime.now(UTC))
    full = make_batch(sentences[0].text, handle.token, 0, seed=2)
    short = make_batch("abc", handle.token, 1, seed=2)
    assert wb.recorder.submit_section(handle, 0, sentences[0], full).valid
    result = wb.recorder.submit_section(handle, 1, sentences[1], short)
    assert (result.quality_flags, result.valid) == ("incomplete_input", False)
    assert wb.publisher.wait_idle(30)
    for stored in (
        wb.store.read("sections.csv", "alice", handle.session_id),
        wb.lakehouse.read_table("sections"),
    ):
        rows = stored.sort("test_section_id").select("quality_flags", "valid").rows()
        assert rows == [("", True), ("incomplete_input", False)]


def test_provenance_the_capture_reports_reaches_the_section_row() -> None:
    ks = typed()
    row = sections_from_keystrokes(ks, provenance={"hidden_ms": 900, "blur_count": None}).row(0, named=True)
    assert (row["quality_flags"], row["valid"]) == ("tab_hidden", True)
    assert (
        sections_from_keystrokes(ks, provenance={"hidden_ms": 0, "blur_count": 0})["quality_flags"][0] == ""
    )


def _with_provenance(batch: dict, **provenance) -> dict:
    return {**batch, "provenance": provenance}


def test_live_batch_provenance_flags_the_section_and_sums_into_the_session(wb, sentences) -> None:
    handle = wb.recorder.start_session("bea", consented_at=datetime.now(UTC))
    agent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"
    first = _with_provenance(
        make_batch(sentences[0].text, handle.token, 0, seed=5),
        hidden_ms=1500,
        blur_count=2,
        timer_resolution_ms=0.1,
        cross_origin_isolated=True,
        user_agent=agent,
    )
    result = wb.recorder.submit_section(handle, 0, sentences[0], first)
    assert (result.quality_flags, result.valid) == ("tab_hidden,focus_lost", True)
    clean = _with_provenance(
        make_batch(sentences[1].text, handle.token, 1, seed=5),
        hidden_ms=0,
        blur_count=1,
        timer_resolution_ms=0.005,
        cross_origin_isolated=False,
        user_agent=agent,
    )
    assert wb.recorder.submit_section(handle, 1, sentences[1], clean).quality_flags == "focus_lost"
    session = wb.store.read("session.csv", "bea", handle.session_id).row(0, named=True)
    assert session["hidden_ms"] == 1500 and session["blur_count"] == 3
    assert session["timer_resolution_ms"] == pytest.approx(0.005)  # the finest tick seen
    assert session["cross_origin_isolated"] is False  # isolated only if every sentence was
    assert session["user_agent"] == agent


@pytest.mark.parametrize(
    ("provenance", "message"),
    [
        ({"hidden_ms": -1}, "hidden_ms must be a whole number"),
        ({"blur_count": 1.5}, "blur_count must be a whole number"),
        ({"hidden_ms": 10**9}, "hidden_ms must be a whole number"),
        ({"timer_resolution_ms": 0}, "timer_resolution_ms must be a number above 0"),
        ({"timer_resolution_ms": 250.0}, "timer_resolution_ms must be a number above 0"),
        ({"cross_origin_isolated": "yes"}, "cross_origin_isolated must be true or false"),
        ({"user_agent": "x" * 600}, "user_agent must be printable text"),
        ({"user_agent": "bad\nagent"}, "user_agent must be printable text"),
        ({"clock": 1}, "has unknown field(s) 'clock'"),
    ],
)
def test_bad_provenance_is_refused_and_writes_nothing(wb, sentences, provenance, message) -> None:
    handle = wb.recorder.start_session("cyd", consented_at=datetime.now(UTC))
    bad = _with_provenance(make_batch(sentences[0].text, handle.token, 0, seed=5), **provenance)
    with pytest.raises(InvalidInput) as refused:
        wb.recorder.submit_section(handle, 0, sentences[0], bad)
    assert str(refused.value).startswith(f"keystroke batch rejected: provenance {message}")
    assert wb.store.read("sections.csv", "cyd", handle.session_id).height == 0


def test_demo_typists_are_human_enough_to_pass_every_rule(wb) -> None:
    generate_demo(wb.recorder, participants=3, sessions_per_participant=1, sentences_per_session=8)
    assert wb.publisher.wait_idle(60)
    for stored in (
        wb.store.read_many("sections.csv", wb.store.sessions()),
        wb.lakehouse.read_table("sections"),
    ):
        assert stored.height == 24
        assert stored.select(pl.col("quality_flags").eq("").all(), pl.col("valid").all()).row(0) == (
            True,
            True,
        )
