"""The layering rules, checked: the core never imports Streamlit; pages stay thin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_the_core_loads_no_ui_library():
    code = (
        "import sys, flowtype_core, flowtype_core.cli, flowtype_core.demo; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_core_never_touches_spark_context():
    # Databricks Connect (and serverless) has no SparkContext: `spark.sparkContext` raises there.
    users = [p for p in (ROOT / "flowtype_core").rglob("*.py") if "sparkContext" in p.read_text("utf-8")]
    assert users == []
