"""The load scenario of issue 20 item 1, for the CI-sized test and the bench: N participants typing
a session each at once through one served app, while a researcher's Pipeline page runs the
pipeline back to back and a second process writes the same lakehouse tables."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flowtype_core.accounts import AccountStore
from tests.browser.test_e2e_typing import PASSWORD, PATTERNS
from tests.load.typists import (
    Outcome,
    Usage,
    chromium,
    open_typist,
    outbox_drained,
    researcher_runs_pipeline,
    start_lake_writer,
    usage,
)

RESEARCHER = "rita"
STAGGER_S = 1.0  # typists arrive one after another, as a lab fills, not in the same millisecond


def create_accounts(data: Path, typists: int) -> list[str]:
    """The researcher and `typists` registered participants (`typist-01`, ...)."""
    accounts = AccountStore(data)
    accounts.create_user(RESEARCHER, PASSWORD, role="researcher", name="Rita")
    names = [f"typist-{i + 1:02d}" for i in range(typists)]
    for name in names:
        accounts.create_user(name, PASSWORD, role="participant", name=name)
    return names


@dataclass
class LoadResult:
    """What the scenario did, saw and cost."""

    outcomes: list[Outcome]
    pipeline_runs: list[str]  # the final state of each run the researcher started
    writer: dict[str, int]  # what the second process wrote
    server: Usage  # during the typing, CPU as a difference, memory as the peak
    seconds: float

    @property
    def latencies_ms(self) -> list[float]:
        return [v for o in self.outcomes for v in o.latencies_ms]

    def percentile(self, q: float) -> float:
        values = sorted(self.latencies_ms)
        return (
            statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]
            if len(values) > 1
            else values[0]
        )

    def summary(self) -> str:
        sentences = sum(len(o.typed) for o in self.outcomes)
        problems = sum(len(o.problems) for o in self.outcomes)
        return (
            f"{len(self.outcomes)} typists, {sentences} sentences submitted in {self.seconds:.0f} s; "
            f"submit latency (Enter key-up to result shown) p50 {self.percentile(50):.0f} ms, "
            f"p99 {self.percentile(99):.0f} ms, max {max(self.latencies_ms):.0f} ms; "
            f"problems shown {problems}; pipeline runs {self.pipeline_runs}; second writer {self.writer}; "
            f"server CPU {self.server.cpu_s:.1f} s ({self.server.cpu_s / self.seconds:.2f} cores), "
            f"peak RSS {self.server.peak_rss_mb:.0f} MB"
        )


async def _typist(
    browser, url: str, name: str, delay_s: float, sentences: int, pattern: str, timeout_ms: int
) -> Outcome:
    await asyncio.sleep(delay_s)  # arrival order only
    outcome = Outcome(name)
    typist = await open_typist(browser, name, timeout_ms=timeout_ms)
    try:
        await typist.type_session(url, sentences, pattern, outcome)
    except AssertionError as exc:  # a page that never showed what was awaited: what it saw instead
        outcome.problems.append(
            f"after {len(outcome.typed)} sentences: {str(exc).splitlines()[0]} ({exc})"[:2000]
        )
    await typist.collect(outcome)
    return outcome


async def run_load(
    url: str,
    data: Path,
    env: Mapping[str, str],
    names: list[str],
    server_pid: int,
    *,
    sentences: int = 5,
    background: bool = True,
    timeout_ms: int = 60_000,
) -> LoadResult:
    """Run the scenario to its end; the outbox is drained and the second writer done on return.
    Without `background` nobody runs the pipeline or writes beside the typists (the bench's
    baseline). `timeout_ms` bounds each wait for the page (a login or a result)."""
    stop_file = data.parent / "writer.stop"
    writer = start_lake_writer(data, env, stop_file) if background else None
    stop = asyncio.Event()
    patterns = list(PATTERNS)
    try:
        async with chromium() as browser:
            research = asyncio.create_task(
                researcher_runs_pipeline(browser, url, RESEARCHER, data, stop) if background else _nothing()
            )
            before, started = usage(server_pid), time.monotonic()
            try:
                outcomes = await asyncio.gather(
                    *(
                        _typist(
                            browser,
                            url,
                            name,
                            i * STAGGER_S,
                            sentences,
                            patterns[i % len(patterns)],
                            timeout_ms,
                        )
                        for i, name in enumerate(names)
                    )
                )
            except BaseException:
                research.cancel()
                raise
            seconds, after = time.monotonic() - started, usage(server_pid)
            stop.set()
            runs = await research
    finally:
        stop_file.touch()
        out = writer.communicate(timeout=300)[0] if writer else "{}"
    assert writer is None or writer.returncode == 0, "the second writer failed"
    outbox_drained(data)
    return LoadResult(
        list(outcomes), runs, json.loads(out), Usage(after.cpu_s - before.cpu_s, after.peak_rss_mb), seconds
    )


async def _nothing() -> list[str]:
    return []
