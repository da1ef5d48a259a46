"""The one interface every lakehouse backend implements (local Delta, Databricks, ...).

Semantics shared by all backends (SPEC §2, §3.3):
- `replace_sections` replaces, per table, every row of the given sections in one atomic commit:
  a re-submission never appends, leaves no leftovers, and readers never see half a section.
- Writes retry on concurrent-commit conflicts; only a backend that is down raises
  `LakehouseUnavailable` (the caller keeps the work in the outbox).
- Reads return polars frames conformed to `flowtype_core.schema`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import polars as pl

from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
from flowtype_core.predicates import key_frame
from flowtype_core.schema import TABLES

if TYPE_CHECKING:
    from flowtype_core.config import Settings


class Lakehouse(ABC):
    """A place that holds the keystrokes, sections, sessions and participants tables."""

    name: str

    @classmethod
    def settings_problems(cls, settings: Settings) -> list[str]:
        """What this backend still needs from the settings (strict mode); a local one needs nothing."""
        return []

    @abstractmethod
    def ensure_tables(self) -> None:
        """Create missing tables and add the columns a table predates (idempotent, loses nothing)."""

    @abstractmethod
    def replace_sections(self, sections: pl.DataFrame, keystrokes: pl.DataFrame) -> None:
        """Make the lakehouse hold exactly these rows for each section in `sections`.

        `keystrokes` holds every press of those sections (possibly none for a section).
        """

    @abstractmethod
    def upsert_sessions(self, sessions: pl.DataFrame) -> None:
        """Insert or replace session rows by (participant_id, session_id)."""

    @abstractmethod
    def replace_participants(self, participant_ids: Sequence[str], rows: pl.DataFrame) -> None:
        """Make the participants table hold exactly `rows` for these participants (one commit)."""

    @abstractmethod
    def read_table(self, table: str, *, participant_id: str | None = None) -> pl.DataFrame:
        """The whole table (or one participant's rows), conformed to the contract."""

    @abstractmethod
    def delete_sections(self, keys: pl.DataFrame) -> int:
        """Remove sections (keys: participant_id, test_section_id) from every table; rows removed."""

    @abstractmethod
    def delete_participants(self, participant_ids: Sequence[str]) -> int:
        """Remove every row of these participants from all four tables (an erasure); rows removed.

        The sessions table goes last: while any row is left the id still reads as owned
        (`flowtype_core.ownership`), so a half-done erasure never frees it for a new account.
        """

    def section_fingerprints(self) -> pl.DataFrame:
        """Per section: keystroke row count and content checksum, for sync validation.

        Backends may override with a pushed-down query; the result must equal this default.
        """
        from flowtype_core.fingerprint import section_fingerprints

        return section_fingerprints(self.read_table("keystrokes"), self.read_table("sections"))

    def data_version(self) -> str | None:
        """A token that changes whenever any table changes, for caches of derived results.

        None when the backend cannot name one cheaply; callers then expire caches by time.
        """
        return None

    def maintain(self) -> dict[str, object]:
        """Compact small files and remove unreferenced ones; returns what was done."""
        return {}

    def close(self) -> None:  # noqa: B027
        """Release connections; most backends hold none."""


def check_table(table: str) -> str:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; tables are {sorted(TABLES)}")
    return table


def participant_keys(values: Iterable[str]) -> pl.DataFrame:
    """Distinct participant ids, validated for use in predicates, as a one-column key frame."""
    ids = sorted({check_id(p, "participant_id") for p in values})
    return key_frame([(p,) for p in ids], ("participant_id",))


def section_keys(frame: pl.DataFrame) -> list[tuple[str, str]]:
    """Distinct (participant_id, test_section_id) pairs, validated for use in predicates."""
    pairs = frame.select("participant_id", "test_section_id").unique().rows()
    return [(check_id(p, "participant_id"), check_id(s, "test_section_id")) for p, s in pairs]


def batch_section_keys(sections: pl.DataFrame, keystrokes: pl.DataFrame) -> list[tuple[str, str]]:
    """The validated sections of a replace batch; every keystroke must belong to one of them."""
    pairs = section_keys(sections)
    stray = set(keystrokes.select("participant_id", "test_section_id").unique().rows()) - set(pairs)
    if stray:
        raise InvalidInput(f"keystrokes of sections that are not in this batch: {sorted(stray)[:3]}")
    return pairs
