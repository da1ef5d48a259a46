"""One sign-in for every Databricks client: the SDK's unified `Config`, resolved once per settings.

The SQL connector takes it as `credentials_provider` (its documented hook for OAuth,
https://docs.databricks.com/aws/en/dev-tools/python-sql-connector#oauth-machine-to-machine-m2m-authentication),
and the Jobs and Files clients are one `WorkspaceClient(config=...)` over the same object, so a
PAT, a service principal (a Databricks App's), a `databricks auth login` cache or a profile work
the same everywhere. Building the `Config` may call the workspace (OAuth endpoint discovery), so
it happens at first use, never while settings load.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flowtype_core.errors import ConfigError
from flowtype_core.extras import require
from flowtype_core.redaction import redact, register_secret
from flowtype_core.workspace.settings import LOCAL_HOSTS, DatabricksSettings, workspace_problems

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.config import Config

# The SDK's names for our auth types; a profile brings its own.
_SDK_AUTH_TYPE = {"pat": "pat", "oauth-m2m": "oauth-m2m"}
_configs: dict[DatabricksSettings, Config] = {}
_lock = threading.Lock()


def sdk_config(db: DatabricksSettings) -> Config:
    """The SDK `Config` for these settings, built once and shared by every client."""
    with _lock:
        if db not in _configs:
            _configs[db] = _build(db)
        return _configs[db]


def _build(db: DatabricksSettings) -> Config:
    config_class: type[Config] = require("databricks.sdk.config", "signing in to Databricks").Config

    problems = workspace_problems(db)
    if problems:
        raise ConfigError("Databricks cannot sign in: " + "; ".join(problems))
    register_secret(db.token)
    register_secret(db.client_secret)
    kwargs: dict[str, Any] = {"host": db.host_url, "product": "flowtype"}
    method = db.auth_type
    if method == "pat":
        kwargs["token"] = db.token
    elif method == "oauth-m2m":
        kwargs |= {"client_id": db.client_id, "client_secret": db.client_secret}
    elif method == "oauth-u2m":
        kwargs["auth_type"] = db.auth_type_setting
    if method in _SDK_AUTH_TYPE:
        kwargs["auth_type"] = _SDK_AUTH_TYPE[method]  # one method, even if the environment holds others
    if db.profile:
        kwargs["profile"] = db.profile
    if db.config_file:
        kwargs["config_file"] = db.config_file
    if urlsplit(db.host_url).hostname in LOCAL_HOSTS:  # nothing to wait for on this machine: fail fast
        kwargs |= {"retry_timeout_seconds": 5, "http_timeout_seconds": 10}
    try:
        return config_class(**kwargs)
    except ValueError as exc:  # the SDK's "default auth: cannot configure default credentials ..."
        raise ConfigError(redact(f"Databricks sign-in ({method}) failed: {exc}")) from None


def credentials_provider(db: DatabricksSettings) -> Callable[[], Callable[[], dict[str, str]]]:
    """The SQL connector's `credentials_provider`: it calls this once for a header factory."""
    config = sdk_config(db)
    return lambda: config.authenticate


def workspace_client(db: DatabricksSettings) -> WorkspaceClient:
    """Jobs, Files and the rest of the REST API, signed in like the SQL connection."""
    client: type[WorkspaceClient] = require(
        "databricks.sdk", "the Databricks Jobs and Files clients"
    ).WorkspaceClient
    return client(config=sdk_config(db))
