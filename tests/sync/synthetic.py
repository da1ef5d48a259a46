"""Synthetic stores of any size, written fast in the CSV store's own format (bench and bulk tests).

The live path pays an fsync per file; these helpers skip it, since they measure or test sync, not
the disk. Sessions `s000000`... belong to participants `p00000`... (ten sessions each).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from flowtype_core.schema import KEYSTROKES, SECTIONS, SESSIONS
from flowtype_core.store.csv_store import _to_csv

LETTERS = list("abcdefghijklmnopqrstuvwxyz ")


def synthetic(
    sessions: int, sections: int, keys: int, *, seed: int = 7, first_session: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Keystrokes and section rows of sessions `first_session`.. `first_session + sessions - 1`."""
    rng = np.random.default_rng(seed)
    rows = sessions * sections * keys
    i = np.arange(rows)
    session = first_session + i // (sections * keys)
    section = (i // keys) % sections
    participant = session // 10
    sentence = "".join(random.Random(seed).choices(LETTERS, k=keys))
    press = 1_700_000_000_000 + i * 180 + rng.integers(0, 60, rows)
    keystrokes = KEYSTROKES.conform(
        pl.DataFrame(
            {
                "participant_id": pl.Series(participant).cast(pl.String).str.zfill(5).str.replace("^", "p"),
                "session_id": pl.Series(session).cast(pl.String).str.zfill(6).str.replace("^", "s"),
                "sentence": sentence,
                "user_input": sentence,
                "keystroke_id": i % keys,
                "press_time": press,
                "release_time": press + rng.integers(60, 140, rows),
                "letter": np.array(LETTERS)[rng.integers(0, len(LETTERS), rows)],
                "keycode": 65,
                "created_at": datetime.now(UTC),
            }
        ).with_columns(
            pl.format("{}_s{}", pl.col("session_id"), pl.Series(section).cast(pl.String).str.zfill(3)).alias(
                "test_section_id"
            )
        )
    )
    now = datetime.now(UTC)
    section_rows = SECTIONS.conform(
        keystrokes.group_by("participant_id", "session_id", "test_section_id", maintain_order=True)
        .agg(pl.first("sentence"), pl.first("user_input"), pl.len().cast(pl.Int64).alias("keystroke_count"))
        .with_columns(
            sentence_id=pl.lit("bench"),
            started_at=pl.lit(now),
            completed_at=pl.lit(now),
            wpm=pl.lit(50.0),
            error_rate=pl.lit(0.0),
            kspc=pl.lit(1.0),
            mean_iki_ms=pl.lit(180.0),
        )
    )
    return keystrokes, section_rows


def write_store(root: Path, keystrokes: pl.DataFrame, sections: pl.DataFrame) -> None:
    """One folder per session (keystrokes, sections, session row) with the store's CSV serialiser."""
    now = datetime.now(UTC)
    sessions = SESSIONS.conform(
        sections.group_by("participant_id", "session_id").agg(
            pl.len().cast(pl.Int64).alias("sentence_count"),
            pl.col("keystroke_count").sum().alias("total_keystrokes"),
            pl.col("wpm").mean().alias("average_wpm"),
            pl.col("error_rate").mean().alias("average_error_rate"),
            pl.lit(now).alias("created_at"),
            pl.lit(now).alias("ended_at"),
            pl.lit("completed").alias("status"),
        )
    )
    key = ["participant_id", "session_id"]
    by_session = sections.partition_by(key, as_dict=True)
    rows = sessions.partition_by(key, as_dict=True)
    for (participant_id, session_id), presses in keystrokes.partition_by(key, as_dict=True).items():
        folder = root / "sessions" / participant_id / session_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "keystrokes.csv").write_bytes(_to_csv(presses))
        (folder / "sections.csv").write_bytes(_to_csv(by_session[participant_id, session_id]))
        (folder / "session.csv").write_bytes(_to_csv(rows[participant_id, session_id]))
