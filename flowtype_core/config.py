"""One typed settings object, read from arguments, the environment and `.streamlit/secrets.toml`.

Precedence: explicit overrides, then environment variables, then the secrets file, then the
Databricks unified-auth profile (`~/.databrickscfg`) for host and token, then defaults. Names are
the ones the Databricks tools use, so one environment serves the CLI, the app and notebooks.
"""

from __future__ import annotations

import configparser
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from flowtype_core import redaction
from flowtype_core.errors import ConfigError

LAKEHOUSE_CHOICES = {"local": ("local",), "databricks": ("databricks",), "both": ("local", "databricks")}
RUNNER_CHOICES = ("local", "databricks")
_PLACEHOLDER_MARKERS = (
    "your-",
    "your_",
    "<",
    "changeme",
    "change-me",
    "xxxx",
    "example.com",
    "placeholder",
    "todo",
)


@dataclass(frozen=True)
class DatabricksSettings:
    """Connection settings for the SQL warehouse and the Jobs API; `token` is a secret."""

    server_hostname: str = ""
    http_path: str = ""
    token: str = field(default="", repr=False)
    profile: str = ""
    catalog: str = "main"
    schema: str = "flowtype"
    volume: str = "flowtype_staging"
    job_id: str = ""
    # OAuth machine-to-machine credentials (a Databricks App gets these instead of a token).
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    # Test and private-deployment hooks: a full URL (http://127.0.0.1:PORT) replaces https://host.
    server_url: str = ""
    tls_ca_file: str = ""

    @property
    def host_url(self) -> str:
        if self.server_url:
            return self.server_url.rstrip("/")
        return f"https://{self.server_hostname}" if self.server_hostname else ""


@dataclass(frozen=True)
class Settings:
    """Everything configurable; build it with `load_settings`."""

    data_dir: Path = Path("data")
    lakehouses: tuple[str, ...] = ("local",)
    runner: str = "local"
    strict: bool = True
    cookie_key: str = field(default="", repr=False)
    databricks: DatabricksSettings = field(default_factory=DatabricksSettings)

    @property
    def databricks_enabled(self) -> bool:
        return "databricks" in self.lakehouses or self.runner == "databricks"

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


def _read_profile(name: str, env: Mapping[str, str]) -> dict[str, str]:
    cfg_path = Path(env.get("DATABRICKS_CONFIG_FILE", Path.home() / ".databrickscfg"))
    if not cfg_path.is_file():
        return {}
    parser = configparser.ConfigParser()
    parser.read(cfg_path)
    section = name or "DEFAULT"
    if section != "DEFAULT" and not parser.has_section(section):
        raise ConfigError(f"DATABRICKS_PROFILE={name!r} is not a profile in {cfg_path}")
    return dict(parser[section])


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
    if lakehouse not in LAKEHOUSE_CHOICES:
        raise ConfigError(f"FLOWTYPE_LAKEHOUSE={lakehouse!r}: choose one of {', '.join(LAKEHOUSE_CHOICES)}")
    runner = get("FLOWTYPE_RUNNER", "local").lower()
    if runner not in RUNNER_CHOICES:
        raise ConfigError(f"FLOWTYPE_RUNNER={runner!r}: choose one of {', '.join(RUNNER_CHOICES)}")

    profile_name = get("DATABRICKS_PROFILE")
    needs_databricks = "databricks" in LAKEHOUSE_CHOICES[lakehouse] or runner == "databricks"
    profile = _read_profile(profile_name, env) if (profile_name or needs_databricks) else {}
    host = get("DATABRICKS_SERVER_HOSTNAME") or get("DATABRICKS_HOST") or profile.get("host", "")
    host = host.removeprefix("https://").removeprefix("http://").rstrip("/")
    token = get("DATABRICKS_ACCESS_TOKEN") or get("DATABRICKS_TOKEN") or profile.get("token", "")
    cookie_key = get("FLOWTYPE_COOKIE_KEY")
    client_secret = get("DATABRICKS_CLIENT_SECRET")
    redaction.register_secret(client_secret)
    redaction.register_secret(token)
    redaction.register_secret(cookie_key)

    settings = Settings(
        data_dir=Path(get("FLOWTYPE_DATA_DIR", "data")),
        lakehouses=LAKEHOUSE_CHOICES[lakehouse],
        runner=runner,
        strict=get("FLOWTYPE_STRICT", "true").lower() not in ("0", "false", "no", "off"),
        cookie_key=cookie_key,
        databricks=DatabricksSettings(
            server_hostname=host,
            http_path=get("DATABRICKS_HTTP_PATH"),
            token=token,
            profile=profile_name,
            catalog=get("DATABRICKS_CATALOG", "main"),
            schema=get("DATABRICKS_SCHEMA", "flowtype"),
            volume=get("DATABRICKS_VOLUME", "flowtype_staging"),
            job_id=get("DATABRICKS_JOB_ID"),
            client_id=get("DATABRICKS_CLIENT_ID"),
            client_secret=client_secret,
            server_url=get("FLOWTYPE_DATABRICKS_SERVER_URL"),
            tls_ca_file=get("FLOWTYPE_DATABRICKS_CA_FILE"),
        ),
    )
    if settings.strict:
        check_strict(settings)
    return settings


def is_placeholder(value: str) -> bool:
    """True for values copied from an example file and never filled in."""
    low = value.strip().lower()
    return any(marker in low for marker in _PLACEHOLDER_MARKERS)


def check_strict(settings: Settings) -> None:
    """Refuse a Databricks configuration with missing or placeholder secrets, naming each one."""
    if not settings.databricks_enabled:
        return
    db = settings.databricks
    required: list[tuple[str, str]] = [("DATABRICKS_SERVER_HOSTNAME", db.server_hostname or db.server_url)]
    # The SQL warehouse needs a token; the Jobs API also takes OAuth client credentials (Databricks Apps).
    if "databricks" in settings.lakehouses or not (db.client_id and db.client_secret):
        required.append(("DATABRICKS_ACCESS_TOKEN", db.token))
    if "databricks" in settings.lakehouses:
        required += [
            ("DATABRICKS_HTTP_PATH", db.http_path),
            ("DATABRICKS_CATALOG", db.catalog),
            ("DATABRICKS_SCHEMA", db.schema),
        ]
    problems = []
    for name, value in required:
        if not value:
            problems.append(f"{name} is not set")
        elif is_placeholder(value):
            problems.append(f"{name} still holds a placeholder value from the example file")
    if problems:
        raise ConfigError(
            "Databricks is enabled but " + "; ".join(problems) + ". Set them as environment variables or "
            "in .streamlit/secrets.toml (see .streamlit/secrets.toml.example), use DATABRICKS_PROFILE "
            "for a ~/.databrickscfg profile, or set FLOWTYPE_LAKEHOUSE=local to run on local files only."
        )
