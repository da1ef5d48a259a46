#!/usr/bin/env python3
"""Prove the extras are optional: FlowType's core in a venv holding only its core dependencies.

Run with the project's `.venv` python. It builds `.venv-core` (no pip, a few seconds) holding the
distributions `pyproject.toml`'s `[project].dependencies` need, and nothing else, linked from the
installed ones (no download, no build), then re-runs itself inside it to check that:
- every `flowtype_core` module imports, except the Databricks backends, which fail only for want
  of the `databricks` extra;
- LightGBM, scikit-learn, the Databricks clients and Streamlit are absent;
- using the ranker, or choosing the Databricks lakehouse or runner, raises an error that names
  `pip install 'flowtype[ranker]'` (resp. `flowtype[databricks]`);
- the typing test's recommender imports and recommends (without a model) without LightGBM.

    .venv/bin/python scripts/core_only.py
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-core"
# Modules whose whole purpose is an optional backend: they may fail to import, for that extra only.
BACKEND_MODULES = {
    "flowtype_core.lakehouse.databricks": "databricks",
    "flowtype_core.workspace.sql": "databricks",  # the SQL connector's connection (the SDK sign-in)
    "flowtype_core.pipeline.warehouse_catalog": "databricks",  # the job's tables over that connection
}
ABSENT = ("lightgbm", "sklearn", "databricks", "streamlit")


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def core_closure() -> list[metadata.Distribution]:
    """The installed distributions the core dependencies need, transitively (markers honoured)."""
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    seen: dict[str, metadata.Distribution] = {}
    todo = [_name(r) for r in core]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        dist = metadata.distribution(name)
        seen[name] = dist
        for requirement in dist.requires or []:
            if ";" in requirement and not _marker_holds(requirement.split(";", 1)[1]):
                continue
            todo.append(_name(requirement))
    return list(seen.values())


def _marker_holds(marker: str) -> bool:
    """Markers of required-by-default dependencies hold; any `extra == ...` one does not."""
    if "extra" in marker:
        return False
    from packaging.markers import Marker  # present wherever pip is

    return Marker(marker).evaluate()


def build() -> Path:
    """A fresh `.venv-core` whose site-packages links only the core closure and the project."""
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(VENV)], check=True)
    python = VENV / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    here = Path(sysconfig.get_paths()["purelib"])
    linked = set()
    for dist in core_closure():
        for file in dist.files or []:
            top = Path(str(file)).parts[0]
            source = here / top
            if top in linked or top.startswith("..") or top == "__pycache__" or not source.exists():
                continue
            (site / top).symlink_to(source)
            linked.add(top)
    (site / "flowtype-core-only.pth").write_text(f"{ROOT}\n")
    return python


def check() -> None:
    """Inside `.venv-core`: the assertions of the module docstring."""
    import importlib
    import pkgutil
    import tempfile

    for name in ABSENT:
        assert importlib.util.find_spec(name) is None, f"{name} is installed in the core-only venv"

    import flowtype_core
    from flowtype_core.extras import EXTRAS, MissingExtra

    failures = {}
    for module in pkgutil.walk_packages(flowtype_core.__path__, "flowtype_core."):
        if module.name.endswith(".__main__"):  # runs the command line when imported
            continue
        try:
            importlib.import_module(module.name)
        except ModuleNotFoundError as exc:
            failures[module.name] = EXTRAS.get((exc.name or "").split(".")[0], exc.name)
    assert failures == BACKEND_MODULES, f"modules failing without the extras: {failures}"

    from flowtype_core import open_workbench
    from flowtype_core.config import Settings
    from flowtype_core.demo import generate_demo
    from flowtype_core.lakehouse.registry import open_lakehouse
    from flowtype_core.pipeline.runners.registry import open_runner
    from flowtype_core.ranker import (
        ModelRegistry,
        examples_from_keystrokes,
        load_model,
        recommend_sentences,
        train_from_frames,
    )
    from flowtype_core.workspace.settings import DatabricksSettings

    def refused(call, extra: str) -> None:
        try:
            call()
        except MissingExtra as exc:
            assert f"pip install 'flowtype[{extra}]'" in str(exc), str(exc)
            return
        raise AssertionError(f"{call} ran without the {extra} extra")

    with tempfile.TemporaryDirectory() as data:
        settings = Settings(data_dir=Path(data))
        refused(lambda: open_lakehouse("databricks", settings), "databricks")
        # A job id is set: the missing extra, not a missing setting, is what must be reported here.
        with_job = Settings(data_dir=Path(data), databricks=DatabricksSettings(job_id="1"))
        refused(lambda: open_runner(with_job, "databricks"), "databricks")
        wb = open_workbench(data_dir=data)
        try:
            picks = recommend_sentences(wb, "typist-1", 3)  # no model yet: the default order
            assert len(picks) == 3 and {p.source for p in picks} == {"default"}
            generate_demo(wb.recorder, participants=3, sessions_per_participant=1, sentences_per_session=6)
            assert wb.publisher.wait_idle(timeout=60)
            examples, units = examples_from_keystrokes(wb.lakehouse.read_table("keystrokes"))
        finally:
            wb.close()
        refused(lambda: train_from_frames(examples, units, models_dir=data), "ranker")
        staged = ModelRegistry(Path(data) / "models").new_staging()
        (staged / "model.txt").write_text("tree\n")
        refused(lambda: load_model(staged), "ranker")
    assert "lightgbm" not in sys.modules
    print("core-only venv: flowtype_core imports and degrades with install hints (extras absent)")


def main() -> None:
    if "--check" in sys.argv:
        check()
        return
    python = build()
    subprocess.run([str(python), str(Path(__file__).resolve()), "--check"], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
