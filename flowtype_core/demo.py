"""Synthetic typists, so a first run is never empty.

Each demo batch is built exactly as the browser component would send it and goes through the
same validation, CSV store and outbox as a live session. The typing model follows what keystroke
studies report: lognormal inter-key intervals, holds quantised near 8 ms (browser timer
granularity), overlapping keys (rollover), Shift for capitals, and typos that are mostly
corrected with Backspace.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flowtype_core.corpus import Sentence, pick_sentences
from flowtype_core.progress import Progress, counted
from flowtype_core.recorder import Recorder

_ROWS = ["1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./"]
_SHIFTED = {
    "!": "1",
    "@": "2",
    "#": "3",
    "$": "4",
    "%": "5",
    "?": "/",
    ":": ";",
    '"': "'",
    "(": "9",
    ")": "0",
}
_KEYCODES = {
    " ": 32,
    ",": 188,
    ".": 190,
    "/": 191,
    ";": 186,
    "'": 222,
    "-": 189,
    "=": 187,
    "[": 219,
    "]": 221,
}
_CODES = {
    " ": "Space",
    ",": "Comma",
    ".": "Period",
    "/": "Slash",
    ";": "Semicolon",
    "'": "Quote",
    "-": "Minus",
    "=": "Equal",
    "[": "BracketLeft",
    "]": "BracketRight",
}


@dataclass(frozen=True)
class TypistProfile:
    """How one synthetic person types."""

    iki_median_ms: float
    iki_sigma: float
    hold_mean_ms: float
    typo_rate: float
    correction_rate: float

    @classmethod
    def draw(cls, rng: random.Random) -> TypistProfile:
        return cls(
            iki_median_ms=rng.uniform(130, 330),
            iki_sigma=rng.uniform(0.35, 0.6),
            hold_mean_ms=rng.uniform(85, 140),
            typo_rate=rng.uniform(0.005, 0.04),
            correction_rate=rng.uniform(0.75, 0.97),
        )


def _base_key(ch: str) -> str:
    return _SHIFTED.get(ch, ch.lower())


def _key_event(ch: str) -> tuple[str, int]:
    base = _base_key(ch)
    if base in string.ascii_lowercase:
        return f"Key{base.upper()}", ord(base.upper())
    if base in string.digits:
        return f"Digit{base}", ord(base)
    return _CODES.get(base, "Unidentified"), _KEYCODES.get(base, 0)


def _neighbour(ch: str, rng: random.Random) -> str:
    base = _base_key(ch)
    for row in _ROWS:
        if base in row:
            i = row.index(base)
            choices = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            return rng.choice(choices)
    return rng.choice(string.ascii_lowercase)


class _Timeline:
    """Accumulates events; each press starts one inter-key interval after the previous one."""

    def __init__(self, profile: TypistProfile, rng: random.Random, start_ms: float) -> None:
        self.profile, self.rng, self.t = profile, rng, start_ms
        self.events: list[dict[str, Any]] = []

    def _hold(self) -> float:
        raw = max(30.0, self.rng.gauss(self.profile.hold_mean_ms, 22))
        return round(raw / 8) * 8 + self.rng.uniform(-0.4, 0.4)

    def _iki(self) -> float:
        return self.profile.iki_median_ms * self.rng.lognormvariate(0, self.profile.iki_sigma)

    def press(self, key: str, code: str, key_code: int, *, gap: float | None = None) -> dict[str, Any]:
        """Press a key `gap` ms after the previous press (a fresh inter-key interval by default)."""
        if self.events:
            self.t += self._iki() if gap is None else gap
        event = {
            "key": key,
            "code": code,
            "keyCode": key_code,
            "press": self.t,
            "release": self.t + self._hold(),
        }
        self.events.append(event)
        return event

    def type_char(self, ch: str) -> None:
        code, key_code = _key_event(ch)
        if ch.isupper() or ch in _SHIFTED:
            shift = self.press("Shift", "ShiftLeft", 16)
            char = self.press(ch, code, key_code, gap=self.rng.uniform(40, 110))  # follows Shift closely
            shift["release"] = max(shift["release"], char["press"] + self.rng.uniform(20, 60))
        else:
            self.press(ch, code, key_code)

    def backspace(self) -> None:
        self.press("Backspace", "Backspace", 8)


def synthesize_batch(
    sentence: str,
    profile: TypistProfile,
    rng: random.Random,
    *,
    start_ms: float,
    token: str,
    section_index: int,
) -> dict[str, Any]:
    """The payload the browser component would send for this typist typing `sentence`."""
    line = _Timeline(profile, rng, start_ms + rng.uniform(300, 1200))
    typed: list[str] = []
    i = 0
    while i < len(sentence):
        ch = sentence[i]
        if ch != " " and rng.random() < profile.typo_rate:
            wrong = _neighbour(ch, rng)
            line.type_char(wrong)
            if rng.random() < profile.correction_rate:
                extra = min(rng.choice([0, 0, 1, 2]), len(sentence) - i - 1)
                for ahead in sentence[i + 1 : i + 1 + extra]:
                    line.type_char(ahead)
                line.t += rng.uniform(150, 450)  # noticing the mistake
                for _ in range(extra + 1):
                    line.backspace()
            else:
                typed.append(wrong)
                i += 1
                continue
        line.type_char(ch)
        typed.append(ch)
        i += 1
    events = sorted(line.events, key=lambda e: e["press"])
    return {
        "token": token,
        "section_index": section_index,
        "text": "".join(typed),
        "started_at": start_ms,
        "submitted_at": max(e["release"] for e in events) + rng.uniform(80, 300),
        "events": events,
    }


def generate_demo(
    recorder: Recorder,
    *,
    participants: int = 8,
    sessions_per_participant: int = 3,
    sentences_per_session: int = 10,
    seed: int = 7,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Create demo participants `demo-01`... with sessions spread over the past weeks."""
    if not 1 <= participants <= 500:
        raise ValueError("demo participants must be between 1 and 500")
    rng = random.Random(seed)
    now = datetime.now(UTC)
    totals = {"participants": participants, "sessions": 0, "sections": 0, "keystrokes": 0}
    for p in range(participants):
        participant_id = f"demo-{p + 1:02d}"
        profile = TypistProfile.draw(rng)
        for s in range(sessions_per_participant):
            started = now - timedelta(days=7 * (sessions_per_participant - s), hours=rng.uniform(0, 48))
            handle = recorder.start_session(participant_id, consented_at=started, started_at=started)
            clock = started.timestamp() * 1000
            for index, sentence in enumerate(_sentences(rng, sentences_per_session)):
                batch = synthesize_batch(
                    sentence.text, profile, rng, start_ms=clock, token=handle.token, section_index=index
                )
                result = recorder.submit_section(handle, index, sentence, batch)
                clock = batch["submitted_at"] + rng.uniform(1500, 5000)
                totals["sections"] += 1
                totals["keystrokes"] += result.keystroke_count
            recorder.end_session(
                handle, status="completed", ended_at=datetime.fromtimestamp(clock / 1000, UTC)
            )
            totals["sessions"] += 1
            # typists improve a little from session to session
            profile = TypistProfile(
                profile.iki_median_ms * rng.uniform(0.9, 0.99),
                profile.iki_sigma,
                profile.hold_mean_ms,
                profile.typo_rate,
                profile.correction_rate,
            )
        counted(progress, p + 1, participants, "typists")
    return totals


def _sentences(rng: random.Random, n: int) -> list[Sentence]:
    return pick_sentences(n, seed=rng.randrange(2**31))
