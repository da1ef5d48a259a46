"""The composition root: one object that gives the app, the CLI and notebooks the same configured parts.

from flowtype_core import open_workbench
wb = open_workbench(data_dir="data")
wb.lakehouse.read_table("sections")
wb.catalog.scan("gold_sections")  # the configured runner's gold tables

Every part is chosen by the settings through the registries (`flowtype_core.backends`) and built
at first use; nothing else builds lakehouses, runners or catalogs from settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from flowtype_core import redaction
from flowtype_core.accounts import AccountStore
from flowtype_core.config import Settings, load_settings
from flowtype_core.datasets.importer import import_aalto
from flowtype_core.errors import ConfigError
from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.lakehouse.registry import open_lakehouses
from flowtype_core.ownership import data_owner
from flowtype_core.pipeline.catalog import Catalog, CatalogReader
from flowtype_core.pipeline.layers import PipelineContext
from flowtype_core.pipeline.plan import data_dir_context, with_spark
from flowtype_core.pipeline.runners import Runner, open_runner
from flowtype_core.pipeline.runners.registry import open_catalog
from flowtype_core.progress import Progress
from flowtype_core.recorder import Recorder
from flowtype_core.store.atomic import private_dir
from flowtype_core.store.csv_store import SessionStore
from flowtype_core.sync.history import SyncHistory
from flowtype_core.sync.outbox import Outbox
from flowtype_core.sync.publisher import Publisher


@dataclass
class Workbench:
    """The configured store, lakehouses, recorder, publisher, pipeline runner and catalog for one
    data directory."""

    settings: Settings
    _closed: bool = field(default=False, init=False)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @cached_property
    def store(self) -> SessionStore:
        return SessionStore(self.data_dir)

    @cached_property
    def accounts(self) -> AccountStore:
        return AccountStore(
            self.data_dir,
            self.settings.cookie_key,
            data_owner=lambda u: data_owner(self.store, self.lakehouses, u, self.outbox),
        )

    @cached_property
    def lakehouses(self) -> dict[str, Lakehouse]:
        return open_lakehouses(self.settings)

    @property
    def lakehouse(self) -> Lakehouse:
        """The first configured lakehouse: the one readers use by default."""
        return next(iter(self.lakehouses.values()))

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(self.data_dir)

    @cached_property
    def history(self) -> SyncHistory:
        return SyncHistory(self.data_dir)

    @cached_property
    def publisher(self) -> Publisher:
        return Publisher(self.store, self.outbox, self.lakehouses, self.history)

    @cached_property
    def recorder(self) -> Recorder:
        return Recorder(self.store, self.publisher)

    @cached_property
    def runner(self) -> Runner:
        """The configured pipeline runner (`FLOWTYPE_RUNNER`)."""
        return open_runner(self.settings)

    @cached_property
    def catalog(self) -> CatalogReader:
        """Where the configured runner keeps the pipeline's tables: every gold reader reads here."""
        return open_catalog(self.settings)

    def pipeline_context(self, progress: Progress | None = None, *, spark: Any = None) -> PipelineContext:
        """The layers over this data directory's session files, writing to `catalog`.

        Only a runner whose layers run in this process has such a catalog (the local one); the
        Databricks job's tables are written by its notebooks. With a Spark session
        (`spark_session()`, Databricks Connect) the same tables are transformed on Spark.
        """
        if not isinstance(self.catalog, Catalog):
            raise ConfigError(
                f"the {self.settings.runner!r} runner's pipeline tables are written by its own jobs: "
                "run layers here with FLOWTYPE_RUNNER=local"
            )
        return data_dir_context(with_spark(self.catalog, spark), self.data_dir, progress)

    def import_aalto(
        self,
        directory: str | Path,
        *,
        progress: Progress | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Import the Aalto dataset's `<id>_keystrokes.txt` files through the live write path."""
        return import_aalto(self.store, self.accounts, self.recorder, directory, progress=progress, wait=wait)

    def close(self) -> None:
        if "publisher" in self.__dict__:
            self.publisher.stop()
        if "lakehouses" in self.__dict__:
            for lakehouse in self.lakehouses.values():
                lakehouse.close()
        if "catalog" in self.__dict__:
            self.catalog.close()
        self._closed = True


def open_workbench(
    data_dir: str | Path | None = None, settings: Settings | None = None, **overrides: Any
) -> Workbench:
    """Build a workbench from settings (environment, secrets file) plus explicit overrides."""
    redaction.install()
    if settings is None:
        if data_dir is not None:
            overrides["FLOWTYPE_DATA_DIR"] = str(data_dir)
        settings = load_settings(overrides)
    elif data_dir is not None:
        settings = settings.with_data_dir(data_dir)
    private_dir(settings.data_dir)
    logging.getLogger("flowtype_core").debug("workbench at %s", settings.data_dir)
    return Workbench(settings)
