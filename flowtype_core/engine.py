"""One definition per transform, any engine: the wrapper that lets narwhals code take and return
the caller's own frame type (polars DataFrame or LazyFrame, PySpark DataFrame)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import narwhals as nw


def same_engine(fn: Callable[..., nw.LazyFrame[Any]]) -> Callable[..., Any]:
    """Run `fn` lazily on the native frame given first and hand back the caller's frame type.

    Eager input is made lazy first, so polars prunes the columns a transform does not need.
    """

    @functools.wraps(fn)
    def wrapper(frame: Any, *args: Any, **kwargs: Any) -> Any:
        wrapped = nw.from_native(frame)
        if isinstance(wrapped, nw.DataFrame):
            return fn(wrapped.lazy(), *args, **kwargs).collect().to_native()
        return fn(wrapped, *args, **kwargs).to_native()

    return wrapper
