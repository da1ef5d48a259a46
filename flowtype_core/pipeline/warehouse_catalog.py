"""The Databricks job's pipeline tables, read from this machine through the SQL warehouse.

With the Databricks runner the layers run as job notebooks on Spark (`SparkCatalog`) and their
tables live in Unity Catalog (`catalog.schema.<table>`); the CLI, the app and notebooks on a
laptop read the finished ones (gold) here, over the same connection as the Databricks lakehouse
(`flowtype_core.workspace.sql`). Writing them stays the job's: this catalog only reads.
"""

from __future__ import annotations

import re

import polars as pl

from flowtype_core.config import Settings
from flowtype_core.pipeline.catalog import CatalogReader
from flowtype_core.pipeline.tables import PIPELINE_TABLES
from flowtype_core.workspace.settings import DatabricksSettings, check_name
from flowtype_core.workspace.sql import DatabricksStatementError, Warehouse

# The error class of a table that does not exist
# (https://docs.databricks.com/aws/en/error-messages/table-or-view-not-found-error-class).
_NOT_FOUND = re.compile(r"TABLE_OR_VIEW_NOT_FOUND")


class WarehouseCatalog(CatalogReader):
    """Pipeline tables `catalog.schema.<table>` in Unity Catalog, read as polars frames."""

    engine = "polars"

    @classmethod
    def of(cls, settings: Settings) -> WarehouseCatalog:
        """The catalog and schema the job writes to (`DATABRICKS_CATALOG`, `DATABRICKS_SCHEMA`)."""
        return cls(settings.databricks)

    def __init__(self, db: DatabricksSettings) -> None:
        self.prefix = (
            f"`{check_name(db.catalog, 'DATABRICKS_CATALOG')}`.`{check_name(db.schema, 'DATABRICKS_SCHEMA')}`"
        )
        self._warehouse = Warehouse(db)

    def name(self, table: str) -> str:
        if table not in PIPELINE_TABLES:
            raise ValueError(f"unknown pipeline table {table!r}; tables are {', '.join(PIPELINE_TABLES)}")
        return f"{self.prefix}.`{table}`"

    def scan(self, table: str) -> pl.LazyFrame | None:
        """The whole table (gold tables are per section or participant: small), or None if the
        job has not written it yet."""
        try:
            return self._warehouse.read_frame(f"SELECT * FROM {self.name(table)}").lazy()
        except DatabricksStatementError as exc:
            if _NOT_FOUND.search(str(exc)):
                return None
            raise

    def to_polars(self, frame: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
        return frame.lazy().collect()

    def close(self) -> None:
        self._warehouse.close()
