"""The layering rules, checked: the core never imports Streamlit; pages stay thin."""

from __future__ import annotations

import ast
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


# Pages wire widgets to calls into flowtype_core (or ui/): no frame library, so no computation
# over data can live there, and a function a page defines (a callback) stays a handful of
# statements. Five is what opening a typing session takes: start it, pick sentences, keep the run,
# register the logout hook, rerun.
FRAME_LIBRARIES = ("polars", "pandas", "numpy", "narwhals", "pyarrow", "duckdb")
MAX_PAGE_FUNCTION_STATEMENTS = 5


def page_problems(source: str, name: str) -> list[str]:
    """What makes a page module more than widgets and calls: frame imports, long functions."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            problems += [f"{name} imports {m}" for m in modules if m.split(".")[0] in FRAME_LIBRARIES]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            body = node.body if isinstance(node.body, list) else []
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]  # the docstring
            statements = sum(1 for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.stmt))
            if statements > MAX_PAGE_FUNCTION_STATEMENTS:
                problems.append(f"{name}: {getattr(node, 'name', 'lambda')} has {statements} statements")
    return problems


def test_pages_stay_thin():
    pages = sorted((ROOT / "pages").glob("*.py"))
    assert pages
    problems = [p for page in pages for p in page_problems(page.read_text("utf-8"), page.name)]
    assert problems == []


def test_the_thin_page_rule_catches_a_computation_and_a_long_callback():
    computing = "import polars as pl\nfrom numpy import mean\n"
    long_callback = "def f():\n    '''doc'''\n" + "".join(f"    x{i} = {i}\n" for i in range(6))
    assert page_problems(computing, "p.py") == ["p.py imports polars", "p.py imports numpy"]
    assert page_problems(long_callback, "p.py") == ["p.py: f has 6 statements"]
    assert page_problems(long_callback.replace("    x5 = 5\n", ""), "p.py") == []
