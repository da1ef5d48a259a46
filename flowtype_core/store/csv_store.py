"""The durable record: per-participant, per-session CSV files (SPEC §3.2).

`<data-dir>/sessions/<participant>/<session>/{keystrokes,sections,session}.csv`. Each file is
replaced atomically; a section's keystrokes are written before its section row, so a section
listed in sections.csv always has its presses in keystrokes.csv.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from flowtype_core.ids import check_id
from flowtype_core.schema import KEYSTROKES, SECTIONS, SESSIONS, TableSpec
from flowtype_core.store.atomic import atomic_write, folder_lock

FILES: dict[str, TableSpec] = {
    "keystrokes.csv": KEYSTROKES,
    "sections.csv": SECTIONS,
    "session.csv": SESSIONS,
}
SECTION_KEY = ["participant_id", "test_section_id"]


def _to_csv(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer, datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ", quote_style="necessary")
    return buffer.getvalue()


def _read_csv(path: Path, spec: TableSpec) -> pl.DataFrame:
    if not path.is_file():
        return spec.empty()
    raw = pl.read_csv(path, infer_schema=False)  # every column as text, typed below
    casts = []
    for column, dtype in spec.columns.items():
        col = pl.col(column)
        if dtype == pl.String:
            casts.append(col)
        elif isinstance(dtype, pl.Datetime):
            casts.append(
                pl.when(col == "")
                .then(None)
                .otherwise(col)
                .str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", time_zone="UTC")
                .alias(column)
            )
        else:
            casts.append(pl.when(col == "").then(None).otherwise(col).cast(dtype).alias(column))
    return raw.select(casts)


class SessionStore:
    """Reads and writes the CSV session folders under `<data-dir>/sessions`."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "sessions"
        self.root.mkdir(parents=True, exist_ok=True)

    def session_dir(self, participant_id: str, session_id: str) -> Path:
        path = self.root / check_id(participant_id, "participant_id") / check_id(session_id, "session_id")
        if self.root.resolve() not in path.resolve().parents:
            raise ValueError("session folder escapes the data directory")
        return path

    def _replace_rows(self, folder: Path, name: str, new: pl.DataFrame, keys: pl.DataFrame) -> None:
        """Drop every row matching `keys`, add `new`: a replacement, never an append."""
        spec = FILES[name]
        current = _read_csv(folder / name, spec)
        kept = current.join(keys.unique(), on=keys.columns, how="anti")
        merged = pl.concat([kept, spec.conform(new)])
        order = [c for c in ("test_section_id", "keystroke_id") if c in merged.columns]
        payload = _to_csv(merged.sort(order) if order else merged)
        atomic_write(folder / name, lambda handle: handle.write(payload))

    def replace_sections(self, sections: pl.DataFrame, keystrokes: pl.DataFrame) -> None:
        """Make each session folder hold exactly these rows for each given section."""
        for (participant_id, session_id), group in sections.group_by(["participant_id", "session_id"]):
            folder = self.session_dir(str(participant_id), str(session_id))
            section_ids = group.get_column("test_section_id")
            presses = keystrokes.filter(
                (pl.col("participant_id") == participant_id)
                & pl.col("test_section_id").is_in(section_ids.implode())
            )
            with folder_lock(folder):
                # Keyed by the sections, so a section whose new keystroke set is empty is emptied too.
                keys = group.select(SECTION_KEY)
                self._replace_rows(folder, "keystrokes.csv", presses, keys)
                self._replace_rows(folder, "sections.csv", group, keys)

    def upsert_sessions(self, sessions: pl.DataFrame) -> None:
        for (participant_id, session_id), group in sessions.group_by(["participant_id", "session_id"]):
            folder = self.session_dir(str(participant_id), str(session_id))
            with folder_lock(folder):
                latest = group.tail(1)
                self._replace_rows(
                    folder, "session.csv", latest, latest.select("participant_id", "session_id")
                )

    def read(self, name: str, participant_id: str, session_id: str) -> pl.DataFrame:
        """One session's file as a typed frame (empty when absent)."""
        return _read_csv(self.session_dir(participant_id, session_id) / name, FILES[name])

    def sessions(self, participant_id: str | None = None) -> Iterator[tuple[str, str]]:
        """(participant_id, session_id) of every session folder, sorted."""
        participants = (
            [self.root / check_id(participant_id, "participant_id")]
            if participant_id
            else sorted(p for p in self.root.iterdir() if p.is_dir())
        )
        for pdir in participants:
            if not pdir.is_dir():
                continue
            for sdir in sorted(p for p in pdir.iterdir() if p.is_dir()):
                yield pdir.name, sdir.name

    def read_all(self, name: str, participant_id: str | None = None) -> pl.DataFrame:
        """Concatenate one file over all sessions (or one participant's)."""
        frames = [self.read(name, p, s) for p, s in self.sessions(participant_id)]
        return pl.concat(frames) if frames else FILES[name].empty()
