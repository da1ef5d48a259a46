"""Polars scalars (`Series.min()`, `.mean()`, `DataFrame.item()`) as the Python type a caller needs.

Polars types them as any literal (a number, a date, a string, a list, None); these check what came
back, so a column of the wrong type is a clear error instead of a figure silently computed on it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal


def number(value: object) -> float:
    """`value` as a float; a non-number (null included) is a TypeError."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"expected a number, got {type(value).__name__}: {value!r}")
    return float(value)


def number_or_none(value: object) -> float | None:
    """`value` as a float, or None for a null."""
    return None if value is None else number(value)


def moment(value: object) -> datetime:
    """`value` as a datetime; anything else (null included) is a TypeError."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
    return value
