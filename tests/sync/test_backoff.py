"""Retries back off exponentially, with jitter, up to a cap."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from flowtype_core.sync.outbox import BASE_DELAY_S, MAX_DELAY_S, Outbox, backoff_delay


class _Fixed(random.Random):
    """A random source that always draws `value`, to read the delay's deterministic part."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_delay_doubles_per_failure_within_the_jitter_band() -> None:
    middle = [backoff_delay(n, rng=_Fixed(0.5)) for n in range(1, 8)]
    assert middle == [BASE_DELAY_S * 2**k for k in range(7)]
    for attempts in range(1, 9):
        base = BASE_DELAY_S * 2 ** (attempts - 1)
        assert backoff_delay(attempts, rng=_Fixed(0.0)) == pytest.approx(0.5 * base)
        assert backoff_delay(attempts, rng=_Fixed(0.999999)) == pytest.approx(1.5 * base, rel=1e-5)


def test_jitter_spreads_writers_that_failed_together() -> None:
    rng = random.Random(42)
    delays = [backoff_delay(4, rng=rng) for _ in range(200)]
    base = BASE_DELAY_S * 2**3
    assert all(0.5 * base <= d < 1.5 * base for d in delays)
    assert len(set(delays)) == 200
    assert min(delays) < 0.7 * base and max(delays) > 1.3 * base  # the band is used, not one point


def test_delay_is_capped_whatever_the_jitter() -> None:
    for attempts in (9, 10, 20, 60, 10_000):
        for draw in (0.0, 0.5, 0.999999):
            assert backoff_delay(attempts, rng=_Fixed(draw)) <= MAX_DELAY_S
    assert backoff_delay(60, rng=_Fixed(0.5)) == MAX_DELAY_S


def test_outbox_schedules_each_failure_later_than_the_last(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    entry = outbox.put("local", "p01", "s01", "s01_s000")
    waits = []
    for _ in range(6):
        before = time.time()
        entry = outbox.failed(entry, "down")
        waits.append(entry.next_attempt_at - before)
    assert [e.attempts for e in outbox.entries()] == [6]
    # Each wait lies in its own band: [0.5, 1.5) x BASE x 2^(n-1).
    for n, wait in enumerate(waits, start=1):
        assert 0.5 * 2 ** (n - 1) * BASE_DELAY_S - 0.01 <= wait <= 1.5 * 2 ** (n - 1) * BASE_DELAY_S + 0.01
    assert outbox.entries(due_only=True) == []
    assert outbox.release_backoff() == 1 and len(outbox.entries(due_only=True)) == 1
