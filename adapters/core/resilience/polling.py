"""Polling the async channel with back-off until a deadline.

An async answer (gateway async channel) is fetched by polling. :func:`poll_until` repeats ``fn``
until it returns something other than None, sleeping ``initial``, then ``initial * multiplier``...
up to ``max_interval`` between polls, and never past the deadline: the last poll happens at the
deadline. Retryable errors while polling (the gateway briefly unreachable) do not end the wait;
any other error does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import DeadlineExceededError, EgovError, ValidationError
from adapters.core.logs import log_fields
from adapters.core.metrics import Metrics

__all__ = ["poll_until"]

T = TypeVar("T")

log = logging.getLogger("adapters.polling")


def poll_until(fn: Callable[[], T | None], *, deadline: float, initial: float = 0.5,
               max_interval: float = 5.0, multiplier: float = 2.0,
               sleep: Callable[[float], None] = time.sleep, clock: Clock = SYSTEM_CLOCK,
               metrics: Metrics | None = None, system: str | None = None, service: str | None = None,
               what: str = "async answer") -> T:
    """Poll ``fn`` until it returns a value; ``deadline`` is the wait budget in seconds from now.

    While polling, ``metrics.async_pending{system}`` counts this message as pending (``system``: the
    system polled, e.g. ``"payment_gateway"``; ``service`` names it in messages and logs).
    Raises :class:`DeadlineExceededError` naming how long it waited and how many polls it made
    (chained from the last retryable error, if the last poll failed).
    """
    if deadline < 0:
        raise ValidationError("deadline", "must not be negative", value=deadline)
    if initial <= 0 or max_interval <= 0 or multiplier < 1:
        raise ValidationError("poll interval", "initial and max_interval must be positive, multiplier >= 1",
                              value=(initial, max_interval, multiplier))
    started = clock.now()
    interval = initial
    polls = 0
    last_error: EgovError | None = None
    pending_label = system or "unknown"
    if metrics is not None:
        metrics.async_started(pending_label)
    try:
        while True:
            polls += 1
            try:
                result = fn()
            except EgovError as exc:
                if not exc.retryable:
                    raise
                last_error = exc
                log.warning("poll %d for %s failed, will poll again: %s", polls, what, exc,
                            extra=log_fields(service=service, error_code=exc.code))
                result = None
            else:
                last_error = None
            if result is not None:
                return result
            waited = (clock.now() - started).total_seconds()
            remaining = deadline - waited
            if remaining <= 0:
                raise DeadlineExceededError(
                    f"{what}{f' from {service}' if service else ''} did not arrive within "
                    f"{deadline:g} s: waited {waited:.1f} s over {polls} poll(s)",
                    waited_seconds=round(waited, 3), polls=polls, service=service,
                ) from last_error
            sleep(min(interval, remaining))
            interval = min(interval * multiplier, max_interval)
    finally:
        if metrics is not None:
            metrics.async_finished(pending_label)
