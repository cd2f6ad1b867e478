"""The one retry policy type shared by every adapter.

A :class:`RetryPolicy` is an immutable value with bounded defaults (the counter-example is
tenacity's own default of retrying forever). It builds a :class:`tenacity.Retrying` whose stop is
``attempts | total time | the call's deadline`` and whose wait is exponential back-off plus uniform
jitter. Time and
randomness are injectable so tests never sleep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import tenacity
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError

if TYPE_CHECKING:
    from adapters.core.settings import Settings

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a call is repeated after a retryable error."""

    max_attempts: int = 4
    """Attempts per call, the first one included (1 = no retry)."""
    max_total_seconds: float = 30.0
    """Cap on the time from the first attempt to the start of the last one; no back-off sleep
    is started if it would end beyond this cap."""
    initial_backoff: float = 0.2
    """Wait before the second attempt, in seconds (before jitter)."""
    max_backoff: float = 5.0
    """Upper bound of any single wait, jitter included."""
    multiplier: float = 2.0
    """Growth factor of the wait from one retry to the next (>= 1)."""
    jitter: float = 0.1
    """Up to this many seconds, drawn uniformly, are added to each wait."""
    max_call_seconds: float = 300.0
    """Wall-clock deadline of the whole call, every attempt and back-off included: an attempt is
    given at most what is left of it, and none starts (no back-off sleep either) once it would end
    past it."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError(f"RetryPolicy.max_attempts must be >= 1 (got {self.max_attempts})",
                                     field="max_attempts")
        for name in ("max_total_seconds", "initial_backoff", "max_backoff", "jitter"):
            value = getattr(self, name)
            if value < 0:
                raise ConfigurationError(f"RetryPolicy.{name} must not be negative (got {value})", field=name)
        if self.max_call_seconds <= 0:
            raise ConfigurationError(f"RetryPolicy.max_call_seconds must be positive (got {self.max_call_seconds})",
                                     field="max_call_seconds")
        if self.multiplier < 1:
            raise ConfigurationError(f"RetryPolicy.multiplier must be >= 1 (got {self.multiplier})",
                                     field="multiplier")
        if self.max_backoff < self.initial_backoff:
            raise ConfigurationError(
                f"RetryPolicy.max_backoff ({self.max_backoff}) is below initial_backoff "
                f"({self.initial_backoff})", field="max_backoff")

    # ------------------------------------------------------------------ constructors

    @classmethod
    def no_retry(cls) -> RetryPolicy:
        """One attempt only."""
        return cls(max_attempts=1, initial_backoff=0.0, max_backoff=0.0, jitter=0.0)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """The policy named by ``EGOV_RETRY_MAX_ATTEMPTS``, ``EGOV_RETRY_MAX_TOTAL_SECONDS`` and
        ``EGOV_CALL_TIMEOUT_SECONDS``."""
        return cls(max_attempts=settings.retry_max_attempts,
                   max_total_seconds=settings.retry_max_total_seconds,
                   max_call_seconds=settings.call_timeout_seconds)

    # ------------------------------------------------------------------ back-off

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        """Wait before retry ``retry_number`` (1 = before the second attempt), jitter included."""
        if retry_number < 1:
            raise ValueError(f"retry_number starts at 1 (got {retry_number})")
        base = self.initial_backoff * self.multiplier ** (retry_number - 1)
        extra = (rng or random).uniform(0.0, self.jitter) if self.jitter else 0.0
        return max(0.0, min(base + extra, self.max_backoff))

    # ------------------------------------------------------------------ tenacity

    def retrying(self, *, retry_on: Callable[[BaseException], bool],
                 sleep: Callable[[float], None] = time.sleep, clock: Clock = SYSTEM_CLOCK,
                 rng: random.Random | None = None,
                 before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
                 start: Any = None) -> tenacity.Retrying:
        """A tenacity controller applying this policy.

        ``retry_on`` says whether an exception may be retried; exhaustion raises
        :class:`tenacity.RetryError` (the caller translates it). Elapsed time is read from ``clock``
        so a fake clock moved by a fake ``sleep`` drives the total-time cap; it counts from
        ``start`` (default: now), which a caller that made the first attempt itself passes.
        """
        if start is None:
            start = clock.now()
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts) | _StopBeforeTotal(self.max_total_seconds,
                                                                                   clock, start)
            | _StopAtDeadline(self.max_call_seconds, clock, start),
            wait=_BackoffWait(self, rng),
            retry=tenacity.retry_if_exception(retry_on),
            sleep=sleep,
            before_sleep=before_sleep,
            reraise=False,
        )


class _BackoffWait(wait_base):
    """Exponential back-off with uniform jitter, as :meth:`RetryPolicy.backoff`."""

    def __init__(self, policy: RetryPolicy, rng: random.Random | None) -> None:
        self._policy = policy
        self._rng = rng

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        return self._policy.backoff(retry_state.attempt_number, self._rng)


class _StopBeforeTotal(stop_base):
    """Stop when the coming back-off would end beyond the total-time cap (measured on ``clock``)."""

    def __init__(self, max_total: float, clock: Clock, start: Any) -> None:
        self._max_total = max_total
        self._clock = clock
        self._start = start

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        elapsed = (self._clock.now() - self._start).total_seconds()
        return bool(elapsed + retry_state.upcoming_sleep > self._max_total)


class _StopAtDeadline(stop_base):
    """Stop when the coming back-off would reach the call's deadline (no time would be left for an attempt)."""

    def __init__(self, deadline: float, clock: Clock, start: Any) -> None:
        self._deadline = deadline
        self._clock = clock
        self._start = start

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        elapsed = (self._clock.now() - self._start).total_seconds()
        return bool(elapsed + retry_state.upcoming_sleep >= self._deadline)
