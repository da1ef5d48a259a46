"""One shape for "how far has it got": `progress(fraction, message)`.

Every long job of the core (an import, a resync, demo data, a pipeline layer, ranker training)
reports through the same callable type, so every consumer (the CLI's bar, `st.progress`, a
pipeline task's record, a notebook's `print`) takes any of them without an adapter. Producers
that count items report `done / total` with a "done/total items" line (`counted`); a job made of
phases hands each phase its share of one bar (`within`).
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Called as work advances: `fraction` of the whole done (0 to 1), `message` says what, for people."""

    def __call__(self, fraction: float, message: str, /) -> None: ...


def silent(fraction: float, message: str, /) -> None:
    """A Progress that reports nowhere, for callers that asked for none."""


def counted(progress: Progress | None, done: int, total: int, items: str) -> None:
    """Report `done` of `total` `items` (a fraction of 1 when there is nothing to do)."""
    if progress is not None:
        progress(done / total if total else 1.0, f"{done}/{total} {items}")


def within(progress: Progress | None, start: float, end: float, label: str) -> Progress:
    """A Progress for one phase of a bigger job: it fills [start, end] of `progress`, and its
    messages are prefixed with the phase's `label`."""
    outer = progress or silent

    def report(fraction: float, message: str, /) -> None:
        outer(start + (end - start) * fraction, f"{label}: {message}")

    return report


def described(fraction: float, message: str) -> str:
    """One line for a text-only sink (a pipeline task's record, a notebook's output)."""
    return f"{message} ({fraction:.0%})"
