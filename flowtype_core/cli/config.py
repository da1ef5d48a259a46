"""`config`: the settings every command resolves, secrets shown as "***", so a deployment can be checked."""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import Any

from flowtype_core.backends import LAKEHOUSE_SETS
from flowtype_core.cli.common import add_data_dir, add_json, emit
from flowtype_core.config import Settings, load_settings

MASK = "***"
SECRETS = ("token", "client_secret", "cookie_key")
HIDDEN = ("auth_type_setting",)  # shown resolved, as `auth_type`


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = sub.add_parser("config", help="show the resolved settings (secrets as ***), after strict mode")
    add_data_dir(config)
    add_json(config)
    config.set_defaults(func=cmd_config)


def describe(settings: Settings) -> dict[str, Any]:
    """The settings as plain JSON: names as configured, every secret masked (or null when unset)."""
    db = settings.databricks
    databricks: dict[str, Any] = {
        f.name: _shown(f.name, getattr(db, f.name)) for f in fields(db) if f.name not in HIDDEN
    }
    databricks |= {"auth_type": db.auth_type or None, "host": db.host_url or None}
    lakehouse = next(name for name, chosen in LAKEHOUSE_SETS.items() if chosen == settings.lakehouses)
    return {
        "data_dir": str(settings.data_dir),
        "lakehouse": lakehouse,
        "lakehouses": list(settings.lakehouses),
        "runner": settings.runner,
        "engine": settings.engine or None,
        "strict": settings.strict,
        "cookie_key": _shown("cookie_key", settings.cookie_key),
        "databricks_enabled": settings.databricks_enabled,
        "databricks": databricks,
    }


def _shown(name: str, value: Any) -> Any:
    if name in SECRETS:
        return MASK if value else None
    return value if value != "" else None


def cmd_config(args: argparse.Namespace) -> int:
    settings = load_settings({"FLOWTYPE_DATA_DIR": args.data_dir})
    described = describe(settings)
    db = described["databricks"]
    text = "\n".join(
        [f"{k}: {v}" for k, v in described.items() if k != "databricks"]
        + [f"databricks.{k}: {v}" for k, v in db.items() if v is not None]
    )
    emit(args, described, text)
    return 0
