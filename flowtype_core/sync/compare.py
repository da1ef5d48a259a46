"""Comparing the CSV store's fingerprints with each lakehouse's into one status per section.

Each lakehouse is read in one scan per run, so rows changed behind the app's back are always
seen; a lakehouse that cannot be read is reported and its sections are `unverified`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import polars as pl

from flowtype_core.fingerprint import FINGERPRINT_SCHEMA, participant_fingerprints
from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.redaction import redact
from flowtype_core.sync.outbox import ERASE, SESSION_ROW, Outbox
from flowtype_core.sync.report import (
    CHECKSUM_MISMATCH,
    COUNT_MISMATCH,
    IN_SYNC,
    MISSING,
    ORPHAN,
    PENDING,
    REPORT_SCHEMA,
    SECTION_KEY,
    SESSION_KEY,
    UNVERIFIED,
)

log = logging.getLogger(__name__)


def pending_sections(outbox: Outbox) -> pl.DataFrame:
    """(lakehouse, participant_id, test_section_id) the outbox holds work for; a null section
    stands for every section of the participant (an erasure on its way)."""
    rows = [
        (e.lakehouse, e.participant_id, None if e.section == ERASE else e.section)
        for e in outbox.entries()
        if e.section != SESSION_ROW
    ]
    schema = {"lakehouse": pl.String, "participant_id": pl.String, "test_section_id": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row").unique()


def compare(
    csv_fps: pl.DataFrame,
    lakehouses: Mapping[str, Lakehouse],
    pending: pl.DataFrame,
    unreadable: pl.DataFrame,
    errors: dict[str, str],
) -> pl.DataFrame:
    """The report rows of every lakehouse (REPORT_SCHEMA); one that is down is noted in `errors`."""
    frames = []
    for name, lakehouse in lakehouses.items():
        lake_fps: pl.DataFrame | None
        try:
            lake_fps = pl.concat(
                [
                    lakehouse.section_fingerprints(),
                    participant_fingerprints(lakehouse.read_table("participants")),
                ]
            )
        except Exception as exc:  # a lakehouse that is down is reported, never fatal
            errors[name] = redact(f"{type(exc).__name__}: {exc}")[:500]
            log.warning("validation could not read lakehouse %s: %s", name, errors[name])
            lake_fps = None
        frames.append(statuses(name, csv_fps, lake_fps, pending, unreadable))
    if not frames:
        return pl.DataFrame(schema=REPORT_SCHEMA)
    return pl.concat(frames).sort("lakehouse", *SESSION_KEY, "test_section_id")


def statuses(
    name: str,
    csv_fps: pl.DataFrame,
    lake_fps: pl.DataFrame | None,
    pending: pl.DataFrame,
    unreadable: pl.DataFrame,
) -> pl.DataFrame:
    """One lakehouse's report rows: the CSV and lakehouse fingerprints joined, each given its status."""
    reachable = lake_fps is not None
    lake = lake_fps if lake_fps is not None else pl.DataFrame(schema=FINGERPRINT_SCHEMA)
    joined = csv_fps.rename({"rows": "csv_rows", "checksum": "csv_checksum"}).join(
        lake.rename(
            {"rows": "lakehouse_rows", "checksum": "lakehouse_checksum", "session_id": "_lake_session"}
        ),
        on=SECTION_KEY,
        how="full",
        coalesce=True,
    )
    mine = pending.filter(pl.col("lakehouse") == name)
    queued = mine.drop_nulls().select(SECTION_KEY).with_columns(_queued=pl.lit(True))
    erasing = (
        mine.filter(pl.col("test_section_id").is_null())
        .select("participant_id")
        .with_columns(_erasing=pl.lit(True))
    )
    bad_csv = unreadable.with_columns(_unreadable=pl.lit(True))
    joined = (
        joined.with_columns(pl.coalesce("session_id", "_lake_session").alias("session_id"))
        .join(queued, on=SECTION_KEY, how="left")
        .join(erasing, on="participant_id", how="left")
        .join(bad_csv, on=SESSION_KEY, how="left")
    )
    status = (
        pl.when(pl.col("_queued").fill_null(False) | pl.col("_erasing").fill_null(False))
        .then(pl.lit(PENDING))
        .when(pl.col("_unreadable").fill_null(False) | pl.lit(not reachable))
        .then(pl.lit(UNVERIFIED))
        .when(pl.col("csv_rows").is_null())
        .then(pl.lit(ORPHAN))
        .when(pl.col("lakehouse_rows").is_null())
        .then(pl.lit(MISSING))
        .when(pl.col("csv_rows") != pl.col("lakehouse_rows"))
        .then(pl.lit(COUNT_MISMATCH))
        .when(pl.col("csv_checksum") != pl.col("lakehouse_checksum"))
        .then(pl.lit(CHECKSUM_MISMATCH))
        .otherwise(pl.lit(IN_SYNC))
    )
    return joined.with_columns(pl.lit(name).alias("lakehouse"), status.alias("status")).select(
        [pl.col(c).cast(t) for c, t in REPORT_SCHEMA.items()]
    )
