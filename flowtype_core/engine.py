"""One definition per transform, any engine: the wrapper that lets narwhals code take and return
the caller's own frame type (polars DataFrame or LazyFrame, PySpark DataFrame)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import narwhals as nw
from narwhals import Implementation


def same_engine(fn: Callable[..., nw.LazyFrame[Any]]) -> Callable[..., Any]:
    """Run `fn` lazily on the native frame given first and hand back the caller's frame type.

    Eager input is made lazy first, so polars prunes the columns a transform does not need, and
    is collected by polars' in-memory engine: the data is in memory already, and for the small
    frames the recorder passes after every sentence the streaming engine's set-up costs more than
    the work.
    """

    @functools.wraps(fn)
    def wrapper(frame: Any, *args: Any, **kwargs: Any) -> Any:
        wrapped = nw.from_native(frame)
        if isinstance(wrapped, nw.DataFrame):
            options = {"engine": "in-memory"} if wrapped.implementation is Implementation.POLARS else {}
            return fn(wrapped.lazy(), *args, **kwargs).collect(**options).to_native()
        return fn(wrapped, *args, **kwargs).to_native()

    return wrapper
