"""Per-section row counts and content checksums, computed one way for every store.

The CSV store and each lakehouse are fingerprinted by this same function, so a difference in
the result is a difference in content, never in how it was measured.
"""

from __future__ import annotations

import polars as pl

from flowtype_core.schema import PARTICIPANTS, ColumnType

PARTICIPANT_ROW = "_participant"  # the session and section name a participant's participants rows go by
CONTENT_COLUMNS = ("session_id", "keystroke_id", "press_time", "release_time", "letter", "keycode")
FINGERPRINT_SCHEMA: dict[str, ColumnType] = {
    "participant_id": pl.String,
    "session_id": pl.String,
    "test_section_id": pl.String,
    "rows": pl.Int64,
    "checksum": pl.String,
}


def section_fingerprints(
    keystrokes: pl.DataFrame | pl.LazyFrame, sections: pl.DataFrame | pl.LazyFrame
) -> pl.DataFrame:
    """One row per section found in either table: keystroke rows and an order-free checksum.

    Keystrokes whose section row is missing still form a section here (its checksum says the row
    is missing), so presses left without their section are reported, never invisible.
    """
    row_text = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("\x00") for c in CONTENT_COLUMNS], separator="\x1f"
    )
    per_section = (
        keystrokes.lazy()
        .group_by("participant_id", "test_section_id")
        .agg(
            pl.col("session_id").first().alias("_keystroke_session"),
            pl.len().cast(pl.Int64).alias("rows"),
            row_text.hash(seed=7).cast(pl.UInt64).sum().alias("_k"),
        )
    )
    meta_text = pl.concat_str(
        [pl.col("sentence").fill_null(""), pl.col("user_input").fill_null("")], separator="\x1f"
    )
    return (
        sections.lazy()
        .select("participant_id", "session_id", "test_section_id", meta_text.hash(seed=11).alias("_m"))
        .join(per_section, on=["participant_id", "test_section_id"], how="full", coalesce=True)
        .with_columns(
            pl.coalesce("session_id", "_keystroke_session").alias("session_id"),
            pl.col("rows").fill_null(0),
            pl.format(
                "{}-{}", pl.col("_m").cast(pl.String).fill_null("no-section-row"), pl.col("_k").fill_null(0)
            ).alias("checksum"),
        )
        .select(list(FINGERPRINT_SCHEMA))
        .collect()
        .cast(pl.Schema(FINGERPRINT_SCHEMA))
    )


def participant_fingerprints(rows: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per participant, their participants-table rows as one fingerprint row (named PARTICIPANT_ROW).

    Validation and resync treat it like a section, so the participants table is compared and
    repaired by the same statuses and the same outbox.
    """
    row_text = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("\x00") for c in PARTICIPANTS.columns], separator="\x1f"
    )
    return (
        rows.lazy()
        .group_by("participant_id")
        .agg(pl.len().cast(pl.Int64).alias("rows"), row_text.hash(seed=13).cast(pl.UInt64).sum().alias("_p"))
        .select(
            "participant_id",
            pl.lit(PARTICIPANT_ROW).alias("session_id"),
            pl.lit(PARTICIPANT_ROW).alias("test_section_id"),
            "rows",
            pl.col("_p").cast(pl.String).alias("checksum"),
        )
        .collect()
        .cast(pl.Schema(FINGERPRINT_SCHEMA))
    )
