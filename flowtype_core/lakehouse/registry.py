"""Lakehouse backends by configuration name; the heavy client is imported only when chosen."""

from __future__ import annotations

from flowtype_core.config import Settings
from flowtype_core.extras import require
from flowtype_core.lakehouse.base import Lakehouse

BACKENDS: dict[str, str] = {
    "local": "flowtype_core.lakehouse.local_delta:LocalDeltaLakehouse",
    "databricks": "flowtype_core.lakehouse.databricks:DatabricksLakehouse",
}


def open_lakehouse(name: str, settings: Settings) -> Lakehouse:
    """Build the backend registered under `name`."""
    if name not in BACKENDS:
        raise ValueError(f"unknown lakehouse {name!r}; choose one of {sorted(BACKENDS)}")
    module, _, cls = BACKENDS[name].partition(":")
    return getattr(require(module, f"the {name!r} lakehouse"), cls)(settings)


def open_lakehouses(settings: Settings) -> dict[str, Lakehouse]:
    """Every lakehouse the settings enable, by name."""
    return {name: open_lakehouse(name, settings) for name in settings.lakehouses}
