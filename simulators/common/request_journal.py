"""The request journal of a simulator: what arrived, and what was done with it.

QA reads it to check that a retry reused its messageId, that a fault was applied, and that the
backend saw a message once (``backend_called``). Query and reset it over HTTP with
:func:`install_journal_control` (``/_control/journal``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from typing import Any

from pydantic import BaseModel, Field

from adapters.core.clock import SYSTEM_CLOCK, Clock
from simulators.common.httpserver import Request, Response, Router


class JournalEntry(BaseModel):
    seq: int
    at: dt.datetime
    method: str
    path: str
    service: str | None = None
    operation: str | None = None
    message_id: str | None = None
    correlation_id: str | None = None
    sender_id: str | None = None
    outcome: str = Field(description="ok, dedup, status:<code>, fault:<code>, injected:<kind>, http:<status>")
    fault: str | None = Field(None, description="kind of the injected fault, if any")
    fault_when: str | None = None
    http_status: int | None = None
    backend_called: bool = False
    duration_ms: float = 0.0


_FILTERS = ("service", "operation", "message_id", "correlation_id", "sender_id", "outcome", "fault")


class RequestJournal:
    """Thread-safe, bounded (oldest entries drop first)."""

    def __init__(self, *, maxlen: int = 10_000, clock: Clock = SYSTEM_CLOCK) -> None:
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self._seq = 0
        self._clock = clock

    def record(self, **fields: Any) -> JournalEntry:
        with self._lock:
            self._seq += 1
            entry = JournalEntry(seq=self._seq, at=self._clock.now(), **fields)
            self._entries.append(entry)
            return entry

    def entries(self, *, limit: int | None = None, **filters: Any) -> list[JournalEntry]:
        """Entries in arrival order, filtered by equality on the given fields."""
        unknown = set(filters) - set(_FILTERS) - {"backend_called"}
        if unknown:
            raise ValueError(f"unknown journal filter(s): {', '.join(sorted(unknown))}")
        with self._lock:
            items = list(self._entries)
        for key, value in filters.items():
            if value is not None:
                items = [e for e in items if getattr(e, key) == value]
        return items[-limit:] if limit else items

    def count(self, **filters: Any) -> int:
        return len(self.entries(**filters))

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()


def install_journal_control(router: Router, journal: RequestJournal, prefix: str = "/_control/journal") -> None:
    """``GET {prefix}?service=&operation=&message_id=&outcome=&limit=`` and ``DELETE {prefix}``."""

    def get(req: Request) -> Response:
        filters: dict[str, Any] = {k: req.param(k) for k in _FILTERS if req.param(k) is not None}
        backend = req.param("backend_called")
        if backend is not None:
            filters["backend_called"] = backend.lower() in ("1", "true", "yes")
        limit = req.param("limit")
        items = journal.entries(limit=int(limit) if limit else None, **filters)
        return Response.json({"count": len(items), "entries": [e.model_dump(mode="json") for e in items]})

    def delete(req: Request) -> Response:
        journal.reset()
        return Response.json({"count": 0, "entries": []})

    router.add("GET", prefix, get)
    router.add("DELETE", prefix, delete)
