"""Pipeline runners by configuration name (`Settings.runner` or `--runner`, `flowtype_core.backends.RUNNERS`)."""

from __future__ import annotations

from flowtype_core.backends import RUNNERS, backend_class
from flowtype_core.config import Settings
from flowtype_core.pipeline.runners.base import Runner


def open_runner(settings: Settings, name: str | None = None) -> Runner:
    """The runner `name` (default: the configured one), built from the settings."""
    runner: Runner = backend_class(RUNNERS, name or settings.runner, "pipeline runner")(settings)
    return runner
