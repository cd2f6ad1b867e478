"""The wall-clock deadline of one exchange, enforced on its connection.

Socket timeouts bound each wait, not the exchange: a server that sends one byte just before every
read timeout (a header line, a TLS record, a body byte at a time) would hold a call for as long as
it likes. A :class:`Watch` is the deadline of one exchange; the connection the exchange uses is
attached to it (:meth:`Watch.attach`, by the network transport when it takes or opens the
connection). One :class:`Watchdog` thread per process shuts down the socket of every
connection whose exchange is still under way at its deadline, which ends whatever read or write
is blocked on it; the exchange then sees :attr:`Watch.fired` and fails with a typed timeout.

Contract:

- :meth:`Watch.finish` ends the watch and says whether it fired: an exchange whose watch fired
  failed, even if its bytes seemed complete (a socket shut down reads as the end of the answer);
  an exchange that failed otherwise once its deadline had passed failed by its deadline too;
- a connection attached after the deadline is cut at once;
- the watchdog never touches a connection once its watch finished (the connection goes back to
  its pool intact);
- time is ``time.monotonic``; name resolution (``getaddrinfo``) cannot be cut: give hosts as
  addresses where that matters.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from typing import Protocol

__all__ = ["Watch", "Watchdog"]


class _HasSocket(Protocol):
    """A connection: its socket, or ``None`` before it connected."""

    sock: socket.socket | None


class Watch:
    """The deadline of one exchange and the connection it uses (see the module docstring)."""

    __slots__ = ("_connection", "_done", "_lock", "deadline", "fired", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        """The time allowed, in seconds."""
        self.deadline = time.monotonic() + seconds
        """When the exchange must be over (``time.monotonic``)."""
        self.fired = False
        """The deadline passed while the exchange was under way (its connection was cut)."""
        self._connection: _HasSocket | None = None
        self._done = False
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        """The exchange is over (:meth:`finish` was called)."""
        return self._done

    def remaining(self) -> float:
        """Seconds left before the deadline (0 once it passed)."""
        return max(0.0, self.deadline - time.monotonic())

    def attach(self, connection: _HasSocket) -> None:
        """The exchange uses ``connection`` from now on; cut at once if the deadline has passed."""
        with self._lock:
            if self._done:
                return
            self._connection = connection
            late = self.fired or time.monotonic() >= self.deadline
            if late:
                self.fired = True
        if late:
            _cut(connection)

    def expire(self) -> None:
        """The deadline passed: cut the connection if the exchange is still under way (the watchdog's call)."""
        with self._lock:
            if self._done:
                return
            self.fired = True
            connection = self._connection
        if connection is not None:
            _cut(connection)

    def finish(self) -> bool:
        """End the watch; whether it fired (the exchange then failed, whatever it read)."""
        with self._lock:
            self._done = True
            self._connection = None
            return self.fired


def _cut(connection: _HasSocket) -> None:
    """Shut the connection's socket down both ways: a read blocked on it returns, a write fails.

    ``socket.socket.shutdown`` is called on the socket itself, TLS or not (an ``SSLSocket``'s own
    ``shutdown`` would also drop its TLS state under a thread still reading it).
    """
    sock = connection.sock
    if sock is None:
        return
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Watchdog:
    """One daemon thread expiring the watches whose deadline passed. Thread-safe.

    Watches are kept in a heap by deadline; a finished watch stays there until its deadline (the
    heap is rebuilt without them when they are more than half of it), so starting and finishing a
    watch costs a lock and a heap push, and no thread wakes up for a watch that finished in time.
    """

    _COMPACT_AT = 1024
    """Finished watches tolerated in the heap before it is rebuilt without them."""

    def __init__(self) -> None:
        self._pid = -1
        self._start()

    def _start(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, Watch]] = []
        self._finished = 0
        self._sequence = itertools.count()
        self._thread: threading.Thread | None = None

    def start(self, seconds: float) -> Watch:
        """A watch of ``seconds`` from now, expired by this watchdog."""
        watch = Watch(seconds)
        if self._pid != os.getpid():  # a forked child: the parent's thread and lock are not ours
            self._start()
        with self._lock:
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (watch.deadline, next(self._sequence), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="egov-http-deadlines", daemon=True)
                self._thread.start()
            elif earliest is None or watch.deadline < earliest:
                self._cond.notify()
        return watch

    def finished(self, watch: Watch) -> bool:
        """Finish ``watch`` (:meth:`Watch.finish`) and forget it; whether it fired."""
        fired = watch.finish()
        with self._lock:
            self._finished += 1
            if self._finished > self._COMPACT_AT and self._finished * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
                self._finished = 0
        return fired

    def _run(self) -> None:
        while True:
            due: list[Watch] = []
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    watch = heapq.heappop(self._heap)[2]
                    if watch.done:
                        self._finished = max(0, self._finished - 1)
                    else:
                        due.append(watch)
                if not due:
                    self._cond.wait(self._heap[0][0] - now if self._heap else None)
            for watch in due:
                watch.expire()
