#!/usr/bin/env python3
"""Create or refresh `.venv-spark` or `.venv-connect`, the separate environments of the Spark tiers.

PySpark must never share an environment with databricks-connect (which ships its own pyspark), so
each gets its own venv built from its requirements file plus the project installed editable with
`--no-deps`: `spark` (`requirements-spark.txt`, this Python) for local Spark and the Spark Connect
server, `connect` (`requirements-connect.txt`, Python 3.12 as databricks-connect 17-19 require) for
the Databricks Connect tier, which also gets FLOWTYPE_SPARK_HOME (the `spark` env's pyspark folder,
whose `sbin/start-connect-server.sh` its tests start). The script is stdlib-only and idempotent: a
hash of the inputs is stored in the venv, and an up-to-date venv costs one `java -version` call.

    python3 scripts/spark_env.py                      # create or refresh, then exit
    python3 scripts/spark_env.py --check              # exit 1 if missing or stale, change nothing
    python3 scripts/spark_env.py -- -m pytest -m spark tests/spark   # refresh, then run in the venv
    python3 scripts/spark_env.py --env connect -- -m pytest -m connect tests/connect

Exit code 3: the interpreter the environment needs (python3.12 for `connect`) is not on this machine.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements-spark.txt"
VENV = ROOT / ".venv-spark"
CONNECT_REQUIREMENTS = ROOT / "requirements-connect.txt"
CONNECT_VENV = ROOT / ".venv-connect"
CONNECT_PYTHON = "3.12"
NO_INTERPRETER = 3
STAMP_NAME = ".flowtype-spark-env.sha256"
MIN_JAVA = 17
MIN_PYTHON = (3, 11)
JAVA_HELP = (
    "PySpark 4 needs Java {need} or newer ({found}).\n"
    "  Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless\n"
    "  elsewhere: install a JDK/JRE >= {need} (e.g. Temurin 17) and put its `java` on PATH,\n"
    "  or point JAVA_HOME at it (PySpark uses $JAVA_HOME/bin/java when JAVA_HOME is set)."
)


class EnvError(RuntimeError):
    """A precondition the user has to fix; the message says how."""


class NoInterpreter(EnvError):
    """The Python version an environment needs is not installed."""


def find_python(version: str) -> str:
    """An interpreter of `version` that runs: $FLOWTYPE_PYTHON312, `pythonX.Y` on PATH, or pyenv's."""
    candidates = [os.environ.get("FLOWTYPE_PYTHON312", ""), f"python{version}"]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += sorted(str(p) for p in pyenv.glob(f"{version}.*/bin/python{version}"))
    for candidate in filter(None, candidates):
        found = shutil.which(candidate) or candidate
        probe = (
            subprocess.run(
                [found, "-c", f"import sys; assert sys.version.startswith('{version}.')"],
                capture_output=True,
                check=False,
            )
            if Path(found).exists()
            else None
        )
        if probe is not None and probe.returncode == 0:  # a pyenv shim of an inactive version fails here
            return found
    raise NoInterpreter(f"python{version} is not installed (needed by databricks-connect)")


def venv_python(venv: Path = VENV) -> Path:
    """The interpreter inside the venv (the one tests of the Spark tier must run under)."""
    return venv / "bin" / "python"


def java_executable() -> str | None:
    """The `java` PySpark will launch: $JAVA_HOME/bin/java if JAVA_HOME is set, else PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        return str(candidate) if candidate.exists() else None
    return shutil.which("java")


def parse_java_major(version_output: str) -> int | None:
    """Major version from `java -version` text: '17.0.15' -> 17, legacy '1.8.0_392' -> 8."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java() -> int:
    """Fail with install instructions unless the Java PySpark would use is >= 17."""
    java = java_executable()
    if java is None:
        where = "JAVA_HOME/bin/java does not exist" if os.environ.get("JAVA_HOME") else "no `java` on PATH"
        raise EnvError(JAVA_HELP.format(need=MIN_JAVA, found=where))
    proc = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    major = parse_java_major(proc.stderr + proc.stdout)
    if major is None or major < MIN_JAVA:
        found = f"{java} reports {'an unreadable version' if major is None else f'Java {major}'}"
        raise EnvError(JAVA_HELP.format(need=MIN_JAVA, found=found))
    return major


def inputs_digest(requirements: Path = REQUIREMENTS) -> str:
    """Hash of what the venv is built from (not of the calling interpreter, which may differ per caller)."""
    digest = hashlib.sha256()
    for path in (requirements, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def is_up_to_date(venv: Path, digest: str) -> bool:
    """True when the venv exists and was completely built from the current inputs."""
    stamp = venv / STAMP_NAME
    return venv_python(venv).exists() and stamp.exists() and stamp.read_text().strip() == digest


def run(cmd: list[str | Path]) -> None:
    """Run a build step, echoing it, and stop at the first failure."""
    print("+", " ".join(str(part) for part in cmd), flush=True)
    subprocess.run([str(part) for part in cmd], check=True, cwd=ROOT)


SPARK_PROBE = (
    "import pyspark, narwhals, polars, deltalake, flowtype_core; print('pyspark', pyspark.__version__)"
)
CONNECT_PROBE = (
    "import databricks.connect, narwhals, polars, deltalake, flowtype_core; print('databricks-connect ok')"
)


def build(
    venv: Path,
    digest: str,
    python: str = sys.executable,
    requirements: Path = REQUIREMENTS,
    probe: str = SPARK_PROBE,
) -> None:
    """(Re)install the pinned requirements and the project into the venv, then stamp it."""
    if not venv_python(venv).exists():  # new, or its base interpreter is gone (dangling symlink)
        run([python, "-m", "venv", "--clear", venv])
    pip = [venv_python(venv), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    run([*pip, "-r", requirements])
    run([*pip, "--no-deps", "-e", ROOT])
    # Import from outside the tree so the editable install itself is what gets checked.
    subprocess.run([str(venv_python(venv)), "-c", probe], check=True, cwd=venv)
    stamp = venv / STAMP_NAME
    tmp = stamp.with_suffix(".tmp")
    tmp.write_text(digest + "\n")
    tmp.replace(stamp)


def ensure(venv: Path = VENV, connect: bool = False) -> bool:
    """Make the venv current; returns True if work was done. Concurrent callers wait for each other."""
    if sys.version_info < MIN_PYTHON:
        raise EnvError(
            f"Python >= {'.'.join(map(str, MIN_PYTHON))} is needed, this is {sys.version.split()[0]}"
        )
    requirements = CONNECT_REQUIREMENTS if connect else REQUIREMENTS
    python = find_python(CONNECT_PYTHON) if connect else sys.executable
    digest = inputs_digest(requirements)
    venv.mkdir(exist_ok=True)
    # Lock the directory itself: `venv --clear` empties it, so a lock file inside would vanish.
    lock = os.open(venv, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_up_to_date(venv, digest):
            return False
        build(venv, digest, python, requirements, CONNECT_PROBE if connect else SPARK_PROBE)
        return True
    finally:
        os.close(lock)


def spark_home() -> str:
    """The `spark` env's pyspark folder: a SPARK_HOME with `sbin/start-connect-server.sh` and the jars."""
    probe = [str(venv_python(VENV)), "-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))"]
    return subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=("spark", "connect"), default="spark", help="which environment")
    parser.add_argument("--check", action="store_true", help="exit 1 if the venv is missing or stale")
    parser.add_argument("command", nargs="*", help="after `--`: arguments for the venv's python")
    args = parser.parse_args(argv)
    connect = args.env == "connect"
    venv = CONNECT_VENV if connect else VENV
    try:
        major = check_java()
        if args.check:
            current = is_up_to_date(venv, inputs_digest(CONNECT_REQUIREMENTS if connect else REQUIREMENTS))
            print(f"{venv} is {'up to date' if current else 'missing or stale'} (Java {major})")
            return 0 if current else 1
        started = time.monotonic()
        built = [ensure(VENV)] + ([ensure(CONNECT_VENV, connect=True)] if connect else [])
        state = f"built in {time.monotonic() - started:.0f} s" if any(built) else "up to date"
        print(f"{venv.name}: {state} (Java {major})", flush=True)
    except NoInterpreter as exc:
        print(f"spark_env: {exc}", file=sys.stderr)
        return NO_INTERPRETER
    except EnvError as exc:
        print(f"spark_env: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(
            f"spark_env: step failed with exit code {exc.returncode}; the venv was not stamped",
            file=sys.stderr,
        )
        return 1
    if args.command:
        env = {**os.environ, "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1")}
        if connect:
            env["FLOWTYPE_SPARK_HOME"] = spark_home()
        python = str(venv_python(venv))
        os.chdir(ROOT)
        os.execve(python, [python, *args.command], env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
