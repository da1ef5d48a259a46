#!/usr/bin/env python3
"""Set up and run FlowType with nothing but Python 3.11 and pip.

    python3 tasks.py run     # create .venv, install, start the app on http://localhost:8501
    python3 tasks.py test    # create .venv, install test tools (+ Debian chromium, the Spark and Connect envs), run all tests
                             # (and the core-only check: scripts/core_only.py)
    python3 tasks.py lint    # ruff + the import contracts
    python3 tasks.py types   # mypy, strict on flowtype_core (also run by `test`, right after lint)

Installs are skipped when the requirement files have not changed since the last one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
NO_INTERPRETER = 3  # scripts/spark_env.py: the environment's Python version is not installed


def sh(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, env=env)


def ensure_venv(requirements: str) -> None:
    """Create .venv and install `requirements` plus the project, once per content change."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any venv exists
        sys.exit(f"FlowType needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PY.exists():
        sh(sys.executable, "-m", "venv", VENV)
    files = [ROOT / requirements, ROOT / "requirements.txt", ROOT / "pyproject.toml"]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    sh(PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", ROOT / requirements)
    sh(PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps", "-e", ROOT)
    stamp.write_text(digest)


def ensure_chromium() -> None:
    """The browser tests drive Debian's chromium; install it when it is missing."""
    if Path("/usr/bin/chromium").exists():
        return
    if shutil.which("apt-get") is None:
        sys.exit("The browser tests need Chromium at /usr/bin/chromium (Debian package 'chromium').")
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    sh(*prefix, "apt-get", "update", "-q")
    sh(*prefix, "apt-get", "install", "-y", "-q", "chromium")


def lint() -> None:
    sh(PY, "-m", "ruff", "check", ".")
    sh(PY, "-m", "ruff", "format", "--check", ".")
    sh(VENV / "bin" / "lint-imports")


def typecheck() -> None:
    """mypy, strict on flowtype_core (pyproject.toml), against the shrinking list of known errors."""
    sh(PY, ROOT / "scripts" / "typecheck.py")


def run(extra: list[str]) -> None:
    ensure_venv("requirements.txt")
    port = os.environ.get("FLOWTYPE_PORT", "8501")
    os.execv(
        str(PY),
        [
            str(PY),
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            port,
            "--browser.gatherUsageStats",
            "false",
            *extra,
        ],
    )


def test(extra: list[str]) -> None:
    ensure_venv("requirements-dev.txt")
    ensure_chromium()
    lint()
    typecheck()
    # The extras stay optional: the core in a venv of only its own dependencies (linked, seconds).
    sh(PY, ROOT / "scripts" / "core_only.py")
    sh(PY, "-m", "pytest", "-m", "not spark and not connect", *extra)
    # PySpark lives in its own environment (never beside databricks-connect); the script builds it once.
    sh(
        sys.executable,
        ROOT / "scripts" / "spark_env.py",
        "--",
        "-m",
        "pytest",
        "-m",
        "spark",
        "tests/spark",
        *extra,
    )
    # databricks-connect itself against PySpark's Spark Connect server; it needs Python 3.12.
    connect = [sys.executable, ROOT / "scripts" / "spark_env.py", "--env", "connect", "--"]
    connect += ["-m", "pytest", "-m", "connect", "tests/connect", *extra]
    print("+", " ".join(map(str, connect)), flush=True)
    code = subprocess.run([str(c) for c in connect], cwd=ROOT).returncode
    if code == NO_INTERPRETER:
        print("!" * 8 + " THE DATABRICKS CONNECT TIER DID NOT RUN: python3.12 is not installed " + "!" * 8)
    elif code:
        sys.exit(code)


def main() -> None:
    command, extra = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "run":
        run(extra)
    elif command == "test":
        test(extra)
    elif command == "lint":
        ensure_venv("requirements-dev.txt")
        lint()
    elif command == "types":
        ensure_venv("requirements-dev.txt")
        typecheck()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
