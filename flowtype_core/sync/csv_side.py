"""The CSV store's side of sync validation: section fingerprints and a change stamp per session.

The CSV side is the expensive one (a file pair per session), so the validator keeps fingerprints
with each session's file stamp (inode, size, mtime) and re-reads only sessions whose stamp
changed. The files of the changed sessions are parsed in one call per kind, not one by one; if a
file spoils that scan, session by session, and the unreadable ones are reported.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import polars as pl

from flowtype_core.fingerprint import (
    CONTENT_COLUMNS,
    FINGERPRINT_SCHEMA,
    participant_fingerprints,
    section_fingerprints,
)
from flowtype_core.redaction import redact
from flowtype_core.schema import KEYSTROKES, SECTIONS, ColumnType
from flowtype_core.store.csv_store import SessionStore, read_csv_files
from flowtype_core.sync.report import SESSION_KEY

log = logging.getLogger(__name__)

SESSION_KEY_SCHEMA: dict[str, ColumnType] = {"participant_id": pl.String, "session_id": pl.String}
# Only the columns the fingerprint reads, typed as the store types them.
_FP_KEYSTROKE_COLUMNS = ("participant_id", "test_section_id", *CONTENT_COLUMNS)
_FP_SECTION_COLUMNS = ("participant_id", "session_id", "test_section_id", "sentence", "user_input")
_FP_FILES = (
    ("keystrokes.csv", KEYSTROKES, _FP_KEYSTROKE_COLUMNS),
    ("sections.csv", SECTIONS, _FP_SECTION_COLUMNS),
)
STAMP_SCHEMA: dict[str, ColumnType] = {
    "participant_id": pl.String,
    "session_id": pl.String,
    "stamp": pl.String,
    "changed_ns": pl.Int64,
}


def csv_fingerprints(root: Path, sessions: pl.DataFrame) -> pl.DataFrame:
    """Fingerprints of every section of `sessions` (participant_id, session_id), one parse per file kind."""
    if sessions.is_empty():
        return pl.DataFrame(schema=FINGERPRINT_SCHEMA)
    folders = [os.path.join(root, p, s) for p, s in sessions.select(SESSION_KEY).iter_rows()]
    keystrokes, sections = (
        read_csv_files([os.path.join(folder, name) for folder in folders], spec, columns)
        for name, spec, columns in _FP_FILES
    )
    return section_fingerprints(keystrokes, sections)


def session_stamps(root: Path) -> pl.DataFrame:
    """Every session folder with a stamp of its keystroke and section files (changes on each rewrite)."""
    rows: list[tuple[str, str, str, int]] = []
    if not root.is_dir():
        return pl.DataFrame(schema=STAMP_SCHEMA)
    with os.scandir(root) as participants:
        for participant in participants:
            if not participant.is_dir() or participant.name.startswith("."):
                continue
            with os.scandir(participant.path) as sessions:
                for session in sessions:
                    if not session.is_dir() or session.name.startswith("."):
                        continue
                    parts, changed = [], 0
                    for name, _, _ in _FP_FILES:
                        try:
                            st = os.stat(os.path.join(session.path, name))
                        except FileNotFoundError:
                            parts.append("-")
                            continue
                        parts.append(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
                        changed = max(changed, st.st_mtime_ns, st.st_ctime_ns)
                    rows.append((participant.name, session.name, "|".join(parts), changed))
    return pl.DataFrame(rows, schema=STAMP_SCHEMA, orient="row")


def read_fingerprints(
    root: Path, sessions: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, str], pl.DataFrame]:
    """Fingerprints of `sessions` in one scan; if a file spoils the scan, session by session.

    Returns the fingerprints, an error per unreadable session, and those sessions' keys.
    """
    try:
        return csv_fingerprints(root, sessions), {}, sessions.select(SESSION_KEY).clear()
    except (pl.exceptions.PolarsError, OSError) as exc:
        log.warning("bulk CSV scan failed (%s); reading %d sessions one by one", exc, sessions.height)
    frames, errors, bad = [], {}, []
    for key in sessions.select(SESSION_KEY).iter_rows():
        try:
            frames.append(
                csv_fingerprints(root, pl.DataFrame([key], schema=SESSION_KEY_SCHEMA, orient="row"))
            )
        except (pl.exceptions.PolarsError, OSError) as exc:
            errors[f"csv:{key[0]}/{key[1]}"] = redact(f"{type(exc).__name__}: {exc}")[:500]
            bad.append(key)
    fps = pl.concat(frames) if frames else pl.DataFrame(schema=FINGERPRINT_SCHEMA)
    return fps, errors, pl.DataFrame(bad, schema=SESSION_KEY_SCHEMA, orient="row")


def participant_rows(store: SessionStore, errors: dict[str, str]) -> pl.DataFrame:
    """The participants file's fingerprints (one small file: always read afresh, never cached);
    an unreadable file is noted in `errors` and gives none."""
    try:
        return participant_fingerprints(store.read_participants())
    except (pl.exceptions.PolarsError, OSError) as exc:
        errors["csv:participants"] = redact(f"{type(exc).__name__}: {exc}")[:500]
        return pl.DataFrame(schema=FINGERPRINT_SCHEMA)
