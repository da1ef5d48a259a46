"""Hostile batches of the kinds an outside corpus found (issue 20): each kind refused with a short,
clear message and nothing written, or, where the batch is honest, stored exactly as sent."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from flowtype_core.capture import CLOCK_TOLERANCE_MS, MAX_SHOWN
from flowtype_core.corpus import Sentence
from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
from flowtype_core.recorder import SessionHandle
from tests.conftest import make_batch

SENTENCE = Sentence("s0001", "the quick brown fox")
PREFIX = "keystroke batch rejected: "


@pytest.fixture
def session(wb):
    return wb.recorder.start_session("p1", consented_at=datetime.now(UTC))


def _batch(session: SessionHandle, **kw) -> dict:
    return copy.deepcopy(make_batch(SENTENCE.text, session.token, 0, **kw))


def _rejected(wb, session: SessionHandle, batch, pattern: str, index: int = 0) -> str:
    """Submit, expect a refusal whose whole message matches `pattern`, and nothing on disk."""
    with pytest.raises(InvalidInput) as caught:
        wb.recorder.submit_section(session, index, SENTENCE, batch)
    message = str(caught.value)
    assert re.fullmatch(pattern, message), message
    assert len(message) < 300
    assert not (wb.store.session_dir("p1", session.session_id) / "keystrokes.csv").exists()
    assert wb.store.read("sections.csv", "p1", session.session_id).is_empty()
    return message


def _event(batch: dict, i: int, **fields) -> dict:
    batch["events"][i].update(fields)
    return batch


# -- integers beyond float range, and beyond Python's int-from-string limit -------------------
HUGE = {
    "started_at beyond float range": lambda b: b.update(started_at=10**400) or b,
    "submitted_at hugely negative": lambda b: b.update(submitted_at=-(10**309)) or b,
    "press beyond float range": lambda b: _event(b, 2, press=10**309),
    "press beyond exact floats": lambda b: _event(b, 2, press=2**60),
    "release beyond float range": lambda b: _event(b, 1, release=10**500),
    "section_index of 30 digits": lambda b: b.update(section_index=10**30) or b,
}


@pytest.mark.parametrize("name", sorted(HUGE))
def test_integers_beyond_float_range_are_refused_with_a_message(wb, session, name):
    message = _rejected(wb, session, HUGE[name](_batch(session)), re.escape(PREFIX) + r".+")
    assert re.search(r"out of range|must be from 0 to 999", message), message
    assert not re.search(r"\d{20}", message)  # the value itself is never spelled out


@pytest.mark.parametrize("digits", [4_301, 50_000])
def test_json_with_an_integer_past_the_digit_limit_is_invalid_json(wb, session, digits):
    text = json.dumps(_batch(session)).replace('"started_at": ', f'"started_at": {"9" * digits}, "x": ', 1)
    _rejected(wb, session, text.encode(), re.escape(PREFIX) + r"batch is not valid JSON \(.+\)")


def test_json_infinity_literal_is_refused(wb, session):
    text = json.dumps(_batch(session)).replace('"started_at": ', '"started_at": 1e999, "x": ', 1)
    _rejected(wb, session, text, re.escape(PREFIX) + r"the batch has unknown field\(s\) 'x'")


# -- attacker-sized values are summarised, never echoed ----------------------------------------
def _unknown_top(name):
    return lambda b: b.update({name: 1}) or b


def _unknown_event(name, value=1):
    return lambda b: _event(b, 0, **{name: value})


ECHO = {
    "top-level field name of 200,000 characters": (_unknown_top("f" * 200_000), "the batch has unknown"),
    "event field name of 50,000 characters": (_unknown_event("g" * 50_000), "event 0 has unknown"),
    "sixty unknown fields": (lambda b: b.update({f"x{i}": i for i in range(60)}) or b, "and 57 more"),
    "key of 100,000 characters": (lambda b: _event(b, 1, key="k" * 100_000), "100000 characters long"),
    "code of 5,000 characters": (lambda b: _event(b, 1, code="c" * 5_000), "5000 characters long"),
    "section_index of 400 digits": (lambda b: b.update(section_index=-(10**400)) or b, "about 401 digits"),
}


@pytest.mark.parametrize("name", sorted(ECHO))
def test_oversized_values_are_summarised_in_the_message(wb, session, name):
    mutate, says = ECHO[name]
    message = _rejected(wb, session, mutate(_batch(session)), re.escape(PREFIX) + r".+")
    assert says in message
    assert not re.search(rf"(.)\1{{{MAX_SHOWN}}}", message)  # no run longer than a quoted value


# -- batches for sessions that are over --------------------------------------------------------
def test_batch_for_a_completed_session_is_refused(wb, session):
    wb.recorder.end_session(session)
    _rejected(wb, session, _batch(session), "this session is completed; start a new session to type more")


def test_batch_for_an_abandoned_session_is_refused(wb, session):
    wb.recorder.start_session("p1", consented_at=datetime.now(UTC))  # the open one becomes abandoned
    _rejected(wb, session, _batch(session), "this session is abandoned; start a new session to type more")


def test_resubmission_after_the_end_keeps_the_accepted_sentence(wb, session):
    first = _batch(session, seed=1)
    wb.recorder.submit_section(session, 0, SENTENCE, first)
    wb.recorder.end_session(session, status="abandoned")
    with pytest.raises(InvalidInput, match="this session is abandoned"):
        wb.recorder.submit_section(session, 0, SENTENCE, _batch(session, seed=2))
    kept = wb.store.read("keystrokes.csv", "p1", session.session_id)
    assert kept.get_column("press_time").to_list() == [round(e["press"]) for e in first["events"]]


# -- an event repeated identically ------------------------------------------------------------
def _repeat(i):
    def mutate(batch):
        batch["events"].insert(i + 1, dict(batch["events"][i]))
        return batch

    return mutate


def _double_all(batch):
    batch["events"] = [e for event in batch["events"] for e in (event, dict(event))]
    return batch


def _repeat_unreleased(batch):
    batch["events"][-1]["release"] = None
    batch["events"].append(dict(batch["events"][-1]))
    return batch


REPEATS = {"first event twice": (_repeat(0), 1), "a middle event twice": (_repeat(5), 6)}
REPEATS |= {
    "every event twice": (_double_all, 1),
    "an unreleased last event twice": (_repeat_unreleased, None),
}


@pytest.mark.parametrize("name", sorted(REPEATS))
def test_an_event_repeated_identically_is_refused(wb, session, name):
    mutate, where = REPEATS[name]
    batch = mutate(_batch(session))
    where = len(batch["events"]) - 1 if where is None else where
    _rejected(wb, session, batch, re.escape(f"{PREFIX}event {where} repeats an earlier event exactly"))


# -- unknown per-event fields -------------------------------------------------------------------
EVENT_EXTRAS = {
    "10 MB string": ("note", "x" * 10_000_000),
    "isTrusted flag": ("isTrusted", True),
    "prototype name": ("__proto__", {}),
    "timeStamp": ("timeStamp", 12.5),
    "empty name": ("", None),
}


@pytest.mark.parametrize("name", sorted(EVENT_EXTRAS))
def test_unknown_per_event_fields_are_refused(wb, session, name):
    field, value = EVENT_EXTRAS[name]
    batch = _event(_batch(session), 3, **{field: value})
    pattern = re.escape(f"{PREFIX}event 3 has unknown field(s) {field!r}")
    _rejected(wb, session, batch, pattern)


# -- the text must be consistent with the presses ---------------------------------------------
def _text(fn):
    def mutate(batch):
        batch["text"] = fn(batch)
        return batch

    return mutate


def _character_presses(batch) -> int:
    named = {"Shift", "Backspace", "Control", "Alt", "Meta", "CapsLock", "Tab", "ArrowLeft", "ArrowRight"}
    return sum(e["key"] not in named for e in batch["events"])


INCONSISTENT = {
    "text ten times longer": _text(lambda b: b["text"] * 10),
    "one character more than pressed": _text(lambda b: "x" * (_character_presses(b) + 1)),
    "only modifiers pressed": lambda b: {
        **b,
        "events": [{**e, "key": "Shift", "code": "ShiftLeft", "keyCode": 16} for e in b["events"]],
    },
}


@pytest.mark.parametrize("name", sorted(INCONSISTENT))
def test_text_longer_than_the_presses_is_refused(wb, session, name):
    pattern = re.escape(PREFIX) + r"the text has \d+ characters but only \d+ character keys were pressed;"
    _rejected(wb, session, INCONSISTENT[name](_batch(session)), pattern + " type the sentence key by key")


def test_text_shorter_than_the_presses_is_fine(wb, session):
    batch = _batch(session)
    batch["text"] = batch["text"][:3]  # the rest deleted again, or never submitted
    assert wb.recorder.submit_section(session, 0, SENTENCE, batch).user_input == batch["text"]


# -- press times far from the server's clock --------------------------------------------------
@pytest.mark.parametrize(
    "offset",
    [
        -30 * 365 * 86_400_000,
        -2 * 86_400_000,
        -CLOCK_TOLERANCE_MS - 60_000,
        3 * 86_400_000,
        40 * 365 * 86_400_000,
    ],
)
def test_press_times_beyond_the_clock_tolerance_are_refused(wb, session, offset):
    start = datetime.now(UTC) + timedelta(milliseconds=offset)
    pattern = re.escape(PREFIX) + r"event 0 press time \d+ is not within a day of the server's clock;"
    _rejected(wb, session, _batch(session, start=start), pattern + " check the computer's date and time")


@pytest.mark.parametrize("hours", [-20, -2, 2, 20])
def test_a_clock_some_hours_off_is_within_tolerance(wb, session, hours):
    batch = _batch(session, start=datetime.now(UTC) + timedelta(hours=hours))
    assert wb.recorder.submit_section(session, 0, SENTENCE, batch).keystroke_count == len(batch["events"])


# -- text-direction controls --------------------------------------------------------------------
BIDI = {
    "right-to-left override as a key": ("key", "\u202e"),
    "left-to-right isolate after a letter": ("key", "a\u2066"),
    "override in the code": ("code", "Key\u202d"),
    "right-to-left mark as a key": ("key", "\u200f"),
    "pop directional isolate": ("key", "\u2069"),
}


@pytest.mark.parametrize("name", sorted(BIDI))
def test_text_direction_controls_in_a_key_are_refused(wb, session, name):
    field, value = BIDI[name]
    pattern = re.escape(f"{PREFIX}event 2 {field} contains a text-direction control character")
    _rejected(wb, session, _event(_batch(session), 2, **{field: value}), pattern)


def test_text_direction_controls_in_the_text_are_refused(wb, session):
    batch = _batch(session)
    batch["text"] = "the \u202ekciuq brown fox"
    _rejected(wb, session, batch, re.escape(f"{PREFIX}text contains a text-direction control character"))


# -- what is stored equals what was sent, code point for code point ----------------------------
KEYS = {
    "e + combining acute": "e\u0301",
    "a + combining diaeresis": "a\u0308",
    "Devanagari ka + virama": "\u0915\u094d",
    "precomposed n tilde": "\u00f1",
    "sharp s": "\u00df",
    "Hangul jamo sequence": "\u1100\u1161",
    "emoji with skin tone": "\U0001f44d\U0001f3fd",
}


@pytest.mark.parametrize("name", sorted(KEYS))
def test_typed_characters_come_back_from_storage_unchanged(wb, session, name):
    key = KEYS[name]
    batch = _batch(session)
    batch["events"][0].update(key=key, code="KeyQ")
    batch["text"] = key + batch["text"][1:]
    wb.recorder.submit_section(session, 0, SENTENCE, batch)
    assert wb.publisher.wait_idle(30)
    for frame in (
        wb.store.read("keystrokes.csv", "p1", session.session_id),
        wb.lakehouse.read_table("keystrokes"),
    ):
        assert frame.get_column("letter")[0] == key
        assert [ord(c) for c in frame.get_column("user_input")[0]] == [ord(c) for c in batch["text"]]


def test_named_keys_still_get_the_dataset_names(wb, session):
    batch = _batch(session)
    batch["events"][0].update(key="Backspace")
    batch["events"][1].update(key="F5")
    batch["text"] = batch["text"][:-2]
    wb.recorder.submit_section(session, 0, SENTENCE, batch)
    letters = wb.store.read("keystrokes.csv", "p1", session.session_id).get_column("letter")
    assert letters[:2].to_list() == ["BKSP", "F5"]


# -- ids that are reserved or unstable file names on Windows -----------------------------------
WINDOWS = ["CON", "con", "nul.txt", "NUL", "COM1", "lpt9.log", "Aux.tar.gz", "prn", "p1.", "abc."]


@pytest.mark.parametrize("bad", WINDOWS)
def test_windows_reserved_and_trailing_dot_ids_are_refused(wb, bad):
    with pytest.raises(InvalidInput, match=r"reserved file name on Windows|not ending with '\.'"):
        check_id(bad, "participant_id")
    with pytest.raises(InvalidInput):
        wb.recorder.start_session(bad, consented_at=datetime.now(UTC))
    assert not any(p.name.lower().startswith(bad.lower()[:3]) for p in (wb.data_dir / "sessions").iterdir())


@pytest.mark.parametrize("good", ["console", "nullable", "com10", "auxiliary.1", "lpt", "a.b"])
def test_ids_that_only_look_like_device_names_are_fine(good):
    assert check_id(good, "participant_id") == good


# -- presses faster than anyone types -------------------------------------------------------
def _presses_within(count: int, span_ms: float):
    def mutate(batch):
        t0 = batch["events"][0]["press"]
        template = batch["events"][0]
        batch["events"] = [
            {**template, "key": chr(0x4E00 + i), "press": t0 + span_ms * i / count, "release": None}
            for i in range(count)
        ]
        batch["text"] = "a"
        batch["submitted_at"] = t0 + span_ms + 1
        return batch

    return mutate


@pytest.mark.parametrize(("count", "span"), [(1_500, 1), (200, 0), (100, 50), (30, 200)])
def test_presses_faster_than_anyone_types_are_refused(wb, session, count, span):
    pattern = re.escape(PREFIX) + rf"{count} key presses within \d+ ms is faster than anyone types"
    _rejected(wb, session, _presses_within(count, span)(_batch(session)), pattern)


def test_a_short_burst_on_one_millisecond_is_fine(wb, session):
    batch = _presses_within(10, 0)(_batch(session))  # rollover and a coarse timer
    assert wb.recorder.submit_section(session, 0, SENTENCE, batch).keystroke_count == 10


# -- section indexes out of range ---------------------------------------------------------------
@pytest.mark.parametrize("index", [-1, -2, -1000, 1000, 10**6])
def test_section_index_out_of_range_is_named_as_sent(wb, session, index):
    batch = _batch(session)
    batch["section_index"] = index
    pattern = re.escape(f"{PREFIX}section_index must be from 0 to 999, got {index}")
    message = _rejected(wb, session, batch, pattern)
    assert "sentence 0" not in message


def test_nothing_reached_the_lakehouse(wb, session):
    with pytest.raises(InvalidInput):
        wb.recorder.submit_section(session, 0, SENTENCE, HUGE["press beyond float range"](_batch(session)))
    assert wb.publisher.wait_idle(30)
    assert wb.lakehouse.read_table("keystrokes").is_empty()
    assert pl.DataFrame(wb.store.read_all("keystrokes.csv")).is_empty()
