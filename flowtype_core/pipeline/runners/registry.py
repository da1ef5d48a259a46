"""Pipeline runners by configuration name (`Settings.runner` or `--runner`); one line per runner."""

from __future__ import annotations

from flowtype_core.config import Settings
from flowtype_core.extras import require
from flowtype_core.pipeline.runners.base import Runner

RUNNERS: dict[str, str] = {
    "local": "flowtype_core.pipeline.runners.local:LocalRunner",
    "databricks": "flowtype_core.pipeline.runners.databricks_jobs:DatabricksJobsRunner",
}


def open_runner(settings: Settings, name: str | None = None) -> Runner:
    """The runner `name` (default: the configured one), built from the settings."""
    name = name or settings.runner
    if name not in RUNNERS:
        raise ValueError(f"unknown pipeline runner {name!r}; choose one of {', '.join(RUNNERS)}")
    module, _, cls = RUNNERS[name].partition(":")
    return getattr(require(module, f"the {name!r} pipeline runner"), cls)(settings)
