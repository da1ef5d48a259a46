"""Malformed or hostile batches get a clear error each, and nothing is written anywhere."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from flowtype_core.capture import MAX_EVENTS
from flowtype_core.corpus import Sentence
from flowtype_core.errors import InvalidInput
from flowtype_core.recorder import SessionHandle
from tests.conftest import make_batch

SENTENCE = Sentence("s0001", "the quick brown fox")


def _set(path, value):
    def mutate(batch):
        target = batch
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        return batch

    return mutate


def _drop(*path):
    def mutate(batch):
        target = batch
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]
        return batch

    return mutate


def _events(fn):
    def mutate(batch):
        batch["events"] = fn(batch["events"])
        return batch

    return mutate


def _reverse_release(events):
    events[2]["release"] = events[2]["press"] - 50
    return events


def _swap_order(events):
    """Two whole events change places: each is still released after its own press, so only the
    press-order rule can catch it."""
    assert events[1]["press"] < events[2]["press"]
    events[1], events[2] = events[2], events[1]
    return events


def _million(events):
    return [events[0]] * 1_000_000


CASES = {
    "not a dict": lambda b: ["events"],
    "missing token": _drop("token"),
    "missing events": _drop("events"),
    "missing text": _drop("text"),
    "missing section_index": _drop("section_index"),
    "missing press": lambda b: _drop("events", 0, "press")(b),
    "missing release": lambda b: _drop("events", 3, "release")(b),
    "missing keyCode": lambda b: _drop("events", 1, "keyCode")(b),
    "unknown field": _set(("admin",), True),
    "wrong token": _set(("token",), "someone-else"),
    "token wrong type": _set(("token",), 12345),
    "section index of another sentence": _set(("section_index",), 4),
    "section index as string": _set(("section_index",), "0"),
    "section index as bool": _set(("section_index",), False),
    "events not a list": _set(("events",), {"a": 1}),
    "empty events": _set(("events",), []),
    "a million events": _events(_million),
    "event not an object": _events(lambda e: [*e[:2], "KeyA", *e[2:]]),
    "negative press time": _set(("events", 0, "press"), -5.0),
    "press time in seconds": _set(("events", 0, "press"), 1_732_000_000.0),
    "press time far future": _set(("events", 0, "press"), 9e15),
    "release before press": _events(_reverse_release),
    "presses out of order": _events(_swap_order),
    "press is NaN": _set(("events", 1, "press"), float("nan")),
    "press is infinite": _set(("events", 1, "press"), float("inf")),
    "press as string": _set(("events", 1, "press"), "1732000000000"),
    "press as bool": _set(("events", 1, "press"), True),
    "hold of an hour": _set(("events", 1, "release"), None),  # replaced below by a long hold
    "keyCode negative": _set(("events", 1, "keyCode"), -1),
    "keyCode as float": _set(("events", 1, "keyCode"), 65.0),
    "keyCode huge": _set(("events", 1, "keyCode"), 10**9),
    "key huge string": _set(("events", 1, "key"), "A" * 10_000),
    "key empty": _set(("events", 1, "key"), ""),
    "key with control char": _set(("events", 1, "key"), "a\x00"),
    "key wrong type": _set(("events", 1, "key"), ["a"]),
    "text huge": _set(("text",), "x" * 100_000),
    "text lone surrogate": _set(("text",), "abc\ud800"),
    "text with NUL": _set(("text",), "abc\x00def"),
    "text wrong type": _set(("text",), 42),
    "started after first press": _set(("started_at",), 9.9e12),
    "submitted before last press": _set(("submitted_at",), 1.0e12),
}


# The whole message of each case: it says what is wrong and where.
EXPECTED = {
    "a million events": "1000000 key presses for one sentence; the limit is 2000",
    "empty events": "no keystrokes were captured; type the sentence, then press Enter",
    "event not an object": "event 2 must be an object, got str",
    "events not a list": "events must be a list, got dict",
    "hold of an hour": "event 1 is held for 3600000 ms; the limit is 60000",
    "key empty": "event 1 key is empty",
    "key huge string": "event 1 key is 10000 characters long; the limit is 32",
    "key with control char": "event 1 key contains control characters",
    "key wrong type": "event 1 key must be text, got list",
    "keyCode as float": "event 1 keyCode must be an integer from 0 to 1023",
    "keyCode huge": "event 1 keyCode must be an integer from 0 to 1023",
    "keyCode negative": "event 1 keyCode must be an integer from 0 to 1023",
    "missing events": "the batch is missing events",
    "missing keyCode": "event 1 is missing keyCode",
    "missing press": "event 0 is missing press",
    "missing release": "event 3 is missing release",
    "missing section_index": "the batch is missing section_index",
    "missing text": "the batch is missing text",
    "missing token": "the batch is missing token",
    "negative press time": "event 0 press time -5 is not within a day of the server's clock; check the computer's date and time",
    "not a dict": "batch must be a JSON object, got list",
    "press as bool": "event 1 press must be a number, got bool",
    "press as string": "event 1 press must be a number, got str",
    "press is NaN": "event 1 press must be finite",
    "press is infinite": "event 1 press must be finite",
    "press time far future": "event 0 press time 9000000000000000 is not within a day of the server's clock; check the computer's date and time",
    "press time in seconds": "event 0 press time 1732000000 is not within a day of the server's clock; check the computer's date and time",
    "presses out of order": "event 2 was pressed before event 1; events must be in press order",
    "release before press": "event 2 is released before it is pressed",
    "section index as bool": "section_index must be an integer, got bool",
    "section index as string": "section_index must be an integer, got str",
    "section index of another sentence": "it is for sentence 5, but sentence 1 is being typed",
    "started after first press": "started_at/submitted_at do not enclose the key presses",
    "submitted before last press": "started_at/submitted_at do not enclose the key presses",
    "text huge": "text is 100000 characters long; the limit is 1000",
    "text lone surrogate": "text is not valid Unicode text",
    "text with NUL": "text contains control characters",
    "text wrong type": "text must be text, got int",
    "token wrong type": "it belongs to another session or browser tab (token mismatch); reload the page",
    "unknown field": "the batch has unknown field(s) 'admin'",
    "wrong token": "it belongs to another session or browser tab (token mismatch); reload the page",
}


def _hour_hold(batch):
    batch["events"][1]["release"] = batch["events"][1]["press"] + 3_600_000
    return batch


CASES["hold of an hour"] = _hour_hold


@pytest.fixture
def session(wb):
    return wb.recorder.start_session("p1", consented_at=datetime.now(UTC))


def _assert_nothing_written(wb, handle):
    assert not (wb.store.session_dir("p1", handle.session_id) / "keystrokes.csv").exists()
    assert wb.store.read("sections.csv", "p1", handle.session_id).is_empty()
    assert wb.publisher.wait_idle(30)
    assert wb.lakehouse.read_table("keystrokes").is_empty()
    assert wb.lakehouse.read_table("sections").is_empty()


def test_at_least_thirty_hostile_cases():
    assert len(CASES) + len(RAW_CASES) + len(ID_CASES) >= 30


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_batch_is_rejected_and_nothing_written(wb, session, name):
    batch = CASES[name](copy.deepcopy(make_batch(SENTENCE.text, session.token, 0)))
    with pytest.raises(InvalidInput) as caught:
        wb.recorder.submit_section(session, 0, SENTENCE, batch)
    message = str(caught.value)
    assert message == "keystroke batch rejected: " + EXPECTED[name] and len(message) < 300
    _assert_nothing_written(wb, session)


RAW_CASES = {
    "non-UTF-8 bytes": b'{"token": "\xff\xfe"}',
    "invalid JSON": b'{"token": ',
    "JSON array": b"[1, 2, 3]",
    "deeply nested JSON": b"[" * 100_000 + b"]" * 100_000,
    "oversized bytes": b" " * (2 * 1024 * 1024),
}


@pytest.mark.parametrize("name", sorted(RAW_CASES))
def test_raw_payloads_are_rejected(wb, session, name):
    with pytest.raises(InvalidInput, match="keystroke batch rejected"):
        wb.recorder.submit_section(session, 0, SENTENCE, RAW_CASES[name])
    _assert_nothing_written(wb, session)


ID_CASES = ["../etc", "..", "a/b", "a\\b", "", ".hidden", "x" * 200, "name with space", "é", "a\x00b"]


@pytest.mark.parametrize("bad", ID_CASES)
def test_ids_that_could_escape_the_data_dir_are_rejected(wb, session, bad):
    forged = SessionHandle(bad, session.session_id, session.token)
    batch = make_batch(SENTENCE.text, session.token, 0)
    with pytest.raises(InvalidInput, match="not a valid id|must be a string"):
        wb.recorder.submit_section(forged, 0, SENTENCE, batch)
    forged = SessionHandle("p1", bad, session.token)
    with pytest.raises(InvalidInput):
        wb.recorder.submit_section(forged, 0, SENTENCE, batch)
    assert [p.name for p in (wb.data_dir / "sessions").iterdir()] == ["p1"]
    _assert_nothing_written(wb, session)


def test_json_text_batch_is_accepted_like_a_dict(wb, session):
    batch = make_batch(SENTENCE.text, session.token, 0)
    result = wb.recorder.submit_section(session, 0, SENTENCE, json.dumps(batch).encode())
    assert result.keystroke_count == len(batch["events"])


def test_limit_is_generous_enough_for_real_typing():
    assert MAX_EVENTS >= 10 * 150
