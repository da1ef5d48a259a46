"""The Databricks Connect tier: `databricks-connect` itself against PySpark's own Spark Connect server.

Runs only in `.venv-connect` (Python 3.12; `python3 scripts/spark_env.py --env connect -- -m pytest
-m connect tests/connect`), which sets FLOWTYPE_SPARK_HOME to the Spark env's pyspark folder. The
server is started once per session on a free loopback port (`sbin/start-connect-server.sh`, its jars
ship in the pyspark wheel: nothing is downloaded) and stopped by its process group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START_SECONDS = 180  # a cold JVM on a loaded 2-core machine; ~20 s usually


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`sc://127.0.0.1:<port>` of a Spark Connect server (local[2], UTC) for the whole session."""
    home = os.environ.get("FLOWTYPE_SPARK_HOME")
    if not home or not (Path(home) / "sbin" / "start-connect-server.sh").is_file():
        pytest.fail(
            "FLOWTYPE_SPARK_HOME is not a pyspark folder: run this tier through scripts/spark_env.py --env connect"
        )
    work = tmp_path_factory.mktemp("spark-connect")
    port = _free_port()
    env = {
        **os.environ,
        "SPARK_HOME": home,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(work / "logs"),
        "SPARK_PID_DIR": str(work),
    }
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(
        [
            f"{home}/sbin/start-connect-server.sh",
            "--wait",
            "--master",
            "local[2]",
            "--conf",
            "spark.connect.grpc.binding.address=127.0.0.1",
            "--conf",
            f"spark.connect.grpc.binding.port={port}",
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.sql.shuffle.partitions=2",
            "--conf",
            "spark.sql.session.timeZone=UTC",
            "--conf",
            f"spark.sql.warehouse.dir={work / 'warehouse'}",
            "--conf",
            f"spark.local.dir={work / 'local'}",
        ],  # fmt: skip
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while b"Spark Connect server started" not in (work / "server.log").read_bytes():
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "the Spark Connect server did not start:\n" + (work / "server.log").read_text()[-3000:]
                )
            time.sleep(0.2)
        yield f"sc://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()


@pytest.fixture(autouse=True)
def _no_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    """databricks-connect reads every DATABRICKS_* variable; the tier talks to the local server only."""
    for name in [n for n in os.environ if n.startswith("DATABRICKS_") or n == "SPARK_REMOTE"]:
        monkeypatch.delenv(name)
