"""The request bytes a server holds in memory at once, across all its connections."""

from __future__ import annotations

import threading


class ByteBudget:
    """A thread-safe count of bytes held against a cap: :meth:`take` before buffering, :meth:`give`
    back once the bytes are released."""

    __slots__ = ("_cap", "_held", "_lock")

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._held = 0
        self._lock = threading.Lock()

    def take(self, size: int) -> bool:
        """Hold ``size`` more bytes; False (nothing held) when that would pass the cap."""
        with self._lock:
            if self._held + size > self._cap:
                return False
            self._held += size
            return True

    def give(self, size: int) -> None:
        """Release ``size`` bytes taken before."""
        with self._lock:
            self._held -= size

    @property
    def held(self) -> int:
        return self._held
