"""Databricks settings: read once from the same names the Databricks tools use, checked per use.

Which credentials count (no network is needed to tell):
- `pat`: DATABRICKS_ACCESS_TOKEN or DATABRICKS_TOKEN;
- `oauth-m2m`: DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (a service principal; a Databricks
  App is given exactly these, https://docs.databricks.com/aws/en/dev-tools/databricks-apps/auth);
- `oauth-u2m`: DATABRICKS_AUTH_TYPE=databricks-cli (after `databricks auth login`) or external-browser;
- `profile`: DATABRICKS_PROFILE, a `~/.databrickscfg` section holding any of the above.
https://docs.databricks.com/aws/en/dev-tools/auth/unified-auth names the variables and the order.
A Databricks App gets its resources as `valueFrom` values (app.yaml): the warehouse as
DATABRICKS_WAREHOUSE_ID and the volume as its path, DATABRICKS_VOLUME_PATH=/Volumes/<catalog>/<schema>/<volume>
(https://docs.databricks.com/aws/en/dev-tools/databricks-apps/uc-volumes), which supplies the catalog,
schema and volume names DATABRICKS_CATALOG / _SCHEMA / _VOLUME leave unset.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flowtype_core.errors import ConfigError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")  # the only hosts plain http and short retries are for
U2M_AUTH_TYPES = ("databricks-cli", "external-browser")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,254}")
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
SIGN_IN_SETTINGS = {  # what to check when a sign-in method is refused
    "pat": "DATABRICKS_ACCESS_TOKEN",
    "oauth-m2m": "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET",
    "oauth-u2m": "`databricks auth login --host <workspace>`",
    "profile": "the DATABRICKS_PROFILE section of ~/.databrickscfg",
}
HOW_TO_FIX = (
    "Set them as environment variables or in .streamlit/secrets.toml (see "
    ".streamlit/secrets.toml.example), use DATABRICKS_PROFILE for a ~/.databrickscfg profile, or set "
    "FLOWTYPE_LAKEHOUSE=local and FLOWTYPE_RUNNER=local to run on local files only."
)
NO_CREDENTIALS = (
    "no Databricks credentials are set: give DATABRICKS_ACCESS_TOKEN (a personal access token), or "
    "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (OAuth machine-to-machine), or "
    "DATABRICKS_AUTH_TYPE=databricks-cli after `databricks auth login` (OAuth user-to-machine), or "
    "DATABRICKS_PROFILE"
)


@dataclass(frozen=True)
class DatabricksSettings:
    """Where the workspace is and how to sign in; `token` and `client_secret` are secrets."""

    server_hostname: str = ""
    http_path: str = ""
    token: str = field(default="", repr=False)
    profile: str = ""
    catalog: str = "main"
    schema: str = "flowtype"
    volume: str = "flowtype_staging"
    job_id: str = ""
    warehouse_id: str = ""
    # OAuth machine-to-machine credentials (a Databricks App gets these instead of a token).
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    auth_type_setting: str = ""  # DATABRICKS_AUTH_TYPE as given (databricks-cli, external-browser, ...)
    config_file: str = ""
    cluster_id: str = ""  # Databricks Connect: this cluster, else serverless compute
    spark_remote: str = ""  # SPARK_REMOTE, a Spark Connect URL (sc://host:port) that replaces the workspace
    # Test and private-deployment hooks: a full URL (http://127.0.0.1:PORT) replaces https://host.
    server_url: str = ""
    tls_ca_file: str = ""

    @property
    def host_url(self) -> str:
        if self.server_url:
            return self.server_url.rstrip("/")
        return f"https://{self.server_hostname}" if self.server_hostname else ""

    @property
    def auth_type(self) -> str:
        """The sign-in method these settings complete (`pat`, `oauth-m2m`, `oauth-u2m`, `profile`), or ""."""
        if self.token:
            return "pat"
        if self.client_id and self.client_secret:
            return "oauth-m2m"
        if self.auth_type_setting in U2M_AUTH_TYPES:
            return "oauth-u2m"
        if self.profile:
            return "profile"
        return ""


def read_databricks_settings(
    get: Callable[[str], str], env: Mapping[str, str], *, needed: bool
) -> DatabricksSettings:
    """Resolve the settings from `get` (overrides, environment, secrets file) and the profile file.

    A profile supplies host and credentials the other sources leave unset; it is read when named,
    or (the `DEFAULT` section) when Databricks is `needed`.
    """
    profile_name = get("DATABRICKS_PROFILE")
    config_file = get("DATABRICKS_CONFIG_FILE") or str(Path.home() / ".databrickscfg")
    profile = _read_profile(profile_name, Path(config_file)) if (profile_name or needed) else {}
    host = get("DATABRICKS_SERVER_HOSTNAME") or get("DATABRICKS_HOST") or profile.get("host", "")
    host = host.removeprefix("https://").removeprefix("http://").rstrip("/")
    warehouse_id = get("DATABRICKS_WAREHOUSE_ID") or profile.get("warehouse_id", "")
    http_path = get("DATABRICKS_HTTP_PATH") or (f"/sql/1.0/warehouses/{warehouse_id}" if warehouse_id else "")
    catalog, schema, volume = _volume_names(get("DATABRICKS_VOLUME_PATH"))
    return DatabricksSettings(
        server_hostname=host,
        http_path=http_path,
        token=get("DATABRICKS_ACCESS_TOKEN") or get("DATABRICKS_TOKEN") or profile.get("token", ""),
        profile=profile_name,
        catalog=get("DATABRICKS_CATALOG") or catalog or "main",
        schema=get("DATABRICKS_SCHEMA") or schema or "flowtype",
        volume=get("DATABRICKS_VOLUME") or volume or "flowtype_staging",
        job_id=get("DATABRICKS_JOB_ID"),
        warehouse_id=warehouse_id,
        client_id=get("DATABRICKS_CLIENT_ID") or profile.get("client_id", ""),
        client_secret=get("DATABRICKS_CLIENT_SECRET") or profile.get("client_secret", ""),
        auth_type_setting=(get("DATABRICKS_AUTH_TYPE") or profile.get("auth_type", "")).lower(),
        config_file=config_file if (profile_name or get("DATABRICKS_CONFIG_FILE")) else "",
        cluster_id=get("DATABRICKS_CLUSTER_ID") or profile.get("cluster_id", ""),
        spark_remote=get("SPARK_REMOTE"),
        server_url=get("FLOWTYPE_DATABRICKS_SERVER_URL"),
        tls_ca_file=get("FLOWTYPE_DATABRICKS_CA_FILE"),
    )


def _volume_names(path: str) -> tuple[str, str, str]:
    """(catalog, schema, volume) of a `/Volumes/<catalog>/<schema>/<volume>` path; empty names when unset."""
    if not path:
        return "", "", ""
    parts = path.strip().rstrip("/").split("/")
    if len(parts) != 5 or parts[:2] != ["", "Volumes"] or not all(_NAME.fullmatch(p) for p in parts[2:]):
        raise ConfigError(
            f"DATABRICKS_VOLUME_PATH={path!r} is not a volume path: expected /Volumes/<catalog>/<schema>/<volume>"
        )
    return parts[2], parts[3], parts[4]


def _read_profile(name: str, cfg_path: Path) -> dict[str, str]:
    if not cfg_path.is_file():
        if name:
            raise ConfigError(f"DATABRICKS_PROFILE={name!r} is set but {cfg_path} does not exist")
        return {}
    parser = configparser.ConfigParser()
    parser.read(cfg_path)
    section = name or "DEFAULT"
    if section != "DEFAULT" and not parser.has_section(section):
        raise ConfigError(f"DATABRICKS_PROFILE={name!r} is not a profile in {cfg_path}")
    return dict(parser[section])


def is_placeholder(value: str) -> bool:
    """True for values copied from an example file and never filled in."""
    low = value.strip().lower()
    return any(marker in low for marker in _PLACEHOLDER_MARKERS)


def check_name(value: str, setting: str) -> str:
    """A Unity Catalog name from configuration, safe to quote with backticks."""
    if not _NAME.fullmatch(value or ""):
        raise ConfigError(
            f"{setting}={value!r} is not a valid Unity Catalog name: use letters, digits, '_' or '-'."
        )
    return value


def workspace_problems(db: DatabricksSettings) -> list[str]:
    """What stops any Databricks client: no host, or no complete sign-in method (named)."""
    problems = _values(
        [("DATABRICKS_HOST (or DATABRICKS_SERVER_HOSTNAME)", db.server_hostname or db.server_url)]
    )
    if db.client_id and not db.client_secret and not db.token:
        problems.append("DATABRICKS_CLIENT_SECRET is not set (DATABRICKS_CLIENT_ID is)")
    elif db.client_secret and not db.client_id and not db.token:
        problems.append("DATABRICKS_CLIENT_ID is not set (DATABRICKS_CLIENT_SECRET is)")
    elif not db.auth_type:
        problems.append(NO_CREDENTIALS)
    secrets = [("DATABRICKS_ACCESS_TOKEN", db.token), ("DATABRICKS_CLIENT_SECRET", db.client_secret)]
    problems += _values([(name, value) for name, value in secrets if value])
    return problems


def warehouse_problems(db: DatabricksSettings) -> list[str]:
    """What the SQL warehouse needs beyond the workspace: where it is and where the tables go."""
    return workspace_problems(db) + _values(
        [
            ("DATABRICKS_HTTP_PATH (or DATABRICKS_WAREHOUSE_ID)", db.http_path),
            ("DATABRICKS_CATALOG", db.catalog),
            ("DATABRICKS_SCHEMA", db.schema),
        ]
    )


def _values(required: list[tuple[str, str]]) -> list[str]:
    problems = []
    for name, value in required:
        if not value:
            problems.append(f"{name} is not set")
        elif is_placeholder(value):
            problems.append(f"{name} still holds a placeholder value from the example file")
    return problems
