"""Connect and read timeouts, and the wall-clock deadline of an attempt: every call has all three."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.core.errors import ConfigurationError

if TYPE_CHECKING:
    from adapters.core.settings import Settings


@dataclass(frozen=True)
class Timeouts:
    """Per-call timeouts in seconds. All are always set, and positive: no call can wait forever.

    ``connect`` and ``read`` bound each wait for the network; ``total`` bounds the whole attempt
    (connecting, sending, and reading the answer to its last byte), whatever the server does: a
    server that answers a byte just before each read timeout is cut at ``total`` all the same.
    """

    connect: float = 5.0
    """TCP connect timeout (and TLS handshake, and the proxy's CONNECT)."""
    read: float = 90.0
    """Time allowed between bytes of the answer (the regulation's 1.5 min step norm by default)."""
    total: float = 120.0
    """Wall-clock deadline of one attempt, from the start of the connection to the answer's last byte."""

    def __post_init__(self) -> None:
        if self.connect <= 0 or self.read <= 0 or self.total <= 0:
            raise ConfigurationError(f"timeouts must be positive, got connect={self.connect} read={self.read} "
                                     f"total={self.total}")

    @classmethod
    def from_settings(cls, settings: Settings) -> Timeouts:
        """``EGOV_CONNECT_TIMEOUT_SECONDS``, ``EGOV_READ_TIMEOUT_SECONDS``, ``EGOV_ATTEMPT_TIMEOUT_SECONDS``."""
        return cls(settings.connect_timeout_seconds, settings.read_timeout_seconds,
                   settings.attempt_timeout_seconds)

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)

    def for_call(self, timeout: Timeouts | float | None) -> Timeouts:
        """The timeouts of one call: these (``None``), the given ones, or a number of seconds: the
        call's deadline, within this deadline (the read timeout is the number, the connect timeout
        and the deadline are capped at it). A number must be positive (``ConfigurationError``)."""
        if timeout is None:
            return self
        if isinstance(timeout, Timeouts):
            return timeout
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be positive, got {timeout}")
        return Timeouts(min(self.connect, timeout), float(timeout), min(self.total, float(timeout)))
