"""The rows an export holds: the lakehouse tables, narrowed to one study and/or valid sections."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from flowtype_core.ids import check_id
from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.schema import KEYSTROKES, PARTICIPANTS, SECTIONS, SESSIONS


@dataclass(frozen=True)
class ExportTables:
    """Keystrokes, sections, sessions and participants that belong together after filtering."""

    keystrokes: pl.DataFrame
    sections: pl.DataFrame
    sessions: pl.DataFrame
    participants: pl.DataFrame


def select_tables(
    lakehouse: Lakehouse, *, study: str | None = None, valid_only: bool = False
) -> ExportTables:
    """Read the four tables and keep what the filters admit; keystrokes follow their sections.

    `valid_only` keeps sections whose `valid` is true (SPEC §2 additions: flag, don't reject), and
    the sessions that still hold a section.
    """
    sections = lakehouse.read_table(SECTIONS.name)
    sessions = lakehouse.read_table(SESSIONS.name)
    participants = lakehouse.read_table(PARTICIPANTS.name)
    if study is not None:
        check_id(study, "study")
        sections = sections.filter(pl.col("study_id") == study)
        sessions = sessions.filter(pl.col("study_id") == study)
        participants = participants.filter(pl.col("study_id") == study)
    if valid_only:
        sections = sections.filter(pl.col("valid").fill_null(value=True))
    section_keys = sections.select(SECTIONS.key)
    keystrokes = lakehouse.read_table(KEYSTROKES.name).join(section_keys, on=list(SECTIONS.key), how="semi")
    if study is not None or valid_only:
        sessions = sessions.join(sections.select(SESSIONS.key).unique(), on=list(SESSIONS.key), how="semi")
    return ExportTables(
        keystrokes.sort("participant_id", "session_id", "test_section_id", "keystroke_id"),
        sections.sort("participant_id", "session_id", "test_section_id"),
        sessions.sort("participant_id", "session_id"),
        participants.sort("participant_id", "study_id"),
    )


UNWRITABLE_REASON = "a tab or line break in a text field (tab-separated layouts have no quoting)"
_SECTION = ["participant_id", "session_id", "test_section_id"]


def unwritable_sections(keystrokes: pl.DataFrame) -> pl.DataFrame:
    """Sections a tab-separated, unquoted file cannot hold as they are (left out, never altered)."""
    text = ("sentence", "user_input", "letter")
    bad = pl.any_horizontal(pl.col(c).fill_null("").str.contains(r"[\t\r\n]") for c in text)
    return keystrokes.filter(bad).select(_SECTION).unique()
