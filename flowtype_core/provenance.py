"""Timing provenance (issue 13 item 5): how trustworthy the browser's clock and attention were.

The capture component reports, with each sentence's batch, what it saw while that sentence was
typed: the smallest non-zero gap between its event timestamps (the timer's effective resolution),
whether the page was cross-origin isolated (which unlocks the finer timers), the user agent, how
long the tab was hidden and how often the page lost focus. A section's hidden time and focus
losses feed the validity rules; the session row keeps the whole session's figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowtype_core.errors import InvalidInput

FIELDS = ("timer_resolution_ms", "cross_origin_isolated", "user_agent", "hidden_ms", "blur_count")
# No browser coarsens its timers past 100 ms (Firefox's resistFingerprinting, the coarsest, uses
# 100 ms); a larger "resolution" is a gap between keys, not a clock tick.
MAX_RESOLUTION_MS = 100.0
MAX_USER_AGENT = 512
MAX_BLURS = 10_000


@dataclass(frozen=True)
class Provenance:
    """What the capture reported for one sentence (all None for a batch that reports nothing)."""

    timer_resolution_ms: float | None = None
    cross_origin_isolated: bool | None = None
    user_agent: str | None = None
    hidden_ms: int | None = None
    blur_count: int | None = None

    def section_columns(self) -> dict[str, int | None]:
        """The per-sentence figures the validity rules read (tab_hidden, focus_lost)."""
        return {"hidden_ms": self.hidden_ms, "blur_count": self.blur_count}


def parse_provenance(value: Any, duration_ms: float, fail: Callable[[str], InvalidInput]) -> Provenance:
    """Check the batch's optional `provenance` object; `fail(message)` builds the rejection.

    Every field is optional and may be null; an unknown field is refused like anywhere in a batch.
    """
    if value is None:
        return Provenance()
    if not isinstance(value, dict):
        raise fail(f"provenance must be an object, got {type(value).__name__}")
    unknown = sorted(str(k)[:40] for k in value if k not in FIELDS)
    if unknown:
        raise fail(f"provenance has unknown field(s) {', '.join(repr(k) for k in unknown[:3])}")
    resolution = value.get("timer_resolution_ms")
    if resolution is not None and (
        isinstance(resolution, bool)
        or not isinstance(resolution, int | float)
        or not math.isfinite(resolution)
        or not 0 < resolution <= MAX_RESOLUTION_MS
    ):
        raise fail(f"provenance timer_resolution_ms must be a number above 0 and up to {MAX_RESOLUTION_MS:g}")
    isolated = value.get("cross_origin_isolated")
    if isolated is not None and not isinstance(isolated, bool):
        raise fail("provenance cross_origin_isolated must be true or false")
    agent = value.get("user_agent")
    if agent is not None and (
        not isinstance(agent, str)
        or not 0 < len(agent) <= MAX_USER_AGENT
        or any(not ch.isprintable() for ch in agent)
    ):
        raise fail(f"provenance user_agent must be printable text of 1 to {MAX_USER_AGENT} characters")
    return Provenance(
        timer_resolution_ms=None if resolution is None else float(resolution),
        cross_origin_isolated=isolated,
        user_agent=agent,
        hidden_ms=_count(value.get("hidden_ms"), "hidden_ms", duration_ms, fail),
        blur_count=_count(value.get("blur_count"), "blur_count", MAX_BLURS, fail),
    )


def _count(value: Any, where: str, limit: float, fail: Callable[[str], InvalidInput]) -> int | None:
    """An optional non-negative integer up to `limit` (the sentence's duration, for hidden_ms)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise fail(f"provenance {where} must be a whole number from 0 to {limit:.0f}")
    return value


def _total(old: Any, new: int | None) -> int | None:
    return old if new is None else (old or 0) + new


def session_provenance(current: dict[str, Any], sentence: Provenance) -> dict[str, Any]:
    """The session's provenance after one more sentence: the finest resolution seen, isolated only
    if every sentence was, the first user agent, hidden time and focus losses summed (a retyped
    sentence's first attempt still happened, so it still counts)."""
    resolution = [
        r for r in (current.get("timer_resolution_ms"), sentence.timer_resolution_ms) if r is not None
    ]
    isolated = [
        i for i in (current.get("cross_origin_isolated"), sentence.cross_origin_isolated) if i is not None
    ]
    return {
        "timer_resolution_ms": min(resolution) if resolution else None,
        "cross_origin_isolated": all(isolated) if isolated else None,
        "user_agent": current.get("user_agent") or sentence.user_agent,
        "hidden_ms": _total(current.get("hidden_ms"), sentence.hidden_ms),
        "blur_count": _total(current.get("blur_count"), sentence.blur_count),
    }
