"""Optional dependencies: a missing extra names its install command; LightGBM loads only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

from flowtype_core import extras
from flowtype_core.extras import MissingExtra, require
from tests.app.conftest import ROOT


def test_a_missing_extra_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(extras.EXTRAS, "flowtype_absent_package", "ranker")
    with pytest.raises(
        MissingExtra, match=r"training needs flowtype_absent_package.*pip install 'flowtype\[ranker\]'"
    ):
        require("flowtype_absent_package.sub", "training")
    with pytest.raises(ImportError):  # MissingExtra is an ImportError too, for callers that expect one
        require("flowtype_absent_package", "training")


def test_a_missing_module_of_no_extra_keeps_its_own_error() -> None:
    with pytest.raises(ModuleNotFoundError) as caught:
        require("flowtype_not_an_extra", "anything")
    assert not isinstance(caught.value, MissingExtra)


def test_databricks_connect_is_its_own_extra_though_it_shares_the_databricks_namespace() -> None:
    # This environment has the `databricks` extra (the SQL connector, the SDK) but never
    # databricks-connect, which needs Python 3.12 and its own environment.
    with pytest.raises(MissingExtra, match=r"pip install 'flowtype\[connect\]'"):
        require("databricks.connect", "the spark-connect engine")


def test_an_installed_extra_is_returned() -> None:
    assert require("lightgbm", "training").__name__ == "lightgbm"


def test_the_typing_pages_recommender_does_not_load_lightgbm_until_used() -> None:
    code = (
        "import sys; import ui.typing_widgets; from flowtype_core.ranker import recommend_sentences; "
        "import flowtype_core.pipeline.layers, flowtype_core.cli; "
        "print(sorted(m for m in ('lightgbm', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr
