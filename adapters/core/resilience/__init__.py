"""Resilience shared by every adapter: one retry policy, circuit breakers, async polling.

Every exchange goes through :class:`ResilientCaller`; its defaults are bounded (attempts, total
time, per-attempt timeouts from the regulation's step norms).
"""

from __future__ import annotations

from adapters.core.resilience.caller import Attempt, CallContext, ResilientCaller, is_not_delivered, may_retry
from adapters.core.resilience.circuit import CircuitBreaker, CircuitBreakerRegistry, counts_as_failure
from adapters.core.resilience.norms import DEFAULT_TIMEOUTS, STEP_NORMS, StepNorm, default_timeout
from adapters.core.resilience.policy import RetryPolicy
from adapters.core.resilience.polling import poll_until

__all__ = [
    "DEFAULT_TIMEOUTS",
    "STEP_NORMS",
    "Attempt",
    "CallContext",
    "CircuitBreaker",
    "CircuitBreakerRegistry",
    "ResilientCaller",
    "RetryPolicy",
    "StepNorm",
    "counts_as_failure",
    "default_timeout",
    "is_not_delivered",
    "may_retry",
    "poll_until",
]
