"""Real-browser fixtures: Debian's chromium driven by playwright, and Streamlit scripts served for real.

`serve_streamlit(script, env)` starts `streamlit run` on a free local port and waits for its health
endpoint; `page` is a tab in a chromium with its own fresh profile. Any uncaught page error fails
the test, so a broken component script cannot pass unnoticed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 60.0
PAGE_TIMEOUT_MS = 20_000


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    """Debian's chromium, installed when missing by the test command's own installer (tasks.py)."""
    if not CHROMIUM.exists():
        subprocess.run([sys.executable, "-c", "import tasks; tasks.ensure_chromium()"], cwd=ROOT, check=True)
    return CHROMIUM


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """One playwright driver process for the whole run."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser_context(
    playwright_driver: Playwright, chromium_executable: Path, tmp_path: Path
) -> Iterator[BrowserContext]:
    """A chromium with a fresh user-data-dir, so no cookie or storage leaks between tests."""
    context = playwright_driver.chromium.launch_persistent_context(
        user_data_dir=tmp_path / "chromium-profile",
        executable_path=str(chromium_executable),
        args=CHROMIUM_ARGS,
        headless=True,
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser_context: BrowserContext) -> Iterator[Page]:
    """The context's tab; fails the test if the page throws an uncaught error."""
    tab = browser_context.pages[0] if browser_context.pages else browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    assert not errors, f"uncaught errors in the page: {errors}"


@dataclass(frozen=True)
class StreamlitServer:
    """A running `streamlit run`; `log` holds its stdout and stderr, `process` is the server."""

    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """End the server (SIGTERM, then SIGKILL after 10 s)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would: nothing runs on the way out."""
        self.process.kill()
        self.process.wait(timeout=10)


def app_env(base: Path, data: Path) -> dict[str, str]:
    """The settings a served app gets: its data dir and nothing from the developer's machine. The
    server starts before the per-test settings isolation, so every setting that matters is explicit."""
    return {
        "FLOWTYPE_DATA_DIR": str(data),
        "FLOWTYPE_SECRETS_FILE": str(base / "no-secrets.toml"),
        "DATABRICKS_CONFIG_FILE": str(base / "no-databrickscfg"),
        "FLOWTYPE_LAKEHOUSE": "local",
        "FLOWTYPE_RUNNER": "local",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(server: StreamlitServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"streamlit exited with {server.process.returncode}:\n{server.log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # poll interval only; the deadline bounds the wait
    server.stop()
    raise RuntimeError(f"streamlit not healthy after {timeout_s:.0f} s:\n{server.log.read_text()[-3000:]}")


def start_streamlit(
    script: Path, log_dir: Path, env: Mapping[str, str] | None = None, *, port: int | None = None
) -> StreamlitServer:
    """`streamlit run script` from the project root on 127.0.0.1 (a free port unless `port`), once
    its health endpoint answers. `env` is added to this process's environment (the project root is
    put on PYTHONPATH so scripts import `flowtype_core` and `ui`). The benchmarks use it too."""
    port = port or _free_port()
    log = log_dir / f"server-{port}.log"
    python_path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": python_path, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = StreamlitServer(url=f"http://127.0.0.1:{port}", log=log, process=process)
    _wait_healthy(server, STARTUP_TIMEOUT_S)
    return server


@pytest.fixture(scope="module")
def serve_streamlit(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., StreamlitServer]]:
    """Factory `serve(script, env=None, port=None)`: `start_streamlit` until the module's tests
    are done (a server a test stopped or killed itself is left alone)."""
    servers: list[StreamlitServer] = []

    def serve(script: Path, env: Mapping[str, str] | None = None, port: int | None = None) -> StreamlitServer:
        server = start_streamlit(script, tmp_path_factory.mktemp("streamlit"), env, port=port)
        servers.append(server)
        return server

    try:
        yield serve
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.stop()
