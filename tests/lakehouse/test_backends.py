"""One contract, every backend: the same cases run on local Delta and on Databricks (stand-in)."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.errors import InvalidInput
from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.schema import KEYSTROKES, PARTICIPANTS, SECTIONS, SESSIONS
from tests.lakehouse.rows import batch, ordered, section, session


def stored(lakehouse: Lakehouse, table: str, **filters: str) -> pl.DataFrame:
    spec = {"keystrokes": KEYSTROKES, "sections": SECTIONS, "sessions": SESSIONS}[table]
    return ordered(lakehouse.read_table(table, **filters), spec.key)


def test_tables_exist_empty_and_creating_them_again_changes_nothing(lakehouse: Lakehouse) -> None:
    lakehouse.ensure_tables()
    lakehouse.ensure_tables()
    for spec in (KEYSTROKES, SECTIONS, SESSIONS):
        assert_frame_equal(lakehouse.read_table(spec.name), spec.empty())


def test_replace_sections_inserts_exactly_the_rows_given(lakehouse: Lakehouse) -> None:
    sections, keystrokes = batch(section("p1", "s1_s000", 12), section("p1", "s1_s001", 7))
    lakehouse.replace_sections(sections, keystrokes)
    assert_frame_equal(stored(lakehouse, "keystrokes"), ordered(keystrokes, KEYSTROKES.key))
    assert_frame_equal(stored(lakehouse, "sections"), ordered(sections, SECTIONS.key))


def test_resubmitting_a_section_with_fewer_presses_replaces_it(lakehouse: Lakehouse) -> None:
    lakehouse.replace_sections(*section("p1", "s1_s000", 10, user_input="first try"))
    again_sections, again_keystrokes = section(
        "p1", "s1_s000", 4, user_input="second", letters="xyz", start=99
    )
    lakehouse.replace_sections(again_sections, again_keystrokes)
    lakehouse.replace_sections(again_sections, again_keystrokes)  # a retry of the same batch
    assert_frame_equal(stored(lakehouse, "keystrokes"), ordered(again_keystrokes, KEYSTROKES.key))
    assert_frame_equal(stored(lakehouse, "sections"), again_sections)


def test_a_section_can_be_replaced_by_one_without_presses(lakehouse: Lakehouse) -> None:
    lakehouse.replace_sections(*section("p1", "s1_s000", 6))
    empty_sections, no_presses = section("p1", "s1_s000", 0, wpm=None)
    lakehouse.replace_sections(empty_sections, no_presses)
    assert stored(lakehouse, "keystrokes").is_empty()
    assert_frame_equal(stored(lakehouse, "sections"), empty_sections)


def test_sections_of_one_participant_are_independent(lakehouse: Lakehouse) -> None:
    first, second = section("p1", "s1_s000", 5), section("p1", "s1_s001", 8)
    other = section("p2", "s1_s000", 3)  # same section id, another participant
    lakehouse.replace_sections(*batch(first, second, other))
    replacement = section("p1", "s1_s000", 2, letters="q")
    lakehouse.replace_sections(*replacement)
    expected = ordered(pl.concat([replacement[1], second[1], other[1]]), KEYSTROKES.key)
    assert_frame_equal(stored(lakehouse, "keystrokes"), expected)
    assert stored(lakehouse, "sections").height == 3


def test_upsert_sessions_inserts_then_replaces_by_key(lakehouse: Lakehouse) -> None:
    lakehouse.upsert_sessions(pl.concat([session("p1", "a"), session("p1", "b"), session("p2", "a")]))
    finished = session("p1", "a", status="completed", count=3)
    lakehouse.upsert_sessions(finished)
    lakehouse.upsert_sessions(finished)
    got = stored(lakehouse, "sessions")
    assert got.select("participant_id", "session_id").rows() == [("p1", "a"), ("p1", "b"), ("p2", "a")]
    assert_frame_equal(got.filter(participant_id="p1", session_id="a"), finished)


def test_delete_sections_removes_them_from_every_table(lakehouse: Lakehouse) -> None:
    lakehouse.replace_sections(
        *batch(section("p1", "x_s000", 4), section("p1", "x_s001", 6), section("p2", "x_s000", 5))
    )
    keys = pl.DataFrame({"participant_id": ["p1", "p2"], "test_section_id": ["x_s001", "x_s000"]})
    assert lakehouse.delete_sections(keys) == 6 + 1 + 5 + 1
    assert stored(lakehouse, "sections").select("participant_id", "test_section_id").rows() == [
        ("p1", "x_s000")
    ]
    assert stored(lakehouse, "keystrokes").height == 4
    assert lakehouse.delete_sections(keys) == 0


def test_delete_participants_removes_every_row_of_them_from_all_four_tables(lakehouse: Lakehouse) -> None:
    lakehouse.replace_sections(
        *batch(section("p1", "x_s000", 4), section("p1", "y_s000", 6), section("p10", "x_s000", 5))
    )
    lakehouse.upsert_sessions(pl.concat([session("p1", "x"), session("p1", "y"), session("p10", "x")]))
    answers = pl.DataFrame(
        {"participant_id": ["p1", "p1", "p10"], "study_id": [None, "st1", None]}
    ).with_columns(
        pl.lit(None, dtype).alias(c)
        for c, dtype in PARTICIPANTS.columns.items()
        if c not in ("participant_id", "study_id")
    )
    lakehouse.replace_participants(["p1", "p10"], answers)
    # p1's rows: 10 presses, 2 sections, 2 participants rows, 2 sessions.
    assert lakehouse.delete_participants(["p1"]) == 10 + 2 + 2 + 2
    for table, rows in (("keystrokes", 5), ("sections", 1), ("sessions", 1), ("participants", 1)):
        held = lakehouse.read_table(table)
        assert held.height == rows, table
        assert held.get_column("participant_id").unique().to_list() == ["p10"], table
    assert lakehouse.delete_participants(["p1"]) == 0
    assert lakehouse.delete_participants([]) == 0


def test_read_table_filters_by_participant(lakehouse: Lakehouse) -> None:
    lakehouse.replace_sections(*batch(section("p1", "x_s000", 4), section("p2", "x_s000", 5)))
    lakehouse.upsert_sessions(pl.concat([session("p1", "x"), session("p2", "x")]))
    assert set(stored(lakehouse, "keystrokes", participant_id="p2")["participant_id"]) == {"p2"}
    assert stored(lakehouse, "keystrokes", participant_id="p2").height == 5
    assert stored(lakehouse, "sessions", participant_id="p1")["participant_id"].to_list() == ["p1"]
    assert stored(lakehouse, "sections", participant_id="nobody").is_empty()


@pytest.mark.parametrize(
    "bad",
    ["it's", "x' OR '1'='1", 'q"uote', "back`tick", "../up", "semi;colon", ""],
)
def test_ids_that_could_break_out_are_rejected_before_anything_is_written(
    lakehouse: Lakehouse, bad: str
) -> None:
    with pytest.raises(InvalidInput):
        lakehouse.replace_sections(*section(bad, "s_s000", 3))
    with pytest.raises(InvalidInput):
        lakehouse.replace_sections(*section("p1", bad, 3))
    with pytest.raises(InvalidInput):
        lakehouse.upsert_sessions(session("p1", bad))
    with pytest.raises(InvalidInput):
        lakehouse.delete_sections(pl.DataFrame({"participant_id": [bad], "test_section_id": ["s"]}))
    with pytest.raises(InvalidInput):
        lakehouse.delete_participants(["p1", bad])
    assert stored(lakehouse, "keystrokes").is_empty() and stored(lakehouse, "sessions").is_empty()


def test_hostile_text_round_trips_exactly(lakehouse: Lakehouse) -> None:
    text = '=cmd()|\' OR 1=1; -- "quoted" \\n back\\slash\ttab\nnewline é漢字😀 \u2028 +SUM(A1) @x'
    sections, keystrokes = section(
        "p1", "s_s000", 6, sentence=text, user_input=text[::-1], letters="'\"\\=😀\n"
    )
    lakehouse.replace_sections(sections, keystrokes)
    assert_frame_equal(stored(lakehouse, "keystrokes"), keystrokes)
    assert_frame_equal(stored(lakehouse, "sections"), sections)


def test_numbers_at_the_edges_round_trip_exactly(lakehouse: Lakehouse) -> None:
    sections, keystrokes = section("p1", "s_s000", 3, start=-(2**40), wpm=0.1 + 0.2)
    keystrokes = keystrokes.with_columns(
        press_time=pl.Series([2**62, -(2**62), 0]),
        keycode=pl.Series([2**31 - 1, -(2**31), 0], dtype=pl.Int32),
    )
    sections = sections.with_columns(error_rate=pl.lit(5e-324), kspc=pl.lit(1.7976931348623157e308))
    lakehouse.replace_sections(sections, keystrokes)
    assert_frame_equal(stored(lakehouse, "keystrokes"), keystrokes)
    assert_frame_equal(stored(lakehouse, "sections"), sections, check_exact=True)


def test_floats_that_json_cannot_carry_round_trip(lakehouse: Lakehouse) -> None:
    sections, keystrokes = section("p1", "s_s000", 1, wpm=float("nan"))
    sections = sections.with_columns(kspc=pl.lit(float("inf")))
    lakehouse.replace_sections(sections, keystrokes)
    assert_frame_equal(stored(lakehouse, "sections"), sections)


def test_a_large_batch_round_trips(lakehouse: Lakehouse) -> None:
    parts = [
        section(f"p{i % 7}", f"big_s{i:03d}", 150 + i % 40, sentence=f"sentence {i} " * 6) for i in range(90)
    ]
    sections, keystrokes = batch(*parts)
    lakehouse.replace_sections(sections, keystrokes)
    lakehouse.replace_sections(sections, keystrokes)
    assert_frame_equal(stored(lakehouse, "keystrokes"), ordered(keystrokes, KEYSTROKES.key))
    assert stored(lakehouse, "sections").height == 90


def test_fingerprints_agree_across_backends(open_backend: Callable[[str], Lakehouse]) -> None:
    sections, keystrokes = batch(
        section("p1", "f_s000", 9), section("p1", "f_s001", 0), section("p2", "f_s000", 4)
    )
    fingerprints = []
    for name in ("local", "databricks"):
        backend = open_backend(name)
        backend.replace_sections(sections, keystrokes)
        fingerprints.append(ordered(backend.section_fingerprints(), ("participant_id", "test_section_id")))
    assert_frame_equal(fingerprints[0], fingerprints[1])
    assert fingerprints[0]["rows"].to_list() == [9, 0, 4]


def test_keystrokes_outside_the_batch_are_refused_before_any_write(lakehouse: Lakehouse) -> None:
    sections, keystrokes = section("p1", "x1", 4)
    _, other = section("p1", "x2", 3)
    with pytest.raises(InvalidInput, match="not in this batch"):
        lakehouse.replace_sections(sections, pl.concat([keystrokes, other]))
    assert lakehouse.read_table("keystrokes").is_empty()
