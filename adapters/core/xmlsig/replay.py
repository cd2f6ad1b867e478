"""A bounded, thread-safe memory of recently seen signed messages, to refuse replays."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict

from adapters.core.clock import SYSTEM_CLOCK, Clock


class ReplayCache:
    """Remembers keys (Timestamp Id + signature value) until their Timestamp would expire anyway.

    Bounded: past ``max_entries`` the oldest entries are forgotten first. A forgotten entry can
    only be replayed while its Timestamp is still fresh, so size the cache for the message rate
    over one TTL.
    """

    def __init__(self, max_entries: int = 100_000, *, clock: Clock = SYSTEM_CLOCK) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, dt.datetime] = OrderedDict()
        self._lock = threading.Lock()

    def check_and_remember(self, key: str, until: dt.datetime) -> bool:
        """True if ``key`` was already seen and is still remembered; otherwise remember it until ``until``."""
        now = self._clock.now()
        with self._lock:
            self._purge(now)
            expiry = self._entries.get(key)
            if expiry is not None and expiry >= now:
                return True
            self._entries[key] = until
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
            return False

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _purge(self, now: dt.datetime) -> None:
        # entries are mostly in expiry order (one TTL for everybody); stop at the first live one
        while self._entries:
            key, expiry = next(iter(self._entries.items()))
            if expiry >= now:
                break
            del self._entries[key]
