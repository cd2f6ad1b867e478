"""What the simulators' HTTP runners accept, and the status a request beyond it gets.

The constants bound one request (its line, head and body). :class:`ConnectionLimits` bounds what
clients together may hold of the socket server (:class:`~simulators.common.httpserver.SimServer`):
time to send a head or a body, connections open at once, request bytes buffered at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.core.errors import ConfigurationError

MAX_BODY_BYTES = 64 * 1024 * 1024  # 30 MB of attachments in base64 plus the envelope
"""Largest request body, declared or (chunked) received (else 413)."""
MAX_LINE_BYTES = 65536
"""Longest request line (else 414) or header line (else 431), as the standard library's server."""
MAX_HEADERS = 100
"""Most header lines in one request (else 431), as the standard library's server."""
MAX_HEAD_BYTES = 4 * MAX_LINE_BYTES
"""Longest request head, request line and header lines together (else 431; 414 when the request
line alone is over :data:`MAX_LINE_BYTES`)."""
METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "HEAD"})
"""Methods served (else 501)."""


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a client may take and how much it may hold; every bound is finite.

    A connection past a time bound gets ``408 Request Timeout`` (nothing when it sent no byte of a
    request) and is closed; a connection beyond ``max_connections`` gets ``503`` and is closed at
    once; a request whose bytes would take the server past ``max_buffered_bytes`` gets ``503``.
    """

    header_timeout_seconds: float = 10.0
    """A request head must arrive whole within this, counted from the connection's accept (first
    request) or from the head's first byte (later requests on a kept-alive connection)."""
    idle_timeout_seconds: float = 30.0
    """A kept-alive connection waits this long for the first byte of its next request."""
    body_timeout_seconds: float = 60.0
    """A request body must arrive whole within this after its head (60 s: 64 MB at about 1 MB/s)."""
    send_timeout_seconds: float = 30.0
    """Longest wait for the client to take the bytes of an answer (a client that stops reading)."""
    max_connections: int = 512
    """Connections served at once (each holds a thread); the next one is answered 503 and closed."""
    max_buffered_bytes: int = 4 * MAX_BODY_BYTES
    """Request bytes (heads and bodies) all connections together may hold in memory until answered."""

    def __post_init__(self) -> None:
        for name in ("header_timeout_seconds", "idle_timeout_seconds", "body_timeout_seconds",
                     "send_timeout_seconds"):
            value = getattr(self, name)
            if not 0 < value < float("inf"):
                raise ConfigurationError(f"{name} must be a finite number of seconds > 0, got {value}",
                                         setting=name)
        if self.max_connections < 1:
            raise ConfigurationError(f"max_connections must be >= 1, got {self.max_connections}",
                                     setting="max_connections")
        if self.max_buffered_bytes < MAX_HEAD_BYTES:
            raise ConfigurationError(f"max_buffered_bytes must be >= {MAX_HEAD_BYTES} (one request head), "
                                     f"got {self.max_buffered_bytes}", setting="max_buffered_bytes")


DEFAULT_LIMITS = ConnectionLimits()
"""The limits of a server built without any."""
