"""Blocking route handlers on the thread pool: one hand-over, and a small pool for the flow store.

FastAPI runs a plain ``def`` endpoint on the thread pool, and then — when the route has a
response model — hands the answer's validation to the thread pool a second time before
serialising it on the event loop. Each hand-over is a thread wake-up and an event-loop wake-up;
under load (64 callers on 2 shared cores, bench f) they cost more than the work. :func:`blocking`
makes the endpoint a coroutine that runs the whole body on a thread once; FastAPI then validates
and serialises the answer on the loop (cheap, CPU only). The signature and the annotations stay
the function's own (FastAPI reads them through ``__wrapped__``).

Two pools. The adapters' exchanges mostly wait on the systems (seconds, under retries): they get
anyio's default pool (40 threads), so that many run at once. Writing the flow store is CPU work
under the GIL (a few hundred microseconds) that may wait for SQLite's write lock: 40 threads doing
it at once only take the GIL from each other and from the event loop in 5 ms slices, and the
slowest answers wait for all of them (bench f: p99 ≈ 400 ms with 64 callers, ≈ 250 ms with 4
threads). :func:`store_bound` runs those routes on :data:`STORE_THREADS` threads; the other
requests queue for them in order.

Reading the flow store (:func:`read_store`) goes further when the store is a SQLite file: a read
there never waits (WAL: readers do not wait for the writer) and is only CPU under the GIL, so the
event loop runs it itself. The hand-over to a thread and back cost more CPU than the read (bench
f, ``GET /api/v1/flows/{id}`` under 64 callers: ≈ 1.85 → 1.35 ms of the service's CPU per
request), and a thread holding the GIL against the loop only makes the answers wait longer.
A server database (PostgreSQL) is read on the store's threads: a read there waits on the network,
which must not stop the loop.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

__all__ = ["STORE_THREADS", "blocking", "read_store", "store_bound"]

P = ParamSpec("P")
R = TypeVar("R")

STORE_THREADS = 4
"""Threads reading and writing the flow store at once, per service process."""

_store_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = \
    weakref.WeakKeyDictionary()
"""One limiter per event loop (a limiter wakes its waiters on its own loop; a process may serve
several apps, each on its loop: the tests do)."""


def _store_limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _store_limiters.get(loop)
    if limiter is None:
        limiter = _store_limiters[loop] = anyio.CapacityLimiter(STORE_THREADS)
    return limiter


def _on_threads(endpoint: Callable[P, R], limiter: Callable[[], anyio.CapacityLimiter] | None
                ) -> Callable[P, Awaitable[R]]:
    @functools.wraps(endpoint)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return await anyio.to_thread.run_sync(functools.partial(endpoint, *args, **kwargs),
                                              limiter=limiter() if limiter is not None else None)

    return run


def blocking(endpoint: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``endpoint`` (which calls the adapters: waits on the network) as a coroutine running it on
    the default thread pool."""
    return _on_threads(endpoint, None)


def store_bound(endpoint: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``endpoint`` (which reads or writes the flow store) as a coroutine running it on the
    store's :data:`STORE_THREADS` threads."""
    return _on_threads(endpoint, _store_limiter)


async def read_store(read: Callable[[], R], *, local: bool) -> R:
    """``read()`` (which only reads the flow store): on the event loop itself when the store is
    ``local`` (a SQLite file: see the module docstring), otherwise on the store's threads."""
    if local:
        return read()
    return await anyio.to_thread.run_sync(read, limiter=_store_limiter())
