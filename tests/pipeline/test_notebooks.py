"""The notebooks: the Jupyter one executes headless; each Databricks one runs its layer locally."""

from __future__ import annotations

import runpy
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from flowtype_core.pipeline import local_context
from flowtype_core.pipeline.tables import GOLD_PARTICIPANTS, PIPELINE_TABLES

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LAYER_NOTEBOOKS = {
    "bronze": "01_bronze_ingestion.py",
    "silver": "02_silver_transformations.py",
    "gold": "03_gold_aggregations.py",
    "train_ranker": "04_train_ranker.py",
}


def test_explore_notebook_executes_headless(
    store_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = store_copy(5)
    monkeypatch.setenv("FLOWTYPE_DATA_DIR", str(data_dir))  # the kernel inherits the environment
    notebook = nbformat.read(NOTEBOOKS / "explore.ipynb", as_version=4)

    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "5 participants; published: Dhakal" in text
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)  # the plots
    assert local_context(data_dir).catalog.version(GOLD_PARTICIPANTS) is not None


def test_databricks_notebooks_run_their_layer_on_local_data(
    store_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = store_copy(3)
    monkeypatch.setenv("FLOWTYPE_DATA_DIR", str(data_dir))
    monkeypatch.chdir(NOTEBOOKS)  # where Databricks runs a notebook from

    for layer, name in LAYER_NOTEBOOKS.items():
        source = (NOTEBOOKS / name).read_text("utf-8")
        assert source.startswith("# Databricks notebook source\n")
        assert "\n# COMMAND ----------\n" in source
        figures = runpy.run_path(str(NOTEBOOKS / name), run_name="__main__")["figures"]
        assert figures["layer"] == layer
        assert figures["rows_in"] > 0

    assert figures["details"]["trained"] is True
    assert Path(figures["details"]["model_path"]).parent == data_dir / "models"
    catalog = local_context(data_dir).catalog
    assert all(catalog.version(table) is not None for table in PIPELINE_TABLES)
