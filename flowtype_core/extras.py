"""Optional dependencies: the core runs without them and says which extra to install when one is used.

`pip install 'flowtype'` gives the store, lakehouse, metrics, pipeline and the typing test;
LightGBM (`ranker`) and the Databricks clients (`databricks`) load only when something needs them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from flowtype_core.errors import FlowTypeError

# Top-level packages only an extra brings (urllib3 comes with the Databricks clients).
EXTRAS = {
    "lightgbm": "ranker",
    "sklearn": "ranker",
    "databricks": "databricks",
    "urllib3": "databricks",
    "databricks.connect": "connect",  # a module of its own inside the `databricks` namespace
}


class MissingExtra(FlowTypeError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def install_hint(package: str) -> str:
    """`pip install 'flowtype[<extra>]'` for an optional top-level package."""
    return f"pip install 'flowtype[{EXTRAS[package]}]'"


def require(module: str, purpose: str) -> ModuleType:
    """Import `module` (an optional package, or a module of ours built on one), or raise
    `MissingExtra` saying what needs it and which extra to install.

    A module that is missing but belongs to no extra is a different problem: its error stands.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        name = exc.name or ""
        missing = next((m for m in (".".join(name.split(".")[:2]), name.split(".")[0]) if m in EXTRAS), "")
        if not missing:
            raise
        raise MissingExtra(
            f"{purpose} needs {missing}, which is not installed: {install_hint(missing)}"
        ) from exc
