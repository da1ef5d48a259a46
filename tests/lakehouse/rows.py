"""Contract-shaped rows for the lakehouse tests: sections with their presses, and sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from flowtype_core.schema import KEYSTROKES, SECTIONS, SESSIONS, TableSpec

T0 = datetime(2026, 11, 22, 14, 30, 22, 123456, tzinfo=UTC)


def original(spec: TableSpec) -> dict[str, pl.DataType]:
    """The columns a table had before `added` (writers that predate them)."""
    return {c: t for c, t in spec.columns.items() if c not in spec.added}


def section(
    participant_id: str,
    test_section_id: str,
    presses: int,
    *,
    session_id: str = "20261122_143022_123",
    sentence: str = "the quick brown fox",
    user_input: str | None = None,
    letters: str = "abcdefghij",
    start: int = 1_763_821_822_000,
    wpm: float | None = 42.5,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One section row and its presses, shaped by the contracts."""
    typed = sentence if user_input is None else user_input
    created = T0 + timedelta(seconds=presses)
    keystrokes = pl.DataFrame(
        {
            "participant_id": [participant_id] * presses,
            "session_id": [session_id] * presses,
            "test_section_id": [test_section_id] * presses,
            "sentence": [sentence] * presses,
            "user_input": [typed] * presses,
            "keystroke_id": list(range(presses)),
            "press_time": [start + 180 * i for i in range(presses)],
            "release_time": [None if i == presses - 1 else start + 180 * i + 95 for i in range(presses)],
            "letter": [letters[i % len(letters)] for i in range(presses)],
            "keycode": [65 + i % 26 for i in range(presses)],
            "created_at": [created] * presses,
        },
        schema=KEYSTROKES.schema,
    )
    sections = SECTIONS.conform(
        pl.DataFrame(
            {
                "participant_id": [participant_id],
                "session_id": [session_id],
                "test_section_id": [test_section_id],
                "sentence_id": ["s0001"],
                "sentence": [sentence],
                "user_input": [typed],
                "started_at": [T0],
                "completed_at": [created],
                "keystroke_count": [presses],
                "wpm": [wpm],
                "error_rate": [0.0],
                "kspc": [1.05],
                "mean_iki_ms": [180.0 if presses > 1 else None],
            },
            schema=original(SECTIONS),
        )
    )
    return sections, keystrokes


def session(
    participant_id: str, session_id: str, *, status: str = "in_progress", count: int = 1
) -> pl.DataFrame:
    return SESSIONS.conform(
        pl.DataFrame(
            {
                "participant_id": [participant_id],
                "session_id": [session_id],
                "created_at": [T0],
                "ended_at": [None if status == "in_progress" else T0 + timedelta(minutes=5)],
                "status": [status],
                "sentence_count": [count],
                "total_keystrokes": [count * 20],
                "average_wpm": [51.5],
                "average_error_rate": [1.2],
            },
            schema=original(SESSIONS),
        )
    )


def batch(*parts: tuple[pl.DataFrame, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Several sections as one submission."""
    return pl.concat([p[0] for p in parts]), pl.concat([p[1] for p in parts])


def ordered(frame: pl.DataFrame, key: tuple[str, ...]) -> pl.DataFrame:
    return frame.sort(list(key))
