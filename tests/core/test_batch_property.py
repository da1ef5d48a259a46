"""Property over the batch structure: any batch is stored exactly as sent, or refused with a short
`InvalidInput` and the store left as it was; never another exception (issue 20 item 3)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flowtype_core.capture import EVENT_FIELDS, REQUIRED
from flowtype_core.corpus import Sentence
from flowtype_core.errors import InvalidInput
from tests.conftest import make_batch

SENTENCE = Sentence("s0001", "the quick brown fox")

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
    | st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=2_000)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8,
)
NAMES = st.sampled_from(REQUIRED + EVENT_FIELDS) | st.text(max_size=300)


@st.composite
def mutations(draw):
    """A few edits of one kind or another to an honest batch (none at all, sometimes)."""
    edits = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(
            st.sampled_from(
                ["set", "drop", "event_set", "event_drop", "dup", "remove", "swap", "shift", "text", "key"]
            )
        )
        if kind in ("set", "event_set"):
            edits.append((kind, draw(NAMES), draw(VALUES), draw(st.integers(0, 200))))
        elif kind in ("drop", "event_drop"):
            edits.append((kind, draw(NAMES), None, draw(st.integers(0, 200))))
        elif kind == "shift":
            edits.append((kind, None, draw(st.integers(-(10**14), 10**14) | st.floats(-1e6, 1e6)), 0))
        elif kind in ("text", "key"):
            edits.append((kind, None, draw(st.text(max_size=40)), draw(st.integers(0, 200))))
        else:
            edits.append((kind, None, None, draw(st.integers(0, 200))))
    return edits, draw(st.booleans())


def _apply(batch: dict, edits) -> dict:
    events = batch["events"]
    for kind, name, value, at in edits:
        i = at % len(events) if isinstance(events, list) and events else 0
        target = events[i] if isinstance(events, list) and events and isinstance(events[i], dict) else None
        if kind == "set":
            batch[name] = value
        elif kind == "drop":
            batch.pop(name, None)
        elif kind == "event_set" and target is not None:
            target[name] = value
        elif kind == "event_drop" and target is not None:
            target.pop(name, None)
        elif kind == "dup" and target is not None:
            events.insert(i + 1, dict(target))
        elif kind == "remove" and target is not None:
            del events[i]
        elif kind == "swap" and target is not None and len(events) > 1:
            events[i], events[i - 1] = events[i - 1], events[i]
        elif kind == "shift" and target is not None:
            for event in events:
                if isinstance(event, dict) and isinstance(event.get("press"), float):
                    event["press"] += value
        elif kind == "text":
            batch["text"] = value
        elif kind == "key" and target is not None:
            target["key"] = value
        events = batch.get("events")
    return batch


def _named(key: str) -> bool:
    return len(key) > 1 and key.isascii() and key.isalnum()


@pytest.fixture
def handle(wb):
    """One session for every example: an accepted batch replaces sentence 0, a refused one leaves it."""
    return wb.recorder.start_session("p1", consented_at=datetime.now(UTC))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutations())
def test_any_batch_is_stored_as_sent_or_refused_with_a_short_message(wb, handle, drawn):
    edits, as_json = drawn
    batch = _apply(copy.deepcopy(make_batch(SENTENCE.text, handle.token, 0)), edits)
    keystrokes = wb.store.session_dir("p1", handle.session_id) / "keystrokes.csv"
    before = keystrokes.read_bytes() if keystrokes.exists() else None
    try:
        payload = json.dumps(batch).encode() if as_json else batch
    except (ValueError, TypeError):  # an integer json cannot write as text: send the dict itself
        payload = batch
    try:
        result = wb.recorder.submit_section(handle, 0, SENTENCE, payload)
    except InvalidInput as exc:
        event("refused")
        assert len(str(exc)) < 300, str(exc)[:500]
        assert (keystrokes.read_bytes() if keystrokes.exists() else None) == before
        return
    event("stored")
    stored = wb.store.read("keystrokes.csv", "p1", handle.session_id)
    events = batch["events"]
    assert result.user_input == batch["text"]
    assert stored.get_column("user_input").unique().to_list() == [batch["text"]]
    assert stored.get_column("press_time").to_list() == [round(e["press"]) for e in events]
    assert stored.get_column("release_time").to_list() == [
        None if e["release"] is None else round(e["release"]) for e in events
    ]
    assert stored.get_column("keycode").to_list() == [e["keyCode"] for e in events]
    letters = stored.get_column("letter").to_list()
    assert [letter for letter, e in zip(letters, events, strict=True) if not _named(e["key"])] == [
        e["key"] for e in events if not _named(e["key"])
    ]
