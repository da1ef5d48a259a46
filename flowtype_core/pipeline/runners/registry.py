"""Pipeline runners by configuration name (`Settings.runner` or `--runner`, `flowtype_core.backends.RUNNERS`),
and the catalog each runner's tables are read from (`flowtype_core.backends.CATALOGS`)."""

from __future__ import annotations

from flowtype_core.backends import CATALOGS, RUNNERS, backend_class
from flowtype_core.config import Settings
from flowtype_core.pipeline.catalog import CatalogReader
from flowtype_core.pipeline.runners.base import Runner


def open_runner(settings: Settings, name: str | None = None) -> Runner:
    """The runner `name` (default: the configured one), built from the settings."""
    runner: Runner = backend_class(RUNNERS, name or settings.runner, "pipeline runner")(settings)
    return runner


def open_catalog(settings: Settings) -> CatalogReader:
    """Where the configured runner's pipeline tables are: gold for metrics and ranker training."""
    catalog: CatalogReader = backend_class(CATALOGS, settings.runner, "pipeline catalog").of(settings)
    return catalog
