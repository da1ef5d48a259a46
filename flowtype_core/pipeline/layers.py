"""The layers as steps over a catalog: what is new, which transform to apply, what to replace.

`run_bronze`, `run_silver` and `run_gold` work on any `Catalog` (polars locally, Spark on
Databricks) and are incremental: bronze ingests only files whose (path, content hash) it has not
seen, silver only bronze rows newer than its watermark, gold only sections silver changed since
its watermark. Watermarks (epoch microseconds) are committed with the data they cover, so a
re-run with nothing new reads a little and writes nothing.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl

from flowtype_core.errors import FlowTypeError
from flowtype_core.pipeline import batches, transforms
from flowtype_core.pipeline.catalog import Catalog, TableWrite
from flowtype_core.pipeline.expectations import has_valid_section_key
from flowtype_core.pipeline.ranker_task import read_gold
from flowtype_core.pipeline.tables import (
    BRONZE_KEYSTROKES,
    BRONZE_SECTIONS,
    BRONZE_SOURCES,
    GOLD_RANKER_UNITS,
    GOLD_SECTIONS,
    INGESTED_AT,
    PROCESSED_AT,
    SECTION_KEY,
    SILVER_KEYSTROKES,
    SILVER_QUARANTINE,
    SOURCE_FILE,
    SOURCE_HASH,
    SOURCES,
)
from flowtype_core.ranker.features import FEATURES_VERSION
from flowtype_core.ranker.model import ModelRegistry
from flowtype_core.ranker.train import TrainConfig, train_from_frames

SILVER_APP = "flowtype.silver"
GOLD_MARKER_TABLE = GOLD_RANKER_UNITS  # the last table gold writes
GOLD_APP = "flowtype.gold"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PARTICIPANT_KEY = ("participant_id",)

Progress = Callable[[str], None]


@dataclass
class LayerResult:
    """What one layer run did; `rows_written` counts rows committed over all its tables."""

    layer: str
    rows_in: int = 0
    rows_written: int = 0
    quarantined: int = 0
    seconds: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PipelineContext:
    """What every task needs: the catalog, the session CSV folder, the model registry's folder, and
    where progress messages go."""

    catalog: Catalog
    sessions_dir: Path
    models_dir: Path
    progress: Progress = field(default=lambda message: None)


def to_micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def _next_time(catalog: Catalog, tables: tuple[str, ...], column: str) -> datetime:
    """Now, but strictly after every `column` value already written (watermarks must increase)."""
    moment = datetime.now(UTC)
    for table in tables:
        scan = catalog.scan(table)
        if scan is None:
            continue
        latest = catalog.to_polars(nw.from_native(scan).select(nw.col(column).max()).to_native()).item()
        if latest is not None and latest >= moment:
            moment = latest + timedelta(microseconds=1)
    return moment


def _timed(layer: str, work: Callable[[LayerResult], None]) -> LayerResult:
    result = LayerResult(layer)
    started = time.perf_counter()
    work(result)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _write(result: LayerResult, catalog: Catalog, *writes: TableWrite) -> None:
    """Commit writes to different tables (side by side where the catalog can) and count their rows."""
    for write, written in zip(writes, catalog.write_all(writes), strict=True):
        result.tables[write.table] = result.tables.get(write.table, 0) + written
        result.rows_written += written


# -- bronze ---------------------------------------------------------------------------------------
def list_sources(sessions_dir: Path) -> pl.DataFrame:
    """Every per-session CSV file: its bronze table, path, store-relative name, size and mtime."""
    tables = {source.file_name: source.table for source in SOURCES}
    root = Path(sessions_dir)
    rows = []
    for participant in sorted(os.scandir(root), key=lambda e: e.name) if root.is_dir() else []:
        if not participant.is_dir():
            continue
        for session in sorted(os.scandir(participant.path), key=lambda e: e.name):
            if not session.is_dir():
                continue
            for entry in os.scandir(session.path):
                if entry.name in tables and entry.is_file():
                    stat = entry.stat()
                    relative = f"{root.name}/{participant.name}/{session.name}/{entry.name}"
                    rows.append((tables[entry.name], entry.path, relative, stat.st_size, stat.st_mtime_ns))
    return pl.DataFrame(
        rows,
        schema={
            "table": pl.String,
            "path": pl.String,
            SOURCE_FILE: pl.String,
            "size": pl.Int64,
            "mtime_ns": pl.Int64,
        },
        orient="row",
    )


def _sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def new_sources(files: pl.DataFrame, manifest: pl.DataFrame | None) -> pl.DataFrame:
    """The files whose content (path + sha256) bronze has not ingested, with their hash.

    A file whose path, size and mtime match an ingested one is not even read: re-runs stay cheap.
    """
    if manifest is not None:
        files = files.join(
            manifest.select(SOURCE_FILE, "size", "mtime_ns"), on=[SOURCE_FILE, "size", "mtime_ns"], how="anti"
        )
    hashed = files.with_columns(pl.Series(SOURCE_HASH, [_sha256(p) for p in files["path"]], dtype=pl.String))
    if manifest is not None:
        hashed = hashed.join(
            manifest.select(SOURCE_FILE, SOURCE_HASH), on=[SOURCE_FILE, SOURCE_HASH], how="anti"
        )
    return hashed


def run_bronze(ctx: PipelineContext) -> LayerResult:
    """Append the rows of every CSV file not ingested before (by path and content hash).

    Files are read a group at a time (`batches.file_groups`), each group's rows appended before
    the next is read; the manifest is written once all are in.
    """

    def work(result: LayerResult) -> None:
        catalog = ctx.catalog
        known = catalog.scan(BRONZE_SOURCES)
        manifest = None if known is None else catalog.to_polars(known)
        files = new_sources(list_sources(ctx.sessions_dir), manifest)
        if files.is_empty():
            return
        ingested_at = _next_time(catalog, (BRONZE_SOURCES,), INGESTED_AT)
        for source in SOURCES:
            count = files.filter(pl.col("table") == source.table).height
            result.details[f"{source.file_name} files"] = count
            if count:
                ctx.progress(f"bronze: {count} new {source.file_name} files")
        for group in batches.file_groups(files, catalog.batch_rows):
            writes = []
            for source in SOURCES:
                candidates = group.filter(pl.col("table") == source.table)
                if candidates.is_empty():
                    continue
                raw = catalog.read_csv_text(
                    candidates.select("path", SOURCE_FILE, SOURCE_HASH), source.columns
                )
                rows = catalog.materialize(
                    transforms.bronze_rows(raw, source.columns, ingested_at=ingested_at)
                )
                result.rows_in += catalog.count(rows)
                writes.append(TableWrite(source.table, rows))
            _write(result, catalog, *writes)
        # Recorded last, once every group has committed: a crash or a failed write before this
        # re-ingests the files, and silver keeps the latest copy.
        ingested = files.select(
            SOURCE_FILE, SOURCE_HASH, "size", "mtime_ns", "table", pl.lit(ingested_at).alias(INGESTED_AT)
        )
        catalog.write(BRONZE_SOURCES, catalog.frame(ingested))
        result.details["files"] = ingested.height

    return _timed("bronze", work)


# -- silver ---------------------------------------------------------------------------------------
def _valid_section_keys(keys: pl.DataFrame) -> pl.DataFrame:
    """The rows of distinct section keys whose ids can name rows to replace downstream.

    Checked on the driver once the keys are distinct: in a lazy plan the check would be pushed
    down below the `unique`/`group_by` and run once per keystroke.
    """
    return nw.from_native(keys).filter(has_valid_section_key()).to_native()


def _newer_than(scan: Any, column: str, watermark: int | None) -> nw.LazyFrame[Any]:
    frame = nw.from_native(scan)
    return frame if watermark is None else frame.filter(nw.col(column) > nw.lit(from_micros(watermark)))


def _participant_counts(catalog: Catalog, frame: nw.LazyFrame[Any]) -> pl.DataFrame:
    """(participant_id, rows) of a frame: what `batches.participant_groups` splits."""
    counts = frame.group_by(batches.PARTICIPANT).agg(nw.len().alias(batches.COUNT))
    return catalog.to_polars(counts.to_native())


def run_silver(ctx: PipelineContext) -> LayerResult:
    """Type, validate and de-duplicate bronze rows newer than silver's watermark.

    A group of whole participants at a time (`batches.participant_groups`); the watermark is
    committed with the last group's keystrokes, so an interrupted run is redone whole.
    """

    def work(result: LayerResult) -> None:
        catalog = ctx.catalog
        bronze = catalog.scan(BRONZE_KEYSTROKES)
        if bronze is None:
            return
        newer = _newer_than(bronze, INGESTED_AT, catalog.marker(SILVER_KEYSTROKES, SILVER_APP))
        counts = _participant_counts(catalog, newer)
        result.rows_in = int(counts.get_column(batches.COUNT).sum()) if counts.height else 0
        if result.rows_in == 0:
            return
        ctx.progress(f"silver: {result.rows_in} new bronze rows")
        top = catalog.to_polars(newer.select(nw.col(INGESTED_AT).max().alias("top")).to_native())
        watermark = to_micros(top.item(0, "top"))
        processed_at = _next_time(catalog, (SILVER_KEYSTROKES, SILVER_QUARANTINE), PROCESSED_AT)
        groups = batches.by_participants(newer, counts, catalog.batch_rows)
        for number, (_, rows) in enumerate(groups, start=1):
            new = catalog.materialize(rows.to_native())
            marker = (SILVER_APP, watermark) if number == len(groups) else None
            _silver_group(catalog, result, new, processed_at=processed_at, marker=marker)
        result.details["watermark"] = from_micros(watermark).isoformat()
        result.details["groups"] = len(groups)

    return _timed("silver", work)


def _silver_group(
    catalog: Catalog, result: LayerResult, new: Any, *, processed_at: datetime, marker: tuple[str, int] | None
) -> None:
    """Silver keystrokes and quarantine of one group's new bronze rows, replacing their sections."""
    batch = nw.from_native(new)
    section_keys = _valid_section_keys(catalog.to_polars(batch.select(*SECTION_KEY).unique().to_native()))
    files = catalog.to_polars(batch.select(SOURCE_FILE).unique().to_native())
    sections_scan = catalog.scan(BRONZE_SECTIONS)
    sections = (
        nw.from_native(sections_scan).join(
            batch.select(*SECTION_KEY).unique(), on=list(SECTION_KEY), how="semi"
        )
        if sections_scan is not None
        else batch.select(
            *SECTION_KEY,
            nw.col(INGESTED_AT),
            *(nw.lit(None, dtype=nw.String).alias(c) for c in ("sentence_id", "quality_flags")),
        ).head(0)
    )
    silver, quarantine = catalog.materialize_all(
        *transforms.silver_tables(new, sections.to_native(), processed_at=processed_at)
    )
    result.quarantined += catalog.count(quarantine)
    _write(result, catalog, TableWrite(SILVER_QUARANTINE, quarantine, replace_keys=files))
    # The watermark goes with the keystrokes, after the quarantine has committed.
    _write(result, catalog, TableWrite(SILVER_KEYSTROKES, silver, replace_keys=section_keys, marker=marker))


# -- gold -----------------------------------------------------------------------------------------
def _changed_sections(catalog: Catalog, watermark: int | None) -> pl.DataFrame:
    """Section keys and processing times of silver and quarantine rows newer than `watermark`."""
    parts = []
    for table in (SILVER_KEYSTROKES, SILVER_QUARANTINE):
        scan = catalog.scan(table)
        if scan is not None:
            changed = _newer_than(scan, PROCESSED_AT, watermark).group_by(*SECTION_KEY)
            parts.append(changed.agg(nw.col(PROCESSED_AT).max()).to_native())
    frames = [_valid_section_keys(catalog.to_polars(part)) for part in parts]
    return pl.concat(frames) if frames else pl.DataFrame()


def run_gold(ctx: PipelineContext) -> LayerResult:
    """Recompute the metrics of sections silver changed, then the tables of their participants.

    A group of whole participants at a time (`batches.participant_groups`, sized by their silver
    rows); the watermark is committed with the last group's last table.
    """

    def work(result: LayerResult) -> None:
        catalog = ctx.catalog
        changed = _changed_sections(catalog, catalog.marker(GOLD_MARKER_TABLE, GOLD_APP))
        silver_scan = catalog.scan(SILVER_KEYSTROKES)
        if changed.is_empty() or silver_scan is None:
            return
        watermark = to_micros(changed[PROCESSED_AT].max())
        sections_keys = changed.select(*SECTION_KEY).unique()
        participants = changed.select(*PARTICIPANT_KEY).unique()
        ctx.progress(f"gold: {sections_keys.height} sections of {participants.height} participants")
        people = nw.from_native(catalog.frame(participants))
        theirs = nw.from_native(silver_scan).join(people, on=list(PARTICIPANT_KEY), how="semi")
        # Participants whose sections all left silver (quarantined, deleted) count 0 rows: their
        # gold rows are still replaced (by none).
        counts = participants.join(
            _participant_counts(catalog, theirs), on=list(PARTICIPANT_KEY), how="left"
        ).with_columns(pl.col(batches.COUNT).fill_null(0))
        groups = batches.by_participants(theirs, counts, catalog.batch_rows)
        for number, (ids, rows) in enumerate(groups, start=1):
            group = pl.DataFrame({"participant_id": ids}, schema={"participant_id": pl.String})
            keys = sections_keys.join(group, on="participant_id", how="semi")
            marker = (GOLD_APP, watermark) if number == len(groups) else None
            _gold_group(catalog, result, rows, group, keys, marker)
        result.details["watermark"] = from_micros(watermark).isoformat()
        result.details["groups"] = len(groups)

    return _timed("gold", work)


def _gold_group(
    catalog: Catalog,
    result: LayerResult,
    silver: nw.LazyFrame[Any],
    participants: pl.DataFrame,
    sections_keys: pl.DataFrame,
    marker: tuple[str, int] | None,
) -> None:
    """Gold sections (the changed ones) and participant tables of one group of participants."""
    people = nw.from_native(catalog.frame(participants))
    # Everything of the group's participants is read once; the changed sections are a subset.
    their_keystrokes = catalog.materialize(silver.to_native())
    touched = nw.from_native(their_keystrokes).join(
        nw.from_native(catalog.frame(sections_keys)), on=list(SECTION_KEY), how="semi"
    )
    result.rows_in += catalog.count(touched.to_native())
    _write(
        result,
        catalog,
        TableWrite(
            GOLD_SECTIONS,
            catalog.materialize(transforms.gold_section_rows(touched.to_native())),
            replace_keys=sections_keys,
        ),
    )
    sections = catalog.materialize(
        nw.from_native(catalog.scan(GOLD_SECTIONS))
        .join(people, on=list(PARTICIPANT_KEY), how="semi")
        .to_native()
    )
    tables = transforms.participant_tables(sections, their_keystrokes)
    frames = dict(zip(tables, catalog.materialize_all(*tables.values()), strict=True))
    last = frames.pop(GOLD_MARKER_TABLE)
    _write(result, catalog, *(TableWrite(t, f, replace_keys=participants) for t, f in frames.items()))
    # The watermark goes with the last table, once all the others have committed: a crash or a
    # failed write before it makes the next run redo them all.
    _write(result, catalog, TableWrite(GOLD_MARKER_TABLE, last, replace_keys=participants, marker=marker))


# -- train_ranker ---------------------------------------------------------------------------------
def run_train_ranker(ctx: PipelineContext) -> LayerResult:
    """Train and register the ranker from the gold ranker tables, unless the newest version already
    learnt from exactly this data (same fingerprint) with the same feature code: then nothing is
    trained or written. A new version is served only if it beats the current one (see
    `ranker.train.serving_decision`)."""

    def work(result: LayerResult) -> None:
        gold = read_gold(ctx.catalog)
        if gold is None:
            raise FlowTypeError("the gold ranker tables do not exist yet: run gold first")
        examples, units = gold.examples, gold.units
        result.rows_in = examples.height
        # The newest version, served or not: a version that lost to the current one on these very
        # folds would lose again, so the same data is not retrained every run.
        versions = ModelRegistry(ctx.models_dir).versions()
        newest = versions[-1] if versions else None
        fingerprint = gold.fingerprint()
        up_to_date = (
            newest is not None
            and newest.training_data.get("fingerprint") == fingerprint
            and newest.params.get("features_version") == FEATURES_VERSION  # same data, same feature code
        )
        if up_to_date:
            record, result.details["trained"] = newest, False
        else:
            record = train_from_frames(
                examples,
                units,
                models_dir=ctx.models_dir,
                config=TrainConfig(replay=True),
                progress=lambda fraction, message: ctx.progress(f"{message} ({fraction:.0%})"),
                source="gold",
            )
            result.details["trained"] = True
        held_out = record.metrics["held_out"]
        result.details |= {
            "model_version": record.version,
            "served": record.metrics.get("serving", {}).get("served", True),
            "model_path": record.model_path,
            "ndcg@5": record.ndcg5,
            "ndcg@10": float(held_out["model"]["ndcg@10"]),
            "baselines_ndcg@5": {name: float(m["ndcg@5"]) for name, m in held_out.items() if name != "model"},
        }

    return _timed("train_ranker", work)


LAYERS: dict[str, Callable[[PipelineContext], LayerResult]] = {
    "bronze": run_bronze,
    "silver": run_silver,
    "gold": run_gold,
    "train_ranker": run_train_ranker,
}
