"""databricks.yml declares the job the runners and notebooks expect; app.yaml starts this app."""

from __future__ import annotations

from pathlib import Path

import yaml

from flowtype_core.pipeline import plan
from flowtype_core.pipeline.notebook import WIDGETS

ROOT = Path(__file__).resolve().parents[2]


def test_bundle_job_runs_the_layer_notebooks_in_order() -> None:
    bundle = yaml.safe_load((ROOT / "databricks.yml").read_text("utf-8"))
    job = bundle["resources"]["jobs"]["flowtype_pipeline"]
    tasks = job["tasks"]

    assert [t["task_key"] for t in tasks] == list(plan("all"))
    for previous, task in zip(tasks, tasks[1:], strict=False):
        assert task["depends_on"] == [{"task_key": previous["task_key"]}]
    for task in tasks:
        notebook = ROOT / task["notebook_task"]["notebook_path"]
        assert notebook.read_text("utf-8").startswith("# Databricks notebook source\n")
        assert f"run_{task['task_key']}(context)" in notebook.read_text("utf-8")
    assert [p["name"] for p in job["parameters"]] == list(WIDGETS)
    app_job = bundle["resources"]["apps"]["flowtype"]["resources"][0]["job"]
    assert app_job["permission"] == "CAN_MANAGE_RUN"


def test_app_yaml_starts_the_streamlit_app_on_databricks_backends() -> None:
    app = yaml.safe_load((ROOT / "app.yaml").read_text("utf-8"))
    assert app["command"][:3] == ["streamlit", "run", "app.py"]
    assert (ROOT / app["command"][2]).is_file()
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in app["env"]}
    assert env["FLOWTYPE_RUNNER"] == "databricks"
    assert env["DATABRICKS_JOB_ID"] == "pipeline-job"
