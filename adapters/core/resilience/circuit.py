"""Circuit breakers, one per target service.

A breaker is *closed* while calls succeed. After ``failure_threshold`` consecutive failures it
*opens*: calls are refused at once with :class:`CircuitOpenError` instead of waiting for a service
that is down. After ``reset_timeout`` it is *half-open*: exactly one probe call goes through; its
success closes the breaker, its failure opens it again for another ``reset_timeout``.

Only failures of the exchange count (transport errors, HTTP 5xx, timeouts: retryable exchange
errors, see :func:`counts_as_failure`). A business refusal proves the service is up.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING, Literal

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import CircuitOpenError, ConfigurationError, ExchangeError

if TYPE_CHECKING:
    from adapters.core.settings import Settings

__all__ = ["CLOSED", "HALF_OPEN", "OPEN", "CircuitBreaker", "CircuitBreakerRegistry", "CircuitState",
           "counts_as_failure"]

CircuitState = Literal["closed", "open", "half-open"]
CLOSED: CircuitState = "closed"
OPEN: CircuitState = "open"
HALF_OPEN: CircuitState = "half-open"


def counts_as_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the target service is failing (not merely refusing our request)."""
    return isinstance(exc, ExchangeError) and exc.retryable and not isinstance(exc, CircuitOpenError)


class CircuitBreaker:
    """The breaker of one target (``"system:service"``). Thread-safe."""

    def __init__(self, target: str, *, failure_threshold: int = 5, reset_timeout: float = 30.0,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        if failure_threshold < 1:
            raise ConfigurationError(f"circuit breaker {target}: failure_threshold must be >= 1 "
                                     f"(got {failure_threshold})", field="failure_threshold")
        if reset_timeout < 0:
            raise ConfigurationError(f"circuit breaker {target}: reset_timeout must not be negative "
                                     f"(got {reset_timeout})", field="reset_timeout")
        self.target = target
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: dt.datetime | None = None
        self._probe_started: dt.datetime | None = None

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> CircuitState:
        with self._lock:
            return self._state(self._clock.now())

    @property
    def consecutive_failures(self) -> int:
        with self._lock:
            return self._failures

    def _state(self, now: dt.datetime) -> CircuitState:
        if self._opened_at is None:
            return CLOSED
        if now < self._probe_time():
            return OPEN
        return HALF_OPEN

    def _probe_time(self) -> dt.datetime:
        assert self._opened_at is not None
        return self._opened_at + dt.timedelta(seconds=self.reset_timeout)

    # ------------------------------------------------------------------ protocol

    def before_call(self) -> None:
        """Let the call through or raise :class:`CircuitOpenError`.

        In half-open state exactly one probe goes through; others are refused until it reports.
        A probe that never reports (the caller crashed) is forgotten after ``reset_timeout``.
        """
        with self._lock:
            now = self._clock.now()
            state = self._state(now)
            if state == CLOSED:
                return
            if state == HALF_OPEN:
                probe_stale = (self._probe_started is not None and
                               now >= self._probe_started + dt.timedelta(seconds=self.reset_timeout))
                if self._probe_started is None or probe_stale:
                    self._probe_started = now
                    return
                raise CircuitOpenError(
                    f"circuit for {self.target} is half-open and its probe call is in flight; "
                    f"call refused", target=self.target, state=HALF_OPEN)
            probe_at = self._probe_time()
            wait = (probe_at - now).total_seconds()
            raise CircuitOpenError(
                f"circuit for {self.target} is open after {self._failures} consecutive failure(s); "
                f"call refused, next probe at {probe_at.isoformat()} (in {wait:.1f} s)",
                target=self.target, state=OPEN, probe_at=probe_at.isoformat())

    def record_success(self) -> None:
        """The target answered: close the breaker."""
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probe_started = None

    def record_failure(self) -> None:
        """The target failed: count it; open at the threshold, re-open when a probe fails."""
        with self._lock:
            now = self._clock.now()
            self._failures += 1
            if self._opened_at is not None:
                # a failed probe (or a late failure while open): wait a full reset_timeout again
                self._opened_at = now
            elif self._failures >= self.failure_threshold:
                self._opened_at = now
            self._probe_started = None

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.target!r}, state={self.state!r})"


class CircuitBreakerRegistry:
    """One breaker per target, created on first use with the registry's settings. Thread-safe."""

    def __init__(self, failure_threshold: int = 5, reset_timeout: float = 30.0,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        # validate once, here, rather than on the first call to a target
        CircuitBreaker("registry", failure_threshold=failure_threshold, reset_timeout=reset_timeout)
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> CircuitBreakerRegistry:
        return cls(settings.circuit_failure_threshold, settings.circuit_reset_seconds, clock)

    def get(self, target: str) -> CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get(target)
            if breaker is None:
                breaker = CircuitBreaker(target, failure_threshold=self.failure_threshold,
                                         reset_timeout=self.reset_timeout, clock=self._clock)
                self._breakers[target] = breaker
            return breaker

    def states(self) -> dict[str, str]:
        with self._lock:
            breakers = list(self._breakers.values())
        return {b.target: b.state for b in breakers}
