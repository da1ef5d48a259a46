"""The pipeline on Spark: over Delta tables in a Spark catalog, or over the local tables.

`SparkCatalog` (Unity Catalog on Databricks) has `LocalDeltaCatalog`'s contract: `replace` is one
atomic `replaceWhere` overwrite, and each watermark write carries Delta's idempotent-write options
(`txnAppId`/`txnVersion`), so a retried notebook does not write twice. Watermarks are kept in the
small `pipeline_markers` table, readable with plain SQL (Spark has no public API for a table's
transaction ids).

`SparkComputeCatalog` keeps the tables where `LocalDeltaCatalog` keeps them and runs the transforms
on a Spark session (`pipeline run --engine spark-connect`: a Databricks cluster through Databricks
Connect): what a layer reads goes up as Arrow, what it writes comes back as Arrow and is committed
by delta-rs, so storage, watermarks and atomic replaces are the local catalog's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from flowtype_core.ids import check_id
from flowtype_core.pipeline.catalog import Catalog, LocalDeltaCatalog
from flowtype_core.predicates import key_predicate

MARKERS = "pipeline_markers"


class _SparkFrames(Catalog):
    """Frames on a SparkSession (classic or Connect): in from Arrow, computed on Spark, out as Arrow."""

    engine = "pyspark"
    spark: Any

    def frame(self, data: pl.DataFrame) -> Any:
        table = data.to_arrow()
        if table.num_rows == 0:  # Spark Connect cannot infer a schema from no rows: give it
            from pyspark.sql.pandas.types import from_arrow_schema

            return self.spark.createDataFrame([], schema=from_arrow_schema(table.schema))
        return self.spark.createDataFrame(table)

    def materialize(self, frame: Any) -> Any:
        return frame.cache()

    def count(self, frame: Any) -> int:
        return int(frame.count())

    def to_polars(self, frame: Any) -> pl.DataFrame:
        data = pl.from_arrow(frame.toArrow())
        if not isinstance(data, pl.DataFrame):  # a table always converts to a frame
            raise TypeError(f"expected a table from Spark, got {type(data).__name__}")
        return data


class SparkComputeCatalog(_SparkFrames):
    """The local catalog's Delta tables, transformed on a Spark session."""

    def __init__(self, spark: Any, local: LocalDeltaCatalog) -> None:
        self.spark = spark
        self.local = local
        self.batch_rows = local.batch_rows  # every batch travels through this process

    def scan(self, table: str) -> Any | None:
        lazy = self.local.scan(table)
        return None if lazy is None else self.frame(lazy.collect())

    def read_csv_text(self, files: pl.DataFrame, columns: Sequence[str]) -> Any:
        return self.frame(self.local.read_csv_text(files, columns).collect())

    def marker(self, table: str, app_id: str) -> int | None:
        return self.local.marker(table, app_id)

    def version(self, table: str) -> int | None:
        return self.local.version(table)

    def write(
        self,
        table: str,
        frame: Any,
        *,
        replace_keys: pl.DataFrame | None = None,
        marker: tuple[str, int] | None = None,
    ) -> int:
        return self.local.write(table, self.to_polars(frame), replace_keys=replace_keys, marker=marker)


class SparkCatalog(_SparkFrames):
    """Delta tables `catalog.schema.<table>` through a SparkSession."""

    def __init__(self, spark: Any, catalog: str, schema: str) -> None:
        self.spark = spark
        self.prefix = f"`{check_id(catalog, 'catalog')}`.`{check_id(schema, 'schema')}`"

    def name(self, table: str) -> str:
        return f"{self.prefix}.`{check_id(table, 'table')}`"

    def _exists(self, table: str) -> bool:
        return bool(self.spark.catalog.tableExists(self.name(table).replace("`", "")))

    def scan(self, table: str) -> Any | None:
        return self.spark.table(self.name(table)) if self._exists(table) else None

    def read_csv_text(self, files: pl.DataFrame, columns: Sequence[str]) -> Any:
        from pyspark.sql import functions as F

        paths = files["path"].to_list()
        # The store writes RFC 4180 CSV: a quote inside a field is doubled. Spark's default escape
        # is a backslash, which would read a typed `"` as `""` and a trailing `\` as an escape.
        frame = self.spark.read.csv(paths, header=True, inferSchema=False, multiLine=True, escape='"')
        # Spark reports `file:/Volumes/...` or `dbfs:/Volumes/...`: back to the path we listed.
        path = F.regexp_replace(F.col("_metadata.file_path"), r"^(file|dbfs):/+", "/")
        lineage = F.broadcast(self.frame(files.rename({"path": "_path"})))
        return frame.withColumn("_path", path).join(lineage, on="_path", how="left").drop("_path")

    def marker(self, table: str, app_id: str) -> int | None:
        if not self._exists(MARKERS):
            return None
        rows = self.spark.sql(
            f"SELECT version FROM {self.name(MARKERS)} WHERE table_name = :table AND app_id = :app",
            args={"table": table, "app": app_id},
        ).collect()
        return int(rows[0]["version"]) if rows else None

    def version(self, table: str) -> int | None:
        if not self._exists(table):
            return None
        return int(self.spark.sql(f"DESCRIBE HISTORY {self.name(table)} LIMIT 1").collect()[0]["version"])

    def write(
        self,
        table: str,
        frame: Any,
        *,
        replace_keys: pl.DataFrame | None = None,
        marker: tuple[str, int] | None = None,
    ) -> int:
        rows = int(frame.count())
        writer = frame.write.format("delta").option("mergeSchema", "true")
        if marker is not None:
            writer = writer.option("txnAppId", f"{marker[0]}:{table}").option("txnVersion", marker[1])
        if not self._exists(table):
            writer.mode("append").saveAsTable(self.name(table))
        elif replace_keys is not None and not replace_keys.is_empty():
            predicate = key_predicate(replace_keys.unique())
            writer.mode("overwrite").option("replaceWhere", predicate).saveAsTable(self.name(table))
        elif rows:
            writer.mode("append").saveAsTable(self.name(table))
        if marker is not None:
            self._record_marker(table, *marker)
        return rows

    def _record_marker(self, table: str, app_id: str, version: int) -> None:
        self.spark.sql(
            f"CREATE TABLE IF NOT EXISTS {self.name(MARKERS)} (table_name STRING, app_id STRING, version BIGINT)"
        )
        self.spark.sql(
            f"MERGE INTO {self.name(MARKERS)} AS t USING (SELECT :table AS table_name, :app AS app_id, "
            ":version AS version) AS s ON t.table_name = s.table_name AND t.app_id = s.app_id "
            "WHEN MATCHED THEN UPDATE SET t.version = s.version WHEN NOT MATCHED THEN INSERT *",
            args={"table": table, "app": app_id, "version": version},
        )
