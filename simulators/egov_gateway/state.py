"""The gateway simulator's state: senders, routing table, dedup store, async queues.

Every class is thread-safe (the HTTP server is concurrent) and has ``reset()``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from adapters.core.errors import ConfigurationError
from simulators.egov_gateway.backend import GatewayBackend

# --------------------------------------------------------------------------- senders


@dataclass(frozen=True)
class SenderAccount:
    """A system registered at the gateway."""

    sender_id: str
    password: str | None = None
    """Required password, or None to accept the sender without one."""
    bin: str | None = None
    """When set, the transport signature must come from a certificate of this BIN."""
    services: frozenset[str] | None = None
    """Services the sender may call; None = all."""


class SenderRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, SenderAccount] = {}

    def add(self, account: SenderAccount) -> None:
        with self._lock:
            self._accounts[account.sender_id] = account

    def get(self, sender_id: str) -> SenderAccount | None:
        with self._lock:
            return self._accounts.get(sender_id)

    def all(self) -> list[SenderAccount]:
        with self._lock:
            return list(self._accounts.values())


# --------------------------------------------------------------------------- routing


class RoutingTable:
    """serviceId → backend. Registration is explicit; no discovery."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, GatewayBackend] = {}

    def register(self, service_id: str, backend: GatewayBackend) -> None:
        if not service_id or not hasattr(backend, "handle"):
            raise ConfigurationError(f"cannot register backend {backend!r} for service {service_id!r}",
                                     setting="service_id")
        with self._lock:
            self._routes[service_id] = backend

    def unregister(self, service_id: str) -> None:
        with self._lock:
            self._routes.pop(service_id, None)

    def get(self, service_id: str) -> GatewayBackend | None:
        with self._lock:
            return self._routes.get(service_id)

    def services(self) -> list[str]:
        with self._lock:
            return sorted(self._routes)


# --------------------------------------------------------------------------- dedup


@dataclass
class StoredAnswer:
    """The answer given to a messageId, stored unsigned (it is re-signed each time it is sent)."""

    message_id: str
    sender_id: str
    service_id: str
    envelope: bytes
    status_code: str
    stored_at: dt.datetime
    replays: int = 0


DEDUP_RETENTION_SECONDS = 24 * 3600.0
"""How long an answer is kept for a repeated messageId (assumption: the gateway's documents name no
window; a day covers every retry schedule of the regulation's step norms)."""
DEDUP_MAX_BYTES = 64 * 1024 * 1024
"""Most bytes of stored answers; past it the oldest answers are dropped first."""


class DedupStore:
    """messageId → the original answer, for a retention window and within a byte cap.

    ``claim`` serializes concurrent calls with one messageId, so the backend runs at most once per
    messageId even when a retry overtakes the first try. An answer older than ``retention_seconds``
    is gone (a messageId repeated after the window is a new message), and when the stored answers
    would exceed ``max_bytes`` the oldest are dropped. ``now`` is a monotonic clock (injectable).
    """

    def __init__(self, *, retention_seconds: float = DEDUP_RETENTION_SECONDS, max_bytes: int = DEDUP_MAX_BYTES,
                 now: Callable[[], float] = time.monotonic) -> None:
        if retention_seconds <= 0 or max_bytes <= 0:
            raise ConfigurationError(f"dedup retention and size cap must be positive, got {retention_seconds} s "
                                     f"and {max_bytes} bytes", setting="dedup")
        self.retention_seconds = retention_seconds
        self.max_bytes = max_bytes
        self._now = now
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, tuple[float, StoredAnswer]] = OrderedDict()
        self._bytes = 0
        self._inflight: dict[str, list[Any]] = {}  # messageId -> [lock, holders]

    @contextmanager
    def claim(self, message_id: str) -> Iterator[None]:
        with self._lock:
            entry = self._inflight.setdefault(message_id, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._lock:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._inflight[message_id]

    def _expire(self) -> None:
        oldest = self._now() - self.retention_seconds
        while self._answers:
            key, (stored_at, answer) = next(iter(self._answers.items()))
            if stored_at > oldest and self._bytes <= self.max_bytes:
                break
            del self._answers[key]
            self._bytes -= len(answer.envelope)

    def get(self, message_id: str) -> StoredAnswer | None:
        with self._lock:
            self._expire()
            found = self._answers.get(message_id)
            return found[1] if found is not None else None

    def replay(self, message_id: str) -> StoredAnswer | None:
        with self._lock:
            self._expire()
            found = self._answers.get(message_id)
            if found is not None:
                found[1].replays += 1
                return replace(found[1])
            return None

    def put(self, answer: StoredAnswer) -> None:
        with self._lock:
            previous = self._answers.pop(answer.message_id, None)
            if previous is not None:
                self._bytes -= len(previous[1].envelope)
            self._answers[answer.message_id] = (self._now(), answer)
            self._bytes += len(answer.envelope)
            self._expire()

    @property
    def stored_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._answers)

    def reset(self) -> None:
        with self._lock:
            self._answers.clear()
            self._bytes = 0
            self._inflight.clear()


# --------------------------------------------------------------------------- async queues

ON_DELIVERY = "ON_DELIVERY"
DELIVERED = "DELIVERED"
NOT_DELIVERED = "NOT_DELIVERED"
DELIVERY_STOPPED = "DELIVERY_STOPPED"


@dataclass
class AsyncRecord:
    """A message on the async channel: a REQUEST sent by a system, or an answer/notification
    waiting for its recipient to pull it."""

    message_id: str
    correlation_id: str | None
    service_id: str
    message_type: str
    sender_id: str
    recipient_id: str | None
    data: bytes | None
    created: dt.datetime
    route_id: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    state: str = ON_DELIVERY
    status_code: str = "SCSS001"
    status_message: str = "Message accepted for delivery"
    status_date: dt.datetime | None = None
    pulls: int = 0


class AsyncStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, AsyncRecord] = {}
        self._order: list[str] = []

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    def add(self, record: AsyncRecord) -> AsyncRecord:
        with self._lock:
            if record.message_id not in self._records:
                self._order.append(record.message_id)
            self._records[record.message_id] = record
        return record

    def get(self, message_id: str) -> AsyncRecord | None:
        with self._lock:
            rec = self._records.get(message_id)
            return replace(rec) if rec else None

    def update(self, message_id: str, fn: Callable[[AsyncRecord], None]) -> AsyncRecord | None:
        with self._lock:
            rec = self._records.get(message_id)
            if rec is None:
                return None
            fn(rec)
            return replace(rec)

    def pending_for(self, recipient_id: str, *, service_id: str | None = None, message_type: str | None = None,
                    correlation_id: str | None = None, max_count: int | None = None) -> list[AsyncRecord]:
        """Messages waiting for ``recipient_id`` (not yet acknowledged), oldest first."""
        out: list[AsyncRecord] = []
        with self._lock:
            for mid in self._order:
                rec = self._records[mid]
                if rec.recipient_id != recipient_id or rec.state != ON_DELIVERY:
                    continue
                if service_id and rec.service_id != service_id:
                    continue
                if message_type and rec.message_type != message_type:
                    continue
                if correlation_id and rec.correlation_id != correlation_id:
                    continue
                rec.pulls += 1
                out.append(replace(rec))
                if max_count and len(out) >= max_count:
                    break
        return out

    def all(self) -> list[AsyncRecord]:
        with self._lock:
            return [replace(self._records[m]) for m in self._order]

    def reset(self) -> None:
        with self._lock:
            self._records.clear()
            self._order.clear()
