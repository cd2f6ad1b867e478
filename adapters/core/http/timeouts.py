"""Connect and read timeouts: every call has both."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.core.errors import ConfigurationError


@dataclass(frozen=True)
class Timeouts:
    """Per-call timeouts in seconds. Both are always set, and positive: no call can wait forever."""

    connect: float = 5.0
    """TCP connect timeout (and TLS handshake, and the proxy's CONNECT)."""
    read: float = 90.0
    """Time allowed between bytes of the answer (the regulation's 1.5 min step norm by default)."""

    def __post_init__(self) -> None:
        if self.connect <= 0 or self.read <= 0:
            raise ConfigurationError(f"timeouts must be positive, got connect={self.connect} read={self.read}")

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)

    def for_call(self, timeout: Timeouts | float | None) -> Timeouts:
        """The timeouts of one call: these (``None``), the given ones, or a number of seconds for the
        read with the connect timeout capped at it. A number must be positive (``ConfigurationError``)."""
        if timeout is None:
            return self
        if isinstance(timeout, Timeouts):
            return timeout
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be positive, got {timeout}")
        return Timeouts(min(self.connect, timeout), float(timeout))
