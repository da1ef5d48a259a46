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
from flowtype_core.provenance import Provenance, parse_provenance
from flowtype_core.schema import KEYSTROKES

MAX_EVENTS = 2_000  # a 200-character sentence typed ten times over
MAX_SECTIONS = 1_000  # sentence indexes run from 0 to 999
MAX_TEXT = 1_000
MAX_KEY_NAME = 32
MAX_KEYCODE = 1023
MAX_BATCH_BYTES = 512 * 1024
MAX_HOLD_MS = 60_000
MAX_SECTION_MS = 30 * 60_000
# Press times are on the browser's clock; a computer whose clock is set to local time instead of
# UTC is off by up to 14 hours, so a day either side of the server's clock is accepted, no more.
CLOCK_TOLERANCE_MS = 24 * 3600_000
# Faster than anyone types (10 ms per key is 1,200 WPM); checked only past a short burst, where
# rollover and a coarse browser timer can put several presses on one millisecond.
MIN_MEAN_IKI_MS = 10
BURST_PRESSES = 10
MAX_EXACT_INT = 2**53  # larger integers do not survive a float, so they are no time or index
MAX_SHOWN = 40  # characters of a sender's value quoted in a message
REQUIRED = ("token", "section_index", "text", "started_at", "submitted_at", "events")
# The timing provenance the component reports for the sentence (flowtype_core.provenance).
OPTIONAL = ("provenance",)
EVENT_FIELDS = ("key", "code", "keyCode", "press", "release")
# Explicit direction marks, embeddings, overrides and isolates: they reorder how text is shown,
# so a key or an input holding one can display as something else than what was typed.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

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
    # What the capture reported about its clock and the page's attention for this sentence.
    provenance: Provenance = Provenance()


# Code points that extend the character before them rather than adding one.
JOINING = frozenset(
    "\u200d" + "".join(map(chr, range(0xFE00, 0xFE10))) + "".join(map(chr, range(0x1F3FB, 0x1F400)))
)
# Letters of keys that never put a character into the text field.
NON_TEXT_LETTERS = frozenset(KEY_NAMES.values()) - {"DEAD", "UNKNOWN"}


def letter_for(key: str) -> str:
    """The dataset's name for a key: a named key (`Backspace`, `F5`) becomes an upper-case name
    like `BKSP`; any other key value is a typed character (a combining sequence such as `e` +
    U+0301 included) and is kept exactly as sent."""
    if len(key) > 1 and key.isascii() and key.isalnum():
        return KEY_NAMES.get(key, key.upper())
    return key


def describe(value: Any) -> str:
    """A sender's value quoted in a message, cut short: a message never grows with the input."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if abs(value) < 10**15:
            return str(value)
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        if len(value) <= MAX_SHOWN:
            return repr(value)
        return f"{value[:MAX_SHOWN]!r}... ({len(value)} characters)"
    return f"a {type(value).__name__}"


def _fail(message: str) -> InvalidInput:
    return InvalidInput(f"keystroke batch rejected: {message}")


def _names(names: list[Any]) -> str:
    shown = ", ".join(describe(name) for name in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"{where} must be a number, got {type(value).__name__}")
    if isinstance(value, int) and abs(value) > MAX_EXACT_INT:
        raise _fail(f"{where} is out of range ({describe(value)})")
    if not math.isfinite(value):
        raise _fail(f"{where} must be finite")
    return float(value)


def text_problem(value: Any, limit: int, *, allow_empty: bool = False) -> str | None:
    """What is wrong with a text field (`"is empty"`, `"contains control characters"`, ...), or None.

    The one text rule for live batches and dataset imports alike.
    """
    if not isinstance(value, str):
        return f"must be text, got {type(value).__name__}"
    if len(value) > limit:
        return f"is {len(value)} characters long; the limit is {limit}"
    if not value and not allow_empty:
        return "is empty"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        return "contains control characters"
    if not BIDI_CONTROLS.isdisjoint(value):
        return "contains a text-direction control character"
    return None


def _text(value: Any, where: str, limit: int, *, allow_empty: bool = False) -> str:
    problem = text_problem(value, limit, allow_empty=allow_empty)
    if problem is not None:
        raise _fail(f"{where} {problem}")
    text: str = value  # text_problem refuses anything that is not a str
    return text


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
    except (ValueError, RecursionError) as exc:  # ValueError: also an integer of too many digits
        raise _fail(f"batch is not valid JSON ({str(exc)[:120]})") from None
    if not isinstance(parsed, dict):
        raise _fail(f"batch must be a JSON object, got {type(parsed).__name__}")
    return parsed


def _check_fields(found: Any, expected: tuple[str, ...], where: str, optional: tuple[str, ...] = ()) -> None:
    """Every expected field present, nothing else: an unknown field is refused, never stored."""
    missing = [k for k in expected if k not in found]
    if missing:
        raise _fail(f"{where} is missing {', '.join(missing)}")
    unknown = sorted((k for k in found if k not in expected and k not in optional), key=str)
    if unknown:
        raise _fail(f"{where} has unknown field(s) {_names(unknown)}")


def _section_index(value: Any, expected: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"section_index must be an integer, got {type(value).__name__}")
    if not 0 <= value < MAX_SECTIONS:
        raise _fail(f"section_index must be from 0 to {MAX_SECTIONS - 1}, got {describe(value)}")
    if value != expected:
        raise _fail(f"it is for sentence {value + 1}, but sentence {expected + 1} is being typed")
    return value


@dataclass
class _Presses:
    """The parsed events, in press order."""

    presses: list[int]
    releases: list[int | None]
    letters: list[str]
    codes: list[int]


def _parse_events(events: Any, earliest: float, latest: float) -> _Presses:
    if not isinstance(events, list):
        raise _fail(f"events must be a list, got {type(events).__name__}")
    if not events:
        raise _fail("no keystrokes were captured; type the sentence, then press Enter")
    if len(events) > MAX_EVENTS:
        raise _fail(f"{len(events)} key presses for one sentence; the limit is {MAX_EVENTS}")
    parsed = _Presses([], [], [], [])
    previous = -math.inf
    seen: set[tuple[Any, ...]] = set()
    for i, event in enumerate(events):
        where = f"event {i}"
        if not isinstance(event, dict):
            raise _fail(f"{where} must be an object, got {type(event).__name__}")
        _check_fields(event, EVENT_FIELDS, where)
        key = _text(event["key"], f"{where} key", MAX_KEY_NAME)
        key_code = _text(event["code"], f"{where} code", MAX_KEY_NAME, allow_empty=True)
        code = event["keyCode"]
        if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= MAX_KEYCODE:
            raise _fail(f"{where} keyCode must be an integer from 0 to {MAX_KEYCODE}")
        press = _number(event["press"], f"{where} press")
        if not earliest <= press <= latest:
            raise _fail(
                f"{where} press time {press:.0f} is not within a day of the server's clock;"
                " check the computer's date and time"
            )
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
        identity = (key, key_code, code, press, release)
        if identity in seen:
            raise _fail(f"{where} repeats an earlier event exactly")
        seen.add(identity)
        parsed.presses.append(round(press))
        parsed.releases.append(None if release is None else round(release))
        parsed.letters.append(letter_for(key))
        parsed.codes.append(code)
    return parsed


def _characters(text: str) -> int:
    """How many characters a reader sees: one key can put a base character plus combining marks,
    a joiner, a variation selector or an emoji modifier into the text."""
    return sum(
        not unicodedata.category(ch).startswith("M") and ch not in JOINING
        for ch in unicodedata.normalize("NFC", text)
    )


def _check_plausible(
    parsed: _Presses, text: str, started: float, submitted: float, window: tuple[float, float]
) -> None:
    """The batch as a whole must look like a person typing this text."""
    presses, (earliest, latest) = parsed.presses, window
    if not (earliest <= started <= presses[0] + 1 and presses[-1] - 1 <= submitted <= latest):
        raise _fail("started_at/submitted_at do not enclose the key presses")
    if submitted - started > MAX_SECTION_MS:
        raise _fail("the sentence took longer than 30 minutes; start it again")
    span = presses[-1] - presses[0]
    if len(presses) > BURST_PRESSES and span < (len(presses) - 1) * MIN_MEAN_IKI_MS:
        raise _fail(f"{len(presses)} key presses within {span} ms is faster than anyone types")
    typed = sum(letter not in NON_TEXT_LETTERS for letter in parsed.letters)
    characters = _characters(text)
    if characters > typed:
        raise _fail(
            f"the text has {characters} characters but only {typed} character keys were pressed;"
            " type the sentence key by key"
        )


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
    session_started_ms: float | None = None,
) -> CapturedSection:
    """Check one sentence's batch against the session it claims to belong to; build its rows.

    Times must lie between the session's start (server clock; without one, `MAX_SECTION_MS`
    before `now_ms`) and `now_ms`, each widened by `CLOCK_TOLERANCE_MS`.
    """
    for value, what in (
        (participant_id, "participant_id"),
        (session_id, "session_id"),
        (test_section_id, "test_section_id"),
    ):
        check_id(value, what)
    batch = decode_batch(raw)
    _check_fields(batch, REQUIRED, "the batch", OPTIONAL)
    if not isinstance(batch["token"], str) or batch["token"] != token:
        raise _fail("it belongs to another session or browser tab (token mismatch); reload the page")
    _section_index(batch["section_index"], section_index)
    text = _text(batch["text"], "text", MAX_TEXT)
    now = now_ms if now_ms is not None else datetime.now(UTC).timestamp() * 1000
    not_before = session_started_ms if session_started_ms is not None else now - MAX_SECTION_MS
    earliest = not_before - CLOCK_TOLERANCE_MS
    latest = now + CLOCK_TOLERANCE_MS
    started = _number(batch["started_at"], "started_at")
    submitted = _number(batch["submitted_at"], "submitted_at")
    parsed = _parse_events(batch["events"], earliest, latest)
    _check_plausible(parsed, text, started, submitted, (earliest, latest))

    n = len(parsed.presses)
    created = datetime.now(UTC)
    frame = pl.DataFrame(
        {
            "participant_id": [participant_id] * n,
            "session_id": [session_id] * n,
            "test_section_id": [test_section_id] * n,
            "sentence": [sentence] * n,
            "user_input": [text] * n,
            "keystroke_id": list(range(n)),
            "press_time": parsed.presses,
            "release_time": parsed.releases,
            "letter": parsed.letters,
            "keycode": parsed.codes,
            "created_at": [created] * n,
        },
        schema=KEYSTROKES.schema,
    )
    return CapturedSection(
        keystrokes=frame,
        user_input=text,
        started_at=datetime.fromtimestamp(started / 1000, UTC),
        completed_at=datetime.fromtimestamp(submitted / 1000, UTC),
        provenance=parse_provenance(batch.get("provenance"), submitted - started, _fail),
    )
