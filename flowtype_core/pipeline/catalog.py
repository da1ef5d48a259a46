"""Where the pipeline reads and writes its tables: one small interface, one module per engine.

Transforms never touch storage; a layer asks its catalog for frames and hands frames back. The
local catalog is polars over Delta tables written with delta-rs (`LocalDeltaCatalog`); the Spark
catalog (`spark_catalog.py`) does the same over Delta tables on Databricks. Incremental runs rest
on two primitives: `marker` (the last source watermark a table's writer recorded, committed with
the data) and `replace` (atomically swap the rows of the given keys).

Readers of the finished tables (metrics from gold, ranker training) need only `CatalogReader`;
`warehouse_catalog.py` is one that reads the Databricks job's tables through the SQL warehouse.
Which catalog a workbench gets follows its runner (`flowtype_core.backends.CATALOGS`).
"""

from __future__ import annotations

import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake

from flowtype_core.config import Settings
from flowtype_core.errors import InvalidInput
from flowtype_core.lakehouse.local_delta import with_commit_retry
from flowtype_core.predicates import key_predicate
from flowtype_core.store.csv_store import csv_bodies

# Above this many keys a replace rewrites the table instead of sending a huge predicate.
MAX_PREDICATE_KEYS = 2000


@dataclass(frozen=True)
class TableWrite:
    """One `Catalog.write` (its table, frame and options), for `Catalog.write_all`."""

    table: str
    frame: Any
    replace_keys: pl.DataFrame | None = None
    marker: tuple[str, int] | None = None


class CatalogReader(ABC):
    """The read side of a catalog: what gold's readers (metrics, ranker training) need."""

    engine: str

    @abstractmethod
    def scan(self, table: str) -> Any | None:
        """The table as a lazy native frame, or None when it does not exist yet."""

    @abstractmethod
    def to_polars(self, frame: Any) -> pl.DataFrame:
        """Bring a (small) frame to the driver: keys, watermarks, summaries."""

    def close(self) -> None:  # noqa: B027
        """Release connections; a catalog over files or a Spark session holds none of its own."""


class Catalog(CatalogReader):
    """Tables by name for one engine; frames in and out are that engine's native frames."""

    # Rows a layer holds in memory at once (`batches.py`); None: the engine spills by itself.
    batch_rows: int | None = None

    @abstractmethod
    def read_csv_text(self, files: pl.DataFrame, columns: Sequence[str]) -> Any:
        """The rows of CSV files, every column as text, each with its file's lineage.

        `files` holds `path` (where to read) and the lineage columns copied onto the file's rows.
        """

    @abstractmethod
    def frame(self, data: pl.DataFrame) -> Any:
        """A small polars frame (file lists, keys) as this engine's frame, for joins."""

    @abstractmethod
    def materialize(self, frame: Any) -> Any:
        """Compute a frame once when several writes read it (collect locally, cache on Spark)."""

    def materialize_all(self, *frames: Any) -> list[Any]:
        """`materialize` for frames that share work (silver and quarantine), computed together."""
        return [self.materialize(frame) for frame in frames]

    @abstractmethod
    def count(self, frame: Any) -> int:
        """Rows in a frame."""

    @abstractmethod
    def marker(self, table: str, app_id: str) -> int | None:
        """The watermark recorded under `app_id` with the table's last write, None if never."""

    @abstractmethod
    def write(
        self,
        table: str,
        frame: Any,
        *,
        replace_keys: pl.DataFrame | None = None,
        marker: tuple[str, int] | None = None,
    ) -> int:
        """Append `frame`, or with `replace_keys` make the table hold exactly `frame`'s rows for
        those keys (one atomic commit). `marker` (app id, watermark) is committed with the data.
        Returns the number of rows written."""

    def write_all(self, writes: Sequence[TableWrite]) -> list[int]:
        """`write` to several different tables, one commit each, in any order; rows written per write.

        Returns once every write has finished, raising the first failure: the others may have
        committed, so whatever says the work is done (a watermark, a manifest) is written after.
        This one writes in turn; a catalog whose writes can overlap overrides it.
        """
        _check_distinct(writes)
        return [self._apply(w) for w in writes]

    def _apply(self, write: TableWrite) -> int:
        return self.write(write.table, write.frame, replace_keys=write.replace_keys, marker=write.marker)

    @abstractmethod
    def version(self, table: str) -> int | None:
        """The table's current version (None if it does not exist): tests use it to prove no-ops."""


def _check_distinct(writes: Sequence[TableWrite]) -> None:
    """Two writes to one table in a batch would race (or depend on their order): refuse them."""
    tables = [w.table for w in writes]
    if len(set(tables)) != len(tables):
        raise ValueError(f"write_all needs distinct tables, got {tables}")


def _rows_by_file(
    header: bytes, bodies: list[tuple[int, bytes | memoryview]], paths: Sequence[str]
) -> tuple[pl.DataFrame, pl.Series]:
    """One header's file bodies parsed at once: the rows, and each row's file (position in `paths`).

    A marker line (a fresh nonce and the file's position) goes before each body. A file that ends
    inside a quoted field swallows the next marker, and then its rows cannot be told from the next
    file's: that is refused, naming the file.
    """
    nonce = uuid.uuid4().hex
    text = [header]
    for position, body in bodies:
        text += [f"{nonce}{position}\n".encode(), body]
    parsed = pl.read_csv(
        b"".join(text), infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True
    )
    first = parsed.to_series(0)
    is_marker = first.str.starts_with(nonce)
    found = first.filter(is_marker).str.slice(len(nonce)).cast(pl.Int64).to_list()
    positions = [position for position, _ in bodies]
    if found != positions:
        lost = next(i for i, position in enumerate(positions) if i >= len(found) or found[i] != position)
        culprit = paths[positions[max(lost - 1, 0)]]
        raise InvalidInput(f"{culprit}: a quoted field is never closed; fix or remove the file")
    owner = pl.Series(positions).gather((is_marker.cum_sum() - 1).filter(~is_marker))
    return parsed.filter(~is_marker), owner


IN_MEMORY = "in-memory"
# ~1M keystrokes at a time keeps a layer run near 1-2 GB whatever the number of new keystrokes.
BATCH_ROWS = 1 << 20


class LocalDeltaCatalog(Catalog):
    """Delta tables under `<data-dir>/lakehouse/<table>`, read with polars, written with delta-rs."""

    engine = "polars"

    @classmethod
    def of(cls, settings: Settings) -> LocalDeltaCatalog:
        """The catalog beside the local lakehouse tables: `<data-dir>/lakehouse`."""
        return cls(settings.data_dir / "lakehouse")

    def __init__(self, root: str | Path, *, batch_rows: int | None = BATCH_ROWS) -> None:
        if batch_rows is not None and batch_rows < 1:
            raise ValueError(f"batch_rows must be at least 1, got {batch_rows}")
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.batch_rows = batch_rows

    def path(self, table: str) -> Path:
        return self.root / table

    def _table(self, table: str) -> DeltaTable | None:
        path = str(self.path(table))
        return DeltaTable(path) if DeltaTable.is_deltatable(path) else None

    def scan(self, table: str) -> pl.LazyFrame | None:
        path = self.path(table)
        return pl.scan_delta(str(path)) if DeltaTable.is_deltatable(str(path)) else None

    def read_csv_text(self, files: pl.DataFrame, columns: Sequence[str]) -> pl.LazyFrame:
        # Thousands of small files: read as bytes and parsed in one call per batch of one header
        # (`csv_bodies`, `_rows_by_file`). Files written by other tools may lack or add columns: the
        # batches are lined up by name.
        lineage = files.drop("path")
        paths = files["path"].to_list()
        frames = []
        for header, bodies in csv_bodies(paths):
            rows, owner = _rows_by_file(header, bodies, paths)
            frames.append(pl.concat([rows, lineage.select(pl.all().gather(owner))], how="horizontal"))
        if not frames:
            return pl.LazyFrame(schema={**dict.fromkeys(columns, pl.String), **lineage.schema})
        return pl.concat(frames, how="diagonal").lazy()

    def frame(self, data: pl.DataFrame) -> pl.LazyFrame:
        return data.lazy()

    # A materialized batch is held in memory anyway; polars' in-memory engine also keeps a
    # left join's row order, so silver rows reach the press-order check still section by section
    # and are not re-sorted (silver 3.4 -> 2.75 CPU-s on 1M keystrokes).
    def materialize(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        return frame.collect(engine=IN_MEMORY).lazy()

    def materialize_all(self, *frames: pl.LazyFrame) -> list[pl.LazyFrame]:
        return [frame.lazy() for frame in pl.collect_all(frames, engine=IN_MEMORY)]  # shared work runs once

    def count(self, frame: pl.LazyFrame | pl.DataFrame) -> int:
        return int(frame.lazy().select(pl.len()).collect().item())

    def to_polars(self, frame: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
        return frame.lazy().collect()

    def marker(self, table: str, app_id: str) -> int | None:
        dt = self._table(table)
        return None if dt is None else dt.transaction_version(app_id)

    def version(self, table: str) -> int | None:
        dt = self._table(table)
        return None if dt is None else dt.version()

    def write_all(self, writes: Sequence[TableWrite]) -> list[int]:
        # delta-rs encodes one write on one thread (and releases the GIL): different tables are
        # written side by side, one thread each.
        if len(writes) < 2:
            return super().write_all(writes)
        _check_distinct(writes)
        with ThreadPoolExecutor(max_workers=min(len(writes), os.cpu_count() or 1)) as pool:
            futures = [pool.submit(self._apply, w) for w in writes]
        return [future.result() for future in futures]  # all have finished: the first error is raised

    # Writes evolve the schema (`schema_mode="merge"`, Spark's `mergeSchema`): a table written by
    # an earlier version gains the columns added since, its old rows null in them.
    def write(
        self,
        table: str,
        frame: pl.LazyFrame | pl.DataFrame,
        *,
        replace_keys: pl.DataFrame | None = None,
        marker: tuple[str, int] | None = None,
    ) -> int:
        data = frame.lazy().collect()
        path = str(self.path(table))
        properties = CommitProperties(app_transactions=[Transaction(*marker)]) if marker else None

        def commit() -> None:
            current = self.scan(table)
            matched = 0
            keys = replace_keys.unique() if replace_keys is not None else pl.DataFrame()
            if not keys.is_empty() and current is not None:
                hits = current.select(keys.columns).join(keys.lazy(), on=keys.columns, how="semi")
                matched = hits.select(pl.len()).collect().item()
            if matched == 0:
                if data.height or marker or current is None:  # nothing to add, delete or record
                    write_deltalake(
                        path, data, mode="append", commit_properties=properties, schema_mode="merge"
                    )
            elif keys.height <= MAX_PREDICATE_KEYS:
                write_deltalake(
                    path,
                    data,
                    mode="overwrite",
                    predicate=key_predicate(keys),
                    commit_properties=properties,
                    schema_mode="merge",
                )
            else:
                kept = current.join(keys.lazy(), on=keys.columns, how="anti").collect()
                merged = pl.concat([kept, data], how="diagonal_relaxed")
                write_deltalake(
                    path, merged, mode="overwrite", commit_properties=properties, schema_mode="merge"
                )

        with_commit_retry(commit, what=f"write {table}")
        return data.height
