"""databricks.yml and app.yaml hold only fields the Databricks docs list, and the App they start works.

A bundle resource takes the fields of the REST object it creates
(https://docs.databricks.com/aws/en/dev-tools/bundles/resources): the SDK's dataclasses of those
objects (`jobs.JobSettings`, `jobs.Task`, `compute.ClusterSpec`, `apps.App`, `apps.AppResource`, the
Volumes `create` call) are the machine-readable list checked here, enums included. The top-level and
artifact mappings follow https://docs.databricks.com/aws/en/dev-tools/bundles/settings, app.yaml
https://docs.databricks.com/aws/en/dev-tools/databricks-apps/app-runtime.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from databricks.sdk.service import apps, compute, jobs
from databricks.sdk.service.catalog import VolumesAPI, VolumeType

from flowtype_core.pipeline import plan
from flowtype_core.pipeline.notebook import WIDGETS

ROOT = Path(__file__).resolve().parents[2]
BUNDLE_TOP_LEVEL = {  # bundles/settings: the top-level mappings
    "bundle", "variables", "artifacts", "include", "sync", "resources", "targets", "workspace",
    "permissions", "run_as", "presets", "experimental", "scripts", "python",
}  # fmt: skip
# bundles/settings#artifacts
ARTIFACT_FIELDS = {"type", "path", "build", "files", "executable", "dynamic_version"}
TARGET_FIELDS = {  # bundles/settings#targets
    "default", "mode", "workspace", "variables", "resources", "artifacts", "sync", "permissions",
    "run_as", "presets", "bundle", "git", "cluster_id", "compute_id",
}  # fmt: skip
# bundles/resources#app: what a bundle adds to the App object
APP_BUNDLE_ONLY = {"source_code_path", "config", "permissions"}
VOLUME_BUNDLE_ONLY = {"grants"}  # bundles/resources#volume
APP_YAML_FIELDS = {"command", "env"}  # databricks-apps/app-runtime
RESOURCE_PERMISSIONS = {
    "sql_warehouse": apps.AppResourceSqlWarehouseSqlWarehousePermission,
    "job": apps.AppResourceJobJobPermission,
    "uc_securable": apps.AppResourceUcSecurableUcSecurablePermission,
}


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / name).read_text("utf-8"))


def names(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def unknown(mapping: dict[str, Any], allowed: set[str]) -> set[str]:
    return set(mapping) - allowed


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return load("databricks.yml")


def test_bundle_job_runs_the_layer_notebooks_in_order(bundle: dict[str, Any]) -> None:
    job = bundle["resources"]["jobs"]["flowtype_pipeline"]
    tasks = job["tasks"]

    assert [t["task_key"] for t in tasks] == list(plan("all"))
    for previous, task in zip(tasks, tasks[1:], strict=False):
        assert task["depends_on"] == [{"task_key": previous["task_key"]}]
    for task in tasks:
        notebook = (ROOT / task["notebook_task"]["notebook_path"]).read_text("utf-8")
        assert notebook.startswith("# Databricks notebook source\n")
        assert f"run_{task['task_key']}(context)" in notebook
    assert [p["name"] for p in job["parameters"]] == list(WIDGETS)


def test_job_tasks_install_the_wheel_the_bundle_builds(bundle: dict[str, Any]) -> None:
    (artifact,) = bundle["artifacts"].values()
    assert artifact["type"] == "whl" and (ROOT / artifact["path"] / "pyproject.toml").is_file()
    wheel_dir = re.search(r"--wheel-dir (\S+)", artifact["build"]).group(1)  # where the build puts it
    built = f"./{wheel_dir}/*.whl"
    job = bundle["resources"]["jobs"]["flowtype_pipeline"]
    clusters = {c["job_cluster_key"] for c in job["job_clusters"]}
    for task in job["tasks"]:
        assert {"whl": built} in task["libraries"], task["task_key"]
        assert task["job_cluster_key"] in clusters  # task libraries need a cluster (not serverless)
        notebook = (ROOT / task["notebook_task"]["notebook_path"]).read_text("utf-8")
        assert "%pip" not in notebook and "sys.path" not in notebook
    ranker = next(t for t in job["tasks"] if t["task_key"] == "train_ranker")
    pinned = {lib["pypi"]["package"] for lib in ranker["libraries"] if "pypi" in lib}
    requirements = set((ROOT / "requirements.txt").read_text("utf-8").split())
    assert {p.split("==")[0] for p in pinned} == {"lightgbm", "scikit-learn"} and pinned <= requirements


def test_bundle_uses_only_documented_fields(bundle: dict[str, Any]) -> None:
    assert not unknown(bundle, BUNDLE_TOP_LEVEL)
    for artifact in bundle["artifacts"].values():
        assert not unknown(artifact, ARTIFACT_FIELDS)
    for job in bundle["resources"]["jobs"].values():
        assert not unknown(job, names(jobs.JobSettings))
        for parameter in job["parameters"]:
            assert not unknown(parameter, names(jobs.JobParameterDefinition))
        for cluster in job["job_clusters"]:
            assert not unknown(cluster, names(jobs.JobCluster))
            assert not unknown(cluster["new_cluster"], names(compute.ClusterSpec))
            compute.DataSecurityMode(cluster["new_cluster"]["data_security_mode"])
        for task in job["tasks"]:
            assert not unknown(task, names(jobs.Task))
            assert not unknown(task["notebook_task"], names(jobs.NotebookTask))
            for dependency in task.get("depends_on", []):
                assert not unknown(dependency, names(jobs.TaskDependency))
            for library in task["libraries"]:
                assert len(library) == 1 and not unknown(library, names(compute.Library))
    volume_fields = set(inspect.signature(VolumesAPI.create).parameters) - {"self"}
    for volume in bundle["resources"]["volumes"].values():
        assert not unknown(volume, volume_fields | VOLUME_BUNDLE_ONLY)
        VolumeType(volume["volume_type"])
    for target in bundle["targets"].values():
        assert not unknown(target, TARGET_FIELDS)
        assert target["mode"] in ("development", "production")


def test_prod_target_sets_the_root_path_production_mode_requires(bundle: dict[str, Any]) -> None:
    prod = bundle["targets"]["prod"]
    assert prod["mode"] == "production"
    assert prod["workspace"]["root_path"].startswith("/Workspace/")


def test_app_declares_the_warehouse_job_and_volume_with_valid_permissions(bundle: dict[str, Any]) -> None:
    app = bundle["resources"]["apps"]["flowtype"]
    assert not unknown(app, names(apps.App) | APP_BUNDLE_ONLY)
    kinds = {}
    for resource in app["resources"]:
        assert not unknown(resource, names(apps.AppResource))
        (kind,) = set(resource) - {"name", "description"}  # exactly one resource type each
        kinds[kind] = resource[kind]
        RESOURCE_PERMISSIONS[kind](resource[kind]["permission"])  # a permission the API knows
    assert kinds["sql_warehouse"] == {"id": "${var.warehouse_id}", "permission": "CAN_USE"}
    assert kinds["job"] == {"id": "${resources.jobs.flowtype_pipeline.id}", "permission": "CAN_MANAGE_RUN"}
    volume = kinds["uc_securable"]
    assert volume["securable_type"] == apps.AppResourceUcSecurableUcSecurableType.VOLUME.value
    assert volume["permission"] == "WRITE_VOLUME"  # the runner uploads session files, reads models
    for part in ("catalog_name", "schema_name", "name"):
        assert f"${{resources.volumes.flowtype_volume.{part}}}" in volume["securable_full_name"]
    assert not unknown(volume, names(apps.AppResourceUcSecurable))


def test_app_yaml_takes_every_resource_through_value_from(bundle: dict[str, Any]) -> None:
    app = load("app.yaml")
    assert not unknown(app, APP_YAML_FIELDS)
    assert app["command"][:3] == ["streamlit", "run", "app.py"]
    assert (ROOT / app["command"][2]).is_file()
    for item in app["env"]:
        assert set(item) in ({"name", "value"}, {"name", "valueFrom"}), item
    resources = {r["name"] for r in bundle["resources"]["apps"]["flowtype"]["resources"]}
    taken = {e["valueFrom"] for e in app["env"] if "valueFrom" in e}
    assert taken == resources
    env = {e["name"]: e.get("value") for e in app["env"]}
    assert env["FLOWTYPE_LAKEHOUSE"] == env["FLOWTYPE_RUNNER"] == "databricks"
    assert not env["FLOWTYPE_DATA_DIR"].startswith("/tmp")


def app_environment(bundle: dict[str, Any], home: Path) -> dict[str, str]:
    """What a Databricks App's process sees: the platform's variables plus app.yaml's, resolved."""
    defaults = {key: value["default"] for key, value in bundle["variables"].items() if "default" in value}
    given = {  # what each app resource's valueFrom yields (databricks-apps/resources)
        "sql-warehouse": "5a1b2c3d4e5f6a7b",
        "pipeline-job": "912345678901234",
        "sessions-volume": f"/Volumes/{defaults['catalog']}/{defaults['schema']}/{defaults['volume']}",
    }
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),  # no ~/.databrickscfg, no secrets file
        "DATABRICKS_HOST": "https://adb-1234567890123456.7.azuredatabricks.net",
        "DATABRICKS_CLIENT_ID": "6c1a3f0e-0000-4000-8000-00000000a991",
        "DATABRICKS_CLIENT_SECRET": "dose1234567890abcdef",
        "DATABRICKS_APP_PORT": "8000",
        "DATABRICKS_APP_NAME": "flowtype-dev",
        "PYTHONPATH": str(ROOT),
    }
    for item in load("app.yaml")["env"]:
        env[item["name"]] = item["value"] if "value" in item else given[item["valueFrom"]]
    return env


def test_config_resolves_under_an_app_environment(bundle: dict[str, Any], tmp_path: Path) -> None:
    env = app_environment(bundle, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "flowtype_core", "config", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    db = shown["databricks"]
    assert (shown["lakehouse"], shown["runner"], shown["strict"]) == ("databricks", "databricks", True)
    assert db["auth_type"] == "oauth-m2m" and db["client_secret"] == "***"
    assert db["http_path"] == "/sql/1.0/warehouses/5a1b2c3d4e5f6a7b"
    assert db["job_id"] == "912345678901234"
    variables = bundle["variables"]
    assert (db["catalog"], db["schema"], db["volume"]) == tuple(
        variables[k]["default"] for k in ("catalog", "schema", "volume")
    )
    assert env["DATABRICKS_CLIENT_SECRET"] not in done.stdout + done.stderr
