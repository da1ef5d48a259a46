"""Lakehouse backends by configuration name (`flowtype_core.backends.LAKEHOUSES`); the heavy client
is imported only when chosen."""

from __future__ import annotations

from flowtype_core.backends import LAKEHOUSES, backend_class
from flowtype_core.config import Settings
from flowtype_core.lakehouse.base import Lakehouse


def open_lakehouse(name: str, settings: Settings) -> Lakehouse:
    """Build the backend registered under `name`."""
    lakehouse: Lakehouse = backend_class(LAKEHOUSES, name, "lakehouse")(settings)
    return lakehouse


def open_lakehouses(settings: Settings) -> dict[str, Lakehouse]:
    """Every lakehouse the settings enable, by name."""
    return {name: open_lakehouse(name, settings) for name in settings.lakehouses}
