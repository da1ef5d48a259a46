"""One typed settings object, read from arguments, the environment and `.streamlit/secrets.toml`.

Precedence: explicit overrides, then environment variables, then the secrets file, then the
Databricks unified-auth profile (`~/.databrickscfg`) for host and token, then defaults. Names are
the ones the Databricks tools use, so one environment serves the CLI, the app and notebooks.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from flowtype_core import redaction
from flowtype_core.backends import ENGINES, LAKEHOUSE_SETS, RUNNERS, check_strict
from flowtype_core.errors import ConfigError
from flowtype_core.workspace.settings import DatabricksSettings, read_databricks_settings


@dataclass(frozen=True)
class Settings:
    """Everything configurable; build it with `load_settings`."""

    data_dir: Path = Path("data")
    lakehouses: tuple[str, ...] = ("local",)
    runner: str = "local"
    strict: bool = True
    engine: str = ""
    cookie_key: str = field(default="", repr=False)
    databricks: DatabricksSettings = field(default_factory=DatabricksSettings)

    @property
    def databricks_enabled(self) -> bool:
        remote_spark = self.engine == "spark-connect" and not self.databricks.spark_remote
        return "databricks" in self.lakehouses or self.runner == "databricks" or remote_spark

    def with_data_dir(self, data_dir: str | Path) -> Settings:
        return replace(self, data_dir=Path(data_dir))


def _read_secrets_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):  # allow [databricks] server_hostname = ... as well
            for sub, subvalue in value.items():
                flat[f"{key}_{sub}".upper()] = subvalue
        else:
            flat[key.upper()] = value
    return flat


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    secrets_file: str | Path | None = None,
) -> Settings:
    """Resolve settings; raise `ConfigError` naming the setting when strict mode finds a problem."""
    env = dict(os.environ if environ is None else environ)
    secrets_path = Path(secrets_file or env.get("FLOWTYPE_SECRETS_FILE", ".streamlit/secrets.toml"))
    sources: list[Mapping[str, Any]] = [
        {k.upper(): v for k, v in (overrides or {}).items() if v is not None},
        env,
        _read_secrets_file(secrets_path),
    ]

    def get(name: str, default: str = "") -> str:
        for source in sources:
            if name in source and source[name] not in ("", None):
                return str(source[name])
        return default

    lakehouse = get("FLOWTYPE_LAKEHOUSE", "local").lower()
    if lakehouse not in LAKEHOUSE_SETS:
        raise ConfigError(f"FLOWTYPE_LAKEHOUSE={lakehouse!r}: choose one of {', '.join(LAKEHOUSE_SETS)}")
    runner = get("FLOWTYPE_RUNNER", "local").lower()
    if runner not in RUNNERS:
        raise ConfigError(f"FLOWTYPE_RUNNER={runner!r}: choose one of {', '.join(RUNNERS)}")
    engine = get("FLOWTYPE_ENGINE", "").lower()
    if engine and engine not in ENGINES:
        raise ConfigError(
            f"FLOWTYPE_ENGINE={engine!r}: choose one of {', '.join(ENGINES)} (or leave it unset)"
        )
    needs_databricks = "databricks" in LAKEHOUSE_SETS[lakehouse] or runner == "databricks" or bool(engine)
    databricks = read_databricks_settings(get, env, needed=needs_databricks)
    cookie_key = get("FLOWTYPE_COOKIE_KEY")
    for secret in (databricks.token, databricks.client_secret, cookie_key):
        redaction.register_secret(secret)

    settings = Settings(
        data_dir=Path(get("FLOWTYPE_DATA_DIR", "data")),
        lakehouses=LAKEHOUSE_SETS[lakehouse],
        runner=runner,
        engine=engine,
        strict=get("FLOWTYPE_STRICT", "true").lower() not in ("0", "false", "no", "off"),
        cookie_key=cookie_key,
        databricks=databricks,
    )
    if settings.strict:
        check_strict(settings)
    return settings
