"""The resilient caller: every call to an external system goes through :meth:`ResilientCaller.call`.

Per attempt it checks the target's circuit breaker, runs the call, measures it, writes one journal
row, updates the metrics and logs one JSON line with the messageId. Between attempts it applies the
:class:`RetryPolicy`. Every attempt carries the *same* messageId: the gateway deduplicates by it,
which is what makes a repeated request safe.

Time: every call has a wall-clock deadline (``RetryPolicy.max_call_seconds``, measured on the
caller's clock from the start of the first attempt). Each attempt runs with the call's per-attempt
timeout capped at what is left of the deadline (``Attempt.context.timeout``, which the adapters hand
to the transport as the attempt's deadline), and no attempt or back-off starts once the deadline
would be reached: a call cannot outlast its deadline by more than the transport's reaction time.

Retry rule: an error is retried only when it is ``retryable`` **and** either the call is idempotent
or the error proves the request never left (``not_delivered=True`` in the error's context, set by
the transport for e.g. "connection refused"). A non-retryable error is re-raised unchanged at once;
when the policy gives up, :class:`RetriesExhaustedError` is raised from the last error.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import tenacity

from adapters.core.attempts import (
    AttemptRecord,
    JournalError,
    Outcome,
    UnjournalledExchangeError,
    digest,
)
from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import (
    BusinessError,
    CircuitOpenError,
    EgovError,
    ExchangeTimeoutError,
    RetriesExhaustedError,
    ValidationError,
)
from adapters.core.logs import bind_ids, bound_ids, log_fields
from adapters.core.metrics import Metrics
from adapters.core.resilience.circuit import CircuitBreaker, CircuitBreakerRegistry, counts_as_failure
from adapters.core.resilience.norms import default_timeout
from adapters.core.resilience.policy import RetryPolicy

if TYPE_CHECKING:
    from adapters.core.journal import ExchangeJournal

__all__ = ["UNDELIVERED_KINDS", "Attempt", "CallContext", "ResilientCaller", "is_not_delivered", "may_retry"]

T = TypeVar("T")

log = logging.getLogger("adapters.exchange")


@dataclass(frozen=True)
class CallContext:
    """What is being called, and under which ids. The same context is used for every attempt."""

    system: str
    """Adapter / external system, e.g. ``"egov_gateway"``, ``"legal_entities"``."""
    service: str
    """Target service, e.g. the gateway's serviceId."""
    operation: str
    """The SOAP operation as the WSDL names it, e.g. ``"SendMessage"``: the ``operation`` label of the
    metrics and the journal's operation."""
    message_id: str
    """messageId sent on every attempt (the gateway deduplicates by it)."""
    correlation_id: str | None = None
    """correlationId linking a response to its request, when there is one."""
    idempotent: bool = True
    """Whether repeating the call is harmless; if not, only undelivered attempts are repeated."""
    timeout: float | None = None
    """Per-attempt timeout in seconds; None: the regulation's norm for (system, ``norm``)."""
    norm: str | None = None
    """The key of the regulation's step norm (``adapters.core.resilience.norms``) when it is not the
    operation, e.g. ``"check_payment"`` for the payment gateway's GetPaymentStatus."""

    def __post_init__(self) -> None:
        for name in ("system", "service", "operation", "message_id"):
            if not getattr(self, name):
                raise ValidationError(f"CallContext.{name}", "required")
        if self.timeout is not None and self.timeout <= 0:
            raise ValidationError("CallContext.timeout", "must be positive", value=self.timeout)

    @property
    def target(self) -> str:
        """The circuit breaker's target: ``"system:service"``."""
        return f"{self.system}:{self.service}"

    @property
    def effective_timeout(self) -> float:
        """``timeout``, or the regulation's step norm for (system, ``norm`` or operation)."""
        if self.timeout is not None:
            return self.timeout
        return default_timeout(self.system, self.norm or self.operation)


@dataclass
class Attempt:
    """One attempt, handed to the call function; it may set the bytes it sent and received
    so that the journal keeps their digests."""

    number: int
    """1 for the first attempt."""
    request_bytes: bytes | None = None
    response_bytes: bytes | None = None
    context: CallContext = field(kw_only=True)
    """The call's context, with ``timeout`` filled in from the norms when it was None and capped at
    what is left of the call's deadline: the attempt's deadline."""


#: ``kind`` values of :func:`adapters.core.http.failures.failure_kind` meaning that no TCP
#: connection was made, so no byte of the request reached the server
UNDELIVERED_KINDS: frozenset[str] = frozenset({"refused", "connect-timeout"})


def is_not_delivered(exc: BaseException) -> bool:
    """Whether the error proves the request never reached the server.

    Conventions: ``not_delivered=True`` (or ``delivered=False``) in the error's context, or a
    transport ``kind`` of "refused" / "connect-timeout".
    """
    if not isinstance(exc, EgovError):
        return False
    ctx = exc.context
    return (ctx.get("not_delivered") is True or ctx.get("delivered") is False
            or ctx.get("kind") in UNDELIVERED_KINDS)


def may_retry(exc: BaseException, ctx: CallContext) -> bool:
    """The retry rule (see the module docstring)."""
    if not isinstance(exc, EgovError) or isinstance(exc, CircuitOpenError) or not exc.retryable:
        return False
    return ctx.idempotent or is_not_delivered(exc)


def _outcome_of(exc: BaseException) -> Outcome:
    if isinstance(exc, CircuitOpenError):
        return "circuit-open"
    if isinstance(exc, BusinessError):
        return "refused"  # an answer the procedure handles (ELC101 on a first registration check...)
    if isinstance(exc, EgovError):
        return "failed"
    return "error"


@dataclass
class _Pending:
    """The attempt under way: its journal row is written once its fate (retry or final) is known."""

    attempt: Attempt
    started: Any
    latency_s: float | None = None
    error: BaseException | None = None


class ResilientCaller:
    """Runs calls under a retry policy, circuit breakers, the journal, metrics and logs."""

    def __init__(self, policy: RetryPolicy, breakers: CircuitBreakerRegistry | None = None, *,
                 journal: ExchangeJournal | None = None, metrics: Metrics | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Clock = SYSTEM_CLOCK,
                 logger: logging.Logger | None = None, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.breakers = breakers
        self.journal = journal
        self.metrics = metrics
        self._sleep = sleep
        self._clock = clock
        self._log = logger if logger is not None else log
        self._rng = rng

    def call(self, ctx: CallContext, fn: Callable[[Attempt], T]) -> T:
        """Run ``fn`` until it returns, fails finally, or the policy gives up."""
        if ctx.timeout is None:
            ctx = dataclasses.replace(ctx, timeout=ctx.effective_timeout)
        if ctx.correlation_id is None:
            # a call inside a flow carries the flow's correlation id (bound by the flow's step)
            bound = bound_ids().get("correlation_id")
            if bound:
                ctx = dataclasses.replace(ctx, correlation_id=bound)
        breaker = self.breakers.get(ctx.target) if self.breakers is not None else None
        pending: list[_Pending] = []
        unjournalled: list[JournalError] = []
        deadline = self.policy.max_call_seconds
        start = self._clock.now()

        def one_attempt() -> T:
            now = self._clock.now()
            left = deadline - (now - start).total_seconds()
            attempt_ctx = ctx if left >= (ctx.timeout or 0.0) else dataclasses.replace(ctx, timeout=max(left, 1e-3))
            attempt = Attempt(len(pending) + 1, context=attempt_ctx)
            current = _Pending(attempt, now)
            pending.append(current)
            if left <= 0:  # our own deadline, nothing the target did: its breaker is not told
                current.error = ExchangeTimeoutError(
                    f"deadline: {ctx.system} {ctx.operation}: the call's deadline of {deadline:g} s passed "
                    f"before attempt {attempt.number}", kind="deadline", deadline_seconds=deadline,
                    target=ctx.target)
                raise current.error
            try:
                if breaker is not None:
                    try:
                        breaker.before_call()
                    finally:
                        self._show_breaker(breaker)
                t0 = self._clock.now()
                try:
                    result = fn(attempt)
                finally:
                    current.latency_s = max(0.0, (self._clock.now() - t0).total_seconds())
            except BaseException as exc:
                current.error = exc
                if breaker is not None and not isinstance(exc, CircuitOpenError):
                    self._judge(breaker, exc)
                raise
            if breaker is not None:
                breaker.record_success()
                self._show_breaker(breaker)
            return result

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self._finish(pending[-1], "retry")
            if self.metrics is not None:
                self.metrics.count_retry(ctx.system, ctx.operation)

        with bind_ids(ctx.message_id, ctx.correlation_id):
            # The first attempt runs without tenacity (most calls need no other, and setting up
            # tenacity costs more than a cheap call); a retryable failure is then handed to the
            # policy's tenacity controller as its first attempt, so that stop, wait and
            # before_sleep see exactly what they saw when tenacity made that attempt itself.
            try:
                result = one_attempt()
            except BaseException as exc:
                if not may_retry(exc, ctx):
                    unjournalled.extend(self._finish(pending[-1], _outcome_of(exc)))
                    self._raise_if_unjournalled(ctx, unjournalled, exc)
                    raise
                first: list[BaseException] = [exc]
            else:
                unjournalled.extend(self._finish(pending[-1], "ok"))
                self._raise_if_unjournalled(ctx, unjournalled, None)
                return result

            def replay_then_attempt() -> T:
                if first:
                    raise first.pop()
                return one_attempt()

            retrying = self.policy.retrying(retry_on=lambda exc: may_retry(exc, ctx), sleep=self._sleep,
                                            clock=self._clock, rng=self._rng, before_sleep=before_sleep,
                                            start=start)
            try:
                result = retrying(replay_then_attempt)
            except tenacity.RetryError as gave_up:
                last = gave_up.last_attempt.exception()
                assert isinstance(last, EgovError)  # only EgovErrors are retried
                unjournalled.extend(self._finish(pending[-1], "failed", exhausted=True))
                if self.metrics is not None:
                    self.metrics.count_exhausted(ctx.system, ctx.operation)
                self._raise_if_unjournalled(ctx, unjournalled, last)
                raise RetriesExhaustedError(len(pending), last, target=ctx.target,
                                            message_id=ctx.message_id) from last
            except BaseException as exc:
                unjournalled.extend(self._finish(pending[-1], _outcome_of(exc)))
                self._raise_if_unjournalled(ctx, unjournalled, exc)
                raise
            unjournalled.extend(self._finish(pending[-1], "ok"))
            self._raise_if_unjournalled(ctx, unjournalled, None)
            return result

    # ------------------------------------------------------------------ bookkeeping

    def _judge(self, breaker: CircuitBreaker, exc: BaseException) -> None:
        """Tell the breaker what the failure says about the target."""
        if counts_as_failure(exc):
            breaker.record_failure()
        elif isinstance(exc, EgovError):
            # the target answered (a business refusal, a fault, a refused signature): it is up
            breaker.record_success()
        # anything else is our bug and says nothing about the target; a half-open probe slot
        # left taken is released by the breaker after reset_timeout
        self._show_breaker(breaker)

    def _show_breaker(self, breaker: CircuitBreaker) -> None:
        if self.metrics is not None:
            self.metrics.track_breaker(breaker)

    @staticmethod
    def _raise_if_unjournalled(ctx: CallContext, failures: list[JournalError],
                               outcome: BaseException | None) -> None:
        """A call with an attempt missing from the journal fails, whatever its own outcome."""
        if not failures:
            return
        what = "succeeded" if outcome is None else f"ended with {type(outcome).__name__}"
        raise UnjournalledExchangeError(
            f"{ctx.system} {ctx.operation} (message {ctx.message_id}) {what}, but {len(failures)} of its "
            f"attempts could not be journalled: {failures[0].message}", message_id=ctx.message_id,
            target=ctx.target) from failures[0]

    def _finish(self, p: _Pending, outcome: Outcome, *, exhausted: bool = False) -> list[JournalError]:
        """Journal, count and log one finished attempt; return the journal's failure, if any."""
        ctx, exc = p.attempt.context, p.error
        error_code = error_message = None
        if exc is not None:
            error_code = exc.code if isinstance(exc, EgovError) else type(exc).__name__
            error_message = str(exc) or type(exc).__name__
        latency_ms = round((p.latency_s or 0.0) * 1000, 3)
        failed: list[JournalError] = []
        if self.journal is not None:
            row = AttemptRecord(
                at=p.started, system=ctx.system, service=ctx.service, operation=ctx.operation,
                message_id=ctx.message_id, correlation_id=ctx.correlation_id, attempt=p.attempt.number,
                outcome=outcome, latency_ms=latency_ms, error_code=error_code, error_message=error_message,
                request_digest=digest(p.attempt.request_bytes),
                response_digest=digest(p.attempt.response_bytes), exhausted=exhausted)
            try:
                self.journal.record(row)
            except JournalError as jexc:
                self._log.error("exchange journal write failed: %s", jexc,
                                extra=log_fields(message_id=ctx.message_id, error_code=jexc.code))
                failed.append(jexc)
        if self.metrics is not None:
            self.metrics.observe_attempt(ctx.system, ctx.operation, outcome, p.latency_s)
        level = {"ok": logging.INFO, "refused": logging.INFO, "retry": logging.WARNING}.get(outcome, logging.ERROR)
        self._log.log(level, "%s %s.%s attempt %d: %s", ctx.system, ctx.service, ctx.operation,
                      p.attempt.number, outcome, extra=log_fields(
                          message_id=ctx.message_id, correlation_id=ctx.correlation_id, system=ctx.system,
                          service=ctx.service, operation=ctx.operation, attempt=p.attempt.number,
                          outcome=outcome, latency_ms=latency_ms, error_code=error_code,
                          exhausted=exhausted or None, error=error_message))
        return failed
