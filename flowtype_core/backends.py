"""The one table of configurable backends, by the names settings use, and the strict-mode check.

Lakehouses, runners and the runners' catalogs are named here once ("module:Class", imported only when chosen); each
backend class states what it needs from the settings (`settings_problems`), so the loader knows
no backend's rules. `FLOWTYPE_LAKEHOUSE=both` writes to every lakehouse in `LAKEHOUSE_SETS["both"]`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowtype_core.errors import ConfigError
from flowtype_core.extras import require

if TYPE_CHECKING:
    from flowtype_core.config import Settings

LAKEHOUSES: dict[str, str] = {
    "local": "flowtype_core.lakehouse.local_delta:LocalDeltaLakehouse",
    "databricks": "flowtype_core.lakehouse.databricks:DatabricksLakehouse",
}
LAKEHOUSE_SETS: dict[str, tuple[str, ...]] = {
    **{name: (name,) for name in LAKEHOUSES},
    "both": ("local", "databricks"),
}
RUNNERS: dict[str, str] = {
    "local": "flowtype_core.pipeline.runners.local:LocalRunner",
    "databricks": "flowtype_core.pipeline.runners.databricks_jobs:DatabricksJobsRunner",
}

# Where each runner's pipeline tables are read from, by runner name: the local runner's Delta tables
# under the data dir; the Databricks job's Unity Catalog tables through the SQL warehouse.
CATALOGS: dict[str, str] = {
    "local": "flowtype_core.pipeline.catalog:LocalDeltaCatalog",
    "databricks": "flowtype_core.pipeline.warehouse_catalog:WarehouseCatalog",
}

ENGINES: dict[str, str] = {  # an engine other than the runner's own, for notebooks and `--engine`
    "spark-connect": "flowtype_core.workspace.connect:SparkConnectEngine",
}


def backend_class(table: dict[str, str], name: str, what: str) -> Any:
    """The class registered under `name` in `table` (imported now)."""
    if name not in table:
        raise ConfigError(f"unknown {what} {name!r}; choose one of {', '.join(table)}")
    module, _, cls = table[name].partition(":")
    return getattr(require(module, f"the {name!r} {what}"), cls)


def engine_session(settings: Settings) -> Any:
    """The configured engine's Spark session (`FLOWTYPE_ENGINE`), or None for polars, the default."""
    if not settings.engine:
        return None
    return backend_class(ENGINES, settings.engine, "engine")(settings).session()


def check_strict(settings: Settings) -> None:
    """Refuse settings a chosen backend cannot work with, naming every missing or placeholder value."""
    chosen = [backend_class(LAKEHOUSES, name, "lakehouse") for name in settings.lakehouses]
    chosen.append(backend_class(RUNNERS, settings.runner, "pipeline runner"))
    if settings.engine:
        chosen.append(backend_class(ENGINES, settings.engine, "engine"))
    problems: list[str] = []
    for cls in chosen:
        problems += [p for p in cls.settings_problems(settings) if p not in problems]
    if problems:
        from flowtype_core.workspace.settings import HOW_TO_FIX

        raise ConfigError("Databricks is enabled but " + "; ".join(problems) + ". " + HOW_TO_FIX)
