"""A gate that lets one thread at a time through, in the order the threads arrived.

Why the simulators need it: a simulator process serves each connection on its own thread, and
under load dozens of them want the GIL for CPU-bound work at once (parse, schema check, signature
verification, signing). CPython hands the GIL over in no particular order, so an unlucky request
loses many rounds in a row: the median latency follows Little's law but p99 grows to several
times it. Passing the CPU-bound sections through this gate serves them first come, first served,
which bounds a request's wait by the work queued ahead of it.

Hold the gate only around CPU-bound work. Never hold it across a sleep (fault delays), a socket
read or write, or a call to another server: every other request of the process would wait too.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class FifoGate:
    """A non-reentrant lock handed over in arrival order (a ticket lock without spinning).

    Each waiter parks on a lock of its own; the holder, on leaving, hands the gate to the oldest
    waiter by releasing that waiter's lock, so exactly one thread wakes (no thundering herd).
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    @property
    def waiting(self) -> int:
        """Threads queued behind the holder (a gauge for tests and diagnostics)."""
        with self._mutex:
            return len(self._waiters)

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            parked = threading.Lock()
            parked.acquire()
            self._waiters.append(parked)
        parked.acquire()  # released by the previous holder: the gate is ours, still marked held

    def release(self) -> None:
        with self._mutex:
            if not self._held:
                raise RuntimeError("FifoGate released while not held")
            if self._waiters:
                self._waiters.popleft().release()  # hand over: _held stays True
            else:
                self._held = False

    @contextmanager
    def hold(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()
