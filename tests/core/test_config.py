"""Settings: precedence, strict mode with placeholder rejection, and secret redaction."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from flowtype_core import redaction
from flowtype_core.config import load_settings
from flowtype_core.errors import ConfigError

TOKEN = "dapi0123456789abcdef0123456789abcdef"


def test_defaults_are_the_embedded_local_setup():
    settings = load_settings(environ={})
    assert settings.lakehouses == ("local",) and settings.runner == "local"
    assert settings.data_dir == Path("data")


def test_precedence_override_then_env_then_secrets_file(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('FLOWTYPE_DATA_DIR = "from-file"\nDATABRICKS_CATALOG = "filecat"\n')
    env = {"FLOWTYPE_DATA_DIR": "from-env"}
    assert load_settings(environ=env, secrets_file=secrets).data_dir == Path("from-env")
    assert load_settings(
        {"FLOWTYPE_DATA_DIR": "explicit"}, environ=env, secrets_file=secrets
    ).data_dir == Path("explicit")
    assert load_settings(environ={}, secrets_file=secrets).databricks.catalog == "filecat"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"FLOWTYPE_LAKEHOUSE": "databricks"}, "DATABRICKS_HOST (or DATABRICKS_SERVER_HOSTNAME) is not set"),
        (
            {
                "FLOWTYPE_LAKEHOUSE": "both",
                "DATABRICKS_SERVER_HOSTNAME": "your-workspace.cloud.databricks.com",
                "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/abc",
                "DATABRICKS_ACCESS_TOKEN": TOKEN,
            },
            "DATABRICKS_HOST (or DATABRICKS_SERVER_HOSTNAME) still holds a placeholder",
        ),
        (
            {
                "FLOWTYPE_LAKEHOUSE": "databricks",
                "DATABRICKS_SERVER_HOSTNAME": "adb-1.azuredatabricks.net",
                "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/abc",
                "DATABRICKS_ACCESS_TOKEN": "your-token",
            },
            "DATABRICKS_ACCESS_TOKEN still holds a placeholder",
        ),
        (
            {
                "FLOWTYPE_LAKEHOUSE": "databricks",
                "DATABRICKS_SERVER_HOSTNAME": "adb-1.azuredatabricks.net",
                "DATABRICKS_ACCESS_TOKEN": TOKEN,
            },
            "DATABRICKS_HTTP_PATH (or DATABRICKS_WAREHOUSE_ID) is not set",
        ),
        (
            {"FLOWTYPE_RUNNER": "databricks", "DATABRICKS_HOST": "https://adb-1.azuredatabricks.net"},
            "no Databricks credentials are set: give DATABRICKS_ACCESS_TOKEN",
        ),
        (
            {
                "FLOWTYPE_RUNNER": "databricks",
                "DATABRICKS_HOST": "https://adb-1.azuredatabricks.net",
                "DATABRICKS_CLIENT_ID": "app-id",
            },
            "DATABRICKS_CLIENT_SECRET is not set (DATABRICKS_CLIENT_ID is)",
        ),
    ],
)
def test_strict_mode_names_the_setting(env, named):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=env, secrets_file="/nonexistent")
    assert named in str(caught.value)
    assert "secrets.toml" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_complete_databricks_settings_pass_and_profile_is_read(tmp_path):
    cfg = tmp_path / "databrickscfg"
    cfg.write_text(f"[work]\nhost = https://adb-7.azuredatabricks.net\ntoken = {TOKEN}\n")
    settings = load_settings(
        environ={
            "FLOWTYPE_LAKEHOUSE": "databricks",
            "DATABRICKS_PROFILE": "work",
            "DATABRICKS_CONFIG_FILE": str(cfg),
            "DATABRICKS_HTTP_PATH": "/sql/1.0/w/x",
        },
        secrets_file="/nonexistent",
    )
    assert settings.databricks.server_hostname == "adb-7.azuredatabricks.net"
    assert settings.databricks.host_url == "https://adb-7.azuredatabricks.net"
    assert TOKEN not in repr(settings)


def test_unknown_choice_is_refused():
    with pytest.raises(ConfigError, match="FLOWTYPE_LAKEHOUSE"):
        load_settings(environ={"FLOWTYPE_LAKEHOUSE": "s3"})


def test_tokens_never_reach_a_log_line(caplog):
    load_settings(environ={"DATABRICKS_ACCESS_TOKEN": TOKEN, "FLOWTYPE_STRICT": "false"})
    redaction.install()
    log = logging.getLogger("some.third.party")
    with caplog.at_level(logging.INFO):
        log.info("connecting with %s", TOKEN)
        log.warning("header Authorization: Bearer %s", "abcdefghijklmnop")
        try:
            raise RuntimeError(f"failed with token={TOKEN}")
        except RuntimeError:
            log.exception("boom")
    text = caplog.text
    assert TOKEN not in text and "abcdefghijklmnop" not in text
    assert text.count(redaction.MASK) >= 3
    assert redaction.redact(f"x {TOKEN} y") == f"x {redaction.MASK} y"


def test_oauth_client_credentials_serve_the_runner_and_the_warehouse():
    env = {
        "FLOWTYPE_RUNNER": "databricks",
        "DATABRICKS_HOST": "https://adb-1.azuredatabricks.net",
        "DATABRICKS_CLIENT_ID": "app-id",
        "DATABRICKS_CLIENT_SECRET": "oauth-secret-value",
    }
    settings = load_settings(environ=env, secrets_file="/nonexistent")
    assert settings.databricks.client_id == "app-id"
    assert settings.databricks.auth_type == "oauth-m2m"
    assert "oauth-secret-value" not in repr(settings)
    assert redaction.redact("x oauth-secret-value") == f"x {redaction.MASK}"
    both = load_settings(
        environ={**env, "FLOWTYPE_LAKEHOUSE": "databricks", "DATABRICKS_WAREHOUSE_ID": "abc123"},
        secrets_file="/nonexistent",
    )
    assert both.databricks.http_path == "/sql/1.0/warehouses/abc123"


@pytest.mark.parametrize(
    ("env", "auth_type"),
    [
        ({"DATABRICKS_TOKEN": TOKEN}, "pat"),
        ({"DATABRICKS_CLIENT_ID": "id", "DATABRICKS_CLIENT_SECRET": "s3cret-value"}, "oauth-m2m"),
        ({"DATABRICKS_AUTH_TYPE": "databricks-cli"}, "oauth-u2m"),
        ({"DATABRICKS_AUTH_TYPE": "external-browser"}, "oauth-u2m"),
    ],
)
def test_any_complete_sign_in_method_passes_strict_mode(env, auth_type, tmp_path):
    settings = load_settings(
        environ={
            "FLOWTYPE_LAKEHOUSE": "databricks",
            "DATABRICKS_HOST": "https://adb-1.azuredatabricks.net",
            "DATABRICKS_HTTP_PATH": "/sql/1.0/warehouses/abc",
            "DATABRICKS_CONFIG_FILE": str(tmp_path / "none.cfg"),
            **env,
        },
        secrets_file="/nonexistent",
    )
    assert settings.databricks.auth_type == auth_type


def test_a_profile_supplies_host_and_oauth_credentials(tmp_path):
    cfg = tmp_path / "databrickscfg"
    cfg.write_text(
        "[sp]\nhost = https://adb-9.azuredatabricks.net\nclient_id = sp-id\nclient_secret = sp-secret-value\n"
        "warehouse_id = wh9\n"
    )
    settings = load_settings(
        environ={
            "FLOWTYPE_LAKEHOUSE": "databricks",
            "DATABRICKS_PROFILE": "sp",
            "DATABRICKS_CONFIG_FILE": str(cfg),
        },
        secrets_file="/nonexistent",
    )
    db = settings.databricks
    assert (db.server_hostname, db.http_path, db.auth_type) == (
        "adb-9.azuredatabricks.net",
        "/sql/1.0/warehouses/wh9",
        "oauth-m2m",
    )
    assert redaction.redact("sp-secret-value") == redaction.MASK


def test_an_app_volume_path_names_catalog_schema_and_volume_unless_they_are_set():
    path = {"DATABRICKS_VOLUME_PATH": "/Volumes/lab/typing/sessions_v2/"}
    db = load_settings(environ=path, secrets_file="/nonexistent").databricks
    assert (db.catalog, db.schema, db.volume) == ("lab", "typing", "sessions_v2")
    mixed = load_settings(environ={**path, "DATABRICKS_SCHEMA": "other"}, secrets_file="/nonexistent")
    assert (mixed.databricks.catalog, mixed.databricks.schema) == ("lab", "other")


@pytest.mark.parametrize(
    "value", ["lab/typing/v", "/Volumes/lab/typing", "/Volumes/lab/ty ping/v", "/tmp/a/b/c"]
)
def test_a_malformed_volume_path_is_refused_by_name(value):
    with pytest.raises(
        ConfigError, match="DATABRICKS_VOLUME_PATH=.*expected /Volumes/<catalog>/<schema>/<volume>"
    ):
        load_settings(environ={"DATABRICKS_VOLUME_PATH": value}, secrets_file="/nonexistent")
