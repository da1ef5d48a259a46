"""Validation of keystroke batches sent by the browser component (SPEC §3.1, §4).

A batch is untrusted input: every field is checked before anything is written, and a rejected
batch raises `InvalidInput` with a message that says what is wrong and where. Nothing partial is
ever returned.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
from flowtype_core.schema import KEYSTROKES

MAX_EVENTS = 2_000  # a 200-character sentence typed ten times over
MAX_TEXT = 1_000
MAX_KEY_NAME = 32
MAX_BATCH_BYTES = 512 * 1024
MAX_HOLD_MS = 60_000
MAX_SECTION_MS = 30 * 60_000
EARLIEST_MS = 946_684_800_000  # 2000-01-01: anything earlier is a clock or encoding error
FUTURE_SLACK_MS = 24 * 3600_000
REQUIRED = ("token", "section_index", "text", "started_at", "submitted_at", "events")
EVENT_FIELDS = ("key", "code", "keyCode", "press", "release")

# Names as in the Aalto dataset, so live sessions and imported data share one vocabulary.
KEY_NAMES = {
    "Backspace": "BKSP",
    "Shift": "SHIFT",
    "CapsLock": "CAPS_LOCK",
    "Control": "CTRL",
    "Alt": "ALT",
    "AltGraph": "ALT_GR",
    "Meta": "META",
    "Tab": "TAB",
    "Delete": "DELETE",
    "Insert": "INSERT",
    "Home": "HOME",
    "End": "END",
    "NumLock": "NUM_LK",
    "ArrowLeft": "ARW_LEFT",
    "ArrowRight": "ARW_RIGHT",
    "ArrowUp": "ARW_UP",
    "ArrowDown": "ARW_DOWN",
    "Escape": "ESC",
    "Dead": "DEAD",
    "Unidentified": "UNKNOWN",
}


@dataclass(frozen=True)
class CapturedSection:
    """A validated batch: the keystroke rows plus when the sentence started and ended."""

    keystrokes: pl.DataFrame
    user_input: str
    started_at: datetime
    completed_at: datetime


def letter_for(key: str) -> str:
    """The dataset's name for a key: the character itself, or an upper-case name like `BKSP`."""
    if len(key) == 1:
        return key
    return KEY_NAMES.get(key, key.upper()[:MAX_KEY_NAME])


def _fail(message: str) -> InvalidInput:
    return InvalidInput(f"keystroke batch rejected: {message}")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"{where} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise _fail(f"{where} must be finite")
    return float(value)


def _text(value: Any, where: str, limit: int, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise _fail(f"{where} must be text, got {type(value).__name__}")
    if len(value) > limit:
        raise _fail(f"{where} is {len(value)} characters long; the limit is {limit}")
    if not value and not allow_empty:
        raise _fail(f"{where} is empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(f"{where} is not valid Unicode text") from None
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise _fail(f"{where} contains control characters")
    return value


def decode_batch(raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Accept the component's dict, or JSON text/bytes from a file or an API call."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, bytes):
        if len(raw) > MAX_BATCH_BYTES:
            raise _fail(f"batch is {len(raw)} bytes; the limit is {MAX_BATCH_BYTES}")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(f"batch is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if not isinstance(raw, str):
        raise _fail(f"batch must be a JSON object, got {type(raw).__name__}")
    if len(raw) > MAX_BATCH_BYTES:
        raise _fail(f"batch is {len(raw)} characters; the limit is {MAX_BATCH_BYTES}")
    try:
        parsed = json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise _fail(f"batch is not valid JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise _fail(f"batch must be a JSON object, got {type(parsed).__name__}")
    return parsed


def validate_batch(
    raw: bytes | str | dict[str, Any],
    *,
    participant_id: str,
    session_id: str,
    test_section_id: str,
    section_index: int,
    sentence: str,
    token: str,
    now_ms: float | None = None,
) -> CapturedSection:
    """Check one sentence's batch against the session it claims to belong to; build its rows."""
    for value, what in (
        (participant_id, "participant_id"),
        (session_id, "session_id"),
        (test_section_id, "test_section_id"),
    ):
        check_id(value, what)
    batch = decode_batch(raw)
    missing = [k for k in REQUIRED if k not in batch]
    if missing:
        raise _fail(f"missing field(s) {', '.join(missing)}")
    unknown = sorted(set(batch) - set(REQUIRED))
    if unknown:
        raise _fail(f"unknown field(s) {', '.join(map(str, unknown[:5]))}")
    if not isinstance(batch["token"], str) or batch["token"] != token:
        raise _fail("it belongs to another session or browser tab (token mismatch); reload the page")
    index = batch["section_index"]
    if isinstance(index, bool) or not isinstance(index, int):
        raise _fail(f"section_index must be an integer, got {type(index).__name__}")
    if index != section_index:
        raise _fail(f"it is for sentence {index + 1}, but sentence {section_index + 1} is being typed")
    text = _text(batch["text"], "text", MAX_TEXT)
    events = batch["events"]
    if not isinstance(events, list):
        raise _fail(f"events must be a list, got {type(events).__name__}")
    if not events:
        raise _fail("no keystrokes were captured; type the sentence, then press Enter")
    if len(events) > MAX_EVENTS:
        raise _fail(f"{len(events)} key presses for one sentence; the limit is {MAX_EVENTS}")

    now = now_ms if now_ms is not None else datetime.now(UTC).timestamp() * 1000
    latest = now + FUTURE_SLACK_MS
    started = _number(batch["started_at"], "started_at")
    submitted = _number(batch["submitted_at"], "submitted_at")
    presses: list[int] = []
    releases: list[int | None] = []
    letters: list[str] = []
    codes: list[int] = []
    previous = -math.inf
    for i, event in enumerate(events):
        where = f"event {i}"
        if not isinstance(event, dict):
            raise _fail(f"{where} must be an object, got {type(event).__name__}")
        absent = [f for f in EVENT_FIELDS if f not in event]
        if absent:
            raise _fail(f"{where} is missing {', '.join(absent)}")
        key = _text(event["key"], f"{where} key", MAX_KEY_NAME)
        _text(event["code"], f"{where} code", MAX_KEY_NAME, allow_empty=True)
        code = event["keyCode"]
        if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 1023:
            raise _fail(f"{where} keyCode must be an integer from 0 to 1023")
        press = _number(event["press"], f"{where} press")
        if not EARLIEST_MS <= press <= latest:
            raise _fail(f"{where} press time {press:.0f} is not a plausible epoch-milliseconds time")
        if press < previous:
            raise _fail(f"{where} was pressed before event {i - 1}; events must be in press order")
        previous = press
        release = event["release"]
        if release is not None:
            release = _number(release, f"{where} release")
            if release < press:
                raise _fail(f"{where} is released before it is pressed")
            if release - press > MAX_HOLD_MS:
                raise _fail(f"{where} is held for {release - press:.0f} ms; the limit is {MAX_HOLD_MS}")
            releases.append(round(release))
        else:
            releases.append(None)
        presses.append(round(press))
        letters.append(letter_for(key))
        codes.append(code)
    if not (EARLIEST_MS <= started <= presses[0] + 1 and presses[-1] - 1 <= submitted <= latest):
        raise _fail("started_at/submitted_at do not enclose the key presses")
    if submitted - started > MAX_SECTION_MS:
        raise _fail("the sentence took longer than 30 minutes; start it again")

    n = len(presses)
    created = datetime.now(UTC)
    frame = pl.DataFrame(
        {
            "participant_id": [participant_id] * n,
            "session_id": [session_id] * n,
            "test_section_id": [test_section_id] * n,
            "sentence": [sentence] * n,
            "user_input": [text] * n,
            "keystroke_id": list(range(n)),
            "press_time": presses,
            "release_time": releases,
            "letter": letters,
            "keycode": codes,
            "created_at": [created] * n,
        },
        schema=KEYSTROKES.schema,
    )
    return CapturedSection(
        keystrokes=frame,
        user_input=text,
        started_at=datetime.fromtimestamp(started / 1000, UTC),
        completed_at=datetime.fromtimestamp(submitted / 1000, UTC),
    )
