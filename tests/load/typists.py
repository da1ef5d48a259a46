"""Participants typing at once through the real server: browser contexts of one chromium, driven
by playwright's async API (the sync API gives one page at a time per thread). Used by the load
and fault tests (tests/load) and by bench/bench_load.py.

Each typist logs in, consents and types its sentences key by key with the planned holds and
intervals of the end-to-end test (`tests.browser.test_e2e_typing.plan`), so the number of presses
each stored section must hold is known. An init script in every page measures what the
participant waits for, on the page's own clock: from the key-up of Enter to the moment the result
heading ("Sentence N of M: done") is in the document; and it records every error or warning box
and exception Streamlit draws.

Selectors keep to the typing component's stable contract (the `ft-input` textarea; typing then
Enter submits; the result subheader and its "Next sentence" / "See my summary" button), plus the
component's `ft-sentence` text, which is where the sentence to type is read.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from playwright.async_api import Browser, Page, async_playwright, expect

from flowtype_core.pipeline.runners.base import RunStore
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT
from tests.browser.test_e2e_typing import PASSWORD, Stroke, plan, typo_position

ENTER_HOLD_MS = 70
T = TypeVar("T")

# Runs in every page before Streamlit's own scripts. Keyboard events are composed, so a listener
# on the window sees the Enter released inside the component's shadow root.
WATCH_JS = """
(() => {
  const ft = (window.__ft = { expect: null, releasedAt: null, latencies: [], problems: [] });
  const seen = new WeakSet();
  const PROBLEMS = '[data-testid="stException"], [data-testid="stAlertContentError"],' +
    ' [data-testid="stAlertContentWarning"]';
  const check = () => {
    for (const box of document.querySelectorAll(PROBLEMS)) {
      if (!seen.has(box)) { seen.add(box); ft.problems.push(box.textContent.slice(0, 300)); }
    }
    if (ft.releasedAt === null) return;
    for (const heading of document.querySelectorAll('h1, h2, h3')) {
      if (heading.textContent.includes(ft.expect)) {
        ft.latencies.push(performance.now() - ft.releasedAt);
        ft.releasedAt = ft.expect = null;
        return;
      }
    }
  };
  addEventListener('keyup', (event) => {
    if (event.key === 'Enter' && ft.expect !== null) {  // a refused sentence's retype restarts it
      ft.releasedAt = performance.now();
      check();
    }
  }, true);
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
})();
"""


@dataclass(frozen=True)
class Typed:
    """One sentence as a typist typed it: the presses the stored section must hold."""

    participant_id: str
    index: int
    sentence: str
    presses: int


@dataclass
class Outcome:
    """What one typist did and saw."""

    participant_id: str
    typed: list[Typed] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # error / warning boxes and page errors shown


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to the end on its own event loop in a worker thread: playwright's sync API
    (the browser tier's fixtures) marks this thread's loop as running, so asyncio.run cannot here."""
    result: list[T] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            result.append(asyncio.run(make()))  # type: ignore[arg-type]
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=work, name="load-driver")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return result[0]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """One headless Debian chromium for every typist's context."""
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def perform(page: Page, strokes: list[Stroke]) -> None:
    """Send every key-down and key-up at its planned offset, as `test_e2e_typing.perform` does, but
    awaiting instead of sleeping so the other typists type meanwhile."""
    events = sorted(
        [(s.press_ms, 0, i, s.key) for i, s in enumerate(strokes)]
        + [(s.press_ms + s.hold_ms, 1, i, s.key) for i, s in enumerate(strokes)]
    )
    start = time.monotonic()
    for at_ms, is_up, _, key in events:
        delay = start + at_ms / 1000 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing the keyboard, not a timing assertion
        await (page.keyboard.up if is_up else page.keyboard.down)(key)


class Typist:
    """One participant's tab. Every interaction first waits for Streamlit's script run to end."""

    def __init__(self, page: Page, participant_id: str, timeout_ms: int) -> None:
        self.page = page
        self.participant_id = participant_id
        self.timeout_ms = timeout_ms
        self.page_errors: list[str] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    async def settle(self) -> None:
        idle = self.page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
        await expect(idle).to_have_count(1, timeout=self.timeout_ms)
        await expect(self.page.locator('[data-stale="true"]')).to_have_count(0, timeout=self.timeout_ms)

    async def see(self, text: str | re.Pattern[str]) -> None:
        await expect(self.page.get_by_text(text).first).to_be_visible(timeout=self.timeout_ms)
        await self.settle()

    async def click(self, name: str, role: str = "button") -> None:
        await self.settle()
        await self.page.get_by_role(role, name=name, exact=True).click()  # type: ignore[arg-type]

    async def log_in(self, url: str) -> None:
        """Open `url`; log in unless the login cookie still holds a live session."""
        await self.page.goto(url)
        gate = self.page.get_by_text("Log in to FlowType").or_(self.page.get_by_text("Logged in as"))
        await expect(gate.first).to_be_visible(timeout=self.timeout_ms)
        await self.settle()
        if await self.page.get_by_text("Logged in as").count():
            return
        await self.page.get_by_label("Username", exact=True).fill(self.participant_id)
        await self.page.get_by_label("Password", exact=True).fill(PASSWORD)
        await self.click("Login")
        await self.see("Logged in as")

    async def consent(self, sentences: int) -> None:
        await self.see("What is recorded.")
        await self.page.get_by_label("Sentences this session", exact=True).fill(str(sentences))
        await self.page.get_by_text("I agree that my key presses are recorded").click()
        await self.click("Start the typing test")
        await self.see("Why this sentence:")

    async def sentence(self) -> str:
        """The sentence on screen, once its field is ready for it."""
        await self.settle()
        field = self.page.get_by_test_id("ft-input")
        await expect(field).to_be_visible(timeout=self.timeout_ms)
        await expect(field).to_have_value("", timeout=self.timeout_ms)
        return await self.page.get_by_test_id("ft-sentence").inner_text()

    async def submit(self, index: int, total: int, pattern: str, *, typo: bool = False) -> tuple[str, int]:
        """Type the sentence on screen key by key (with a wrong letter erased, when `typo`), then
        Enter; returns (sentence, presses) once Enter's key-up is sent. `index` names the result
        heading the watcher times."""
        sentence = await self.sentence()
        strokes = plan(sentence, pattern, typo_at=typo_position(sentence) if typo else None)
        await self.page.evaluate(
            "text => { window.__ft.expect = text; }", f"Sentence {index + 1} of {total}: done"
        )
        await self.page.get_by_test_id("ft-input").click()
        await perform(self.page, strokes)
        await self.page.keyboard.down("Enter")
        await asyncio.sleep(ENTER_HOLD_MS / 1000)  # a real key's hold
        await self.page.keyboard.up("Enter")
        return sentence, len(strokes)

    async def type_sentence(self, index: int, total: int, pattern: str) -> Typed:
        """One sentence from the empty field to its result, then on to the next (or the summary)."""
        sentence, presses = await self.submit(index, total, pattern)
        await self.see(f"Sentence {index + 1} of {total}: done")
        await self.click("See my summary" if index == total - 1 else "Next sentence")
        return Typed(self.participant_id, index, sentence, presses)

    async def type_sentences(self, total: int, pattern: str, outcome: Outcome) -> None:
        """Type a consented session's `total` sentences and reach the summary, into `outcome`."""
        for index in range(total):
            outcome.typed.append(await self.type_sentence(index, total, pattern))
        await self.see("Session summary")

    async def type_session(self, url: str, total: int, pattern: str, outcome: Outcome) -> None:
        """Log in, consent, then `type_sentences`."""
        await self.log_in(url)
        await self.consent(total)
        await self.type_sentences(total, pattern, outcome)

    async def another_tab(self) -> Typist:
        """A second tab of the same browser (same cookies), as a participant opens one."""
        return Typist(await self.page.context.new_page(), self.participant_id, self.timeout_ms)

    async def collect(self, outcome: Outcome) -> Outcome:
        """Add what the page measured and showed to `outcome`."""
        watched = await self.page.evaluate("() => window.__ft")
        outcome.latencies_ms += watched["latencies"]
        outcome.problems += watched["problems"] + self.page_errors
        return outcome


async def open_typist(browser: Browser, participant_id: str, *, timeout_ms: int = 60_000) -> Typist:
    """A fresh browser context (its own cookies) with the watcher installed."""
    context = await browser.new_context()
    context.set_default_timeout(timeout_ms)
    await context.add_init_script(script=WATCH_JS)
    return Typist(await context.new_page(), participant_id, timeout_ms)


async def researcher_runs_pipeline(
    browser: Browser, url: str, username: str, data: Path, stop: asyncio.Event
) -> list[str]:
    """A researcher's Pipeline page starting `all` runs back to back until `stop`; the final
    state of each run, as the page showed it."""
    page = await open_typist(browser, username)
    await page.log_in(url)
    await page.click("Pipeline", role="link")
    await page.see("Runner: ")
    store = RunStore(data)
    states: list[str] = []
    while not stop.is_set():
        before = set(store.run_ids())
        await page.click("Start")
        run_id = await _new_run(store, before)
        shown = re.compile(r"^(succeeded|failed|cancelled) on the local runner")
        await page.see(f"Run {run_id}: all")
        await expect(page.page.get_by_text(shown).first).to_be_visible(timeout=10 * 60_000)
        states.append((await page.page.get_by_text(shown).first.inner_text()).split()[0])
    return states


async def _new_run(store: RunStore, before: set[str]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        started = set(store.run_ids()) - before
        if started:
            return started.pop()
        await asyncio.sleep(0.2)  # poll interval only
    raise AssertionError("the Start button started no pipeline run")


def start_lake_writer(data: Path, env: Mapping[str, str], stop_file: Path) -> subprocess.Popen[str]:
    """A second process writing the same CSV store and lakehouse tables, as a notebook would
    (`python -m tests.load.lake_writer`); it prints what it wrote as JSON when `stop_file` exists."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.load.lake_writer",
            "--data-dir",
            str(data),
            "--stop-file",
            str(stop_file),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.PIPE,
        text=True,
    )


def cli(env: Mapping[str, str], *args: str) -> dict[str, Any]:
    """`python -m flowtype_core ARGS --json` with the served app's settings; its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", "flowtype_core", *args, "--json"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@dataclass(frozen=True)
class Usage:
    """A process's CPU seconds (its own and its reaped children's) and peak resident memory."""

    cpu_s: float
    peak_rss_mb: float


def usage(pid: int) -> Usage:
    """Read from /proc while the process runs (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = sum(int(v) for v in fields[11:15]) / ticks  # utime, stime, cutime, cstime
    status = Path(f"/proc/{pid}/status").read_text()
    peak_kb = int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1))  # type: ignore[union-attr]
    return Usage(cpu, peak_kb / 1024)


def outbox_drained(data: Path, timeout_s: float = 120.0) -> None:
    """Wait (bounded) until the background publishers emptied the outbox."""
    deadline = time.monotonic() + timeout_s
    while any((data / "outbox").glob("*/*.json")):
        assert time.monotonic() < deadline, (
            f"the outbox still holds {list((data / 'outbox').glob('*/*.json'))[:5]}"
        )
        time.sleep(0.2)  # poll interval only
