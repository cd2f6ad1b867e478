"""Blocking route handlers run on the thread pool with one hand-over, not two.

FastAPI runs a plain ``def`` endpoint on the thread pool, and then — when the route has a
response model — hands the answer's validation to the thread pool a second time before
serialising it on the event loop. Each hand-over is a thread wake-up and an event-loop wake-up;
under load (64 callers on 2 shared cores, bench f) they cost more than the work. :func:`blocking`
makes the endpoint a coroutine that runs the whole body on the thread pool once; FastAPI then
validates and serialises the answer on the loop (cheap, CPU only). The signature and the
annotations stay the function's own (FastAPI reads them through ``__wrapped__``).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

__all__ = ["blocking"]

P = ParamSpec("P")
R = TypeVar("R")


def blocking(endpoint: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``endpoint`` (which blocks: database, adapters) as a coroutine running it on the thread pool."""

    @functools.wraps(endpoint)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run
