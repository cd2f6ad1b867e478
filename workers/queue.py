"""The task queue seen by whoever sends a task: three task names, their arguments, one ``send``.

A task is a name from :data:`TASKS` and JSON arguments. Two queues carry them:

- :class:`workers.broker.BrokerQueue`: Dramatiq over Redis (``EGOV_BROKER_URL``), consumed by the
  ``egov worker`` processes;
- :class:`ThreadQueue`: a thread pool in this process (``egov serve`` without a broker), running
  the same handlers.

Delivery is at least once in both: a message may run twice (a worker killed before it acknowledged
it, the sweep queuing a flow again). Every handler is safe to repeat (:mod:`workers.tasks`).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

__all__ = ["FLOW_STEP", "PUMP_NOTICES", "QUEUE_NAME", "RENDER_PDF", "TASKS", "TaskQueue", "ThreadQueue"]

log = logging.getLogger("workers.queue")

FLOW_STEP = "flow_step"
"""``(flow_id)``: run the flow's current step, then queue the next."""
RENDER_PDF = "render_pdf"
"""``(kind, view, path)``: render a licence or refusal letter PDF to ``path``."""
PUMP_NOTICES = "pump_notices"
"""``()``: pull E-licensing's status notices from the gateway's async channel into the inbox."""
TASKS = (FLOW_STEP, RENDER_PDF, PUMP_NOTICES)
QUEUE_NAME = "egov"
"""The broker queue every task goes through."""

Handler = Callable[..., None]


class TaskQueue(Protocol):
    """Where tasks are sent. ``send`` raises :class:`~workers.errors.QueueUnavailable` when the
    message could not be handed over."""

    def send(self, task: str, *args: Any, delay: float = 0.0) -> None: ...


class ThreadQueue:
    """Tasks run by a pool of ``threads`` threads in this process; delayed ones wait in a heap.

    ``bind`` gives the handlers (name → callable) before the first ``send``. A handler's exception
    is logged, never propagated (the flow store keeps the flow's state; the sweep picks it up)."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="egov-task")
        self._handlers: Mapping[str, Handler] = {}
        self._delayed: list[tuple[float, int, str, tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._timer = threading.Thread(target=self._release_due, name="egov-task-delays", daemon=True)
        self._timer.start()

    def bind(self, handlers: Mapping[str, Handler]) -> None:
        self._handlers = dict(handlers)

    def send(self, task: str, *args: Any, delay: float = 0.0) -> None:
        if task not in self._handlers:
            raise KeyError(f"no handler for task {task!r}")
        if delay > 0:
            with self._wake:
                heapq.heappush(self._delayed, (time.monotonic() + delay, next(self._seq), task, args))
                self._wake.notify()
            return
        if not self._closed:
            self._pool.submit(self._run, task, args)

    def _run(self, task: str, args: tuple[Any, ...]) -> None:
        try:
            self._handlers[task](*args)
        except Exception:
            log.exception("task %s%r failed", task, args)

    def _release_due(self) -> None:
        while True:
            with self._wake:
                while not self._closed and (not self._delayed or self._delayed[0][0] > time.monotonic()):
                    timeout = self._delayed[0][0] - time.monotonic() if self._delayed else None
                    self._wake.wait(timeout)
                if self._closed:
                    return
                _, _, task, args = heapq.heappop(self._delayed)
            self._pool.submit(self._run, task, args)

    def close(self, *, wait: bool = True) -> None:
        """Stop taking tasks; with ``wait``, let the running ones finish (queued ones are dropped:
        the flows they carried are in the store)."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        self._pool.shutdown(wait=wait, cancel_futures=True)
