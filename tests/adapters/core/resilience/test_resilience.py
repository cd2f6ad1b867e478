"""Retry policy, circuit breakers, the resilient caller and polling — with a fake clock and sleep."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest

from adapters.core.clock import FrozenClock
from adapters.core.errors import (
    CircuitOpenError,
    ConfigurationError,
    DeadlineExceededError,
    HttpStatusError,
    NotFoundError,
    RetriesExhaustedError,
    SoapFaultError,
    TransportError,
    ValidationError,
)
from adapters.core.resilience import (
    Attempt,
    CallContext,
    CircuitBreaker,
    CircuitBreakerRegistry,
    ResilientCaller,
    RetryPolicy,
    default_timeout,
    poll_until,
)
from adapters.core.resilience.norms import FALLBACK_TIMEOUT, step_norm

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)


class FakeTime:
    """A frozen clock and a sleep that moves it: no test sleeps for real."""

    def __init__(self) -> None:
        self.clock = FrozenClock(T0)
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(dt.timedelta(seconds=seconds))

    @property
    def elapsed(self) -> float:
        return (self.clock.now() - T0).total_seconds()


@pytest.fixture
def ft() -> FakeTime:
    return FakeTime()


def ctx(**kw: object) -> CallContext:
    base: dict[str, object] = {"system": "legal_entities", "service": "GBDUL_INFO", "operation": "lookup",
                               "message_id": "7f6c2a4e-1111-4a7c-9d35-0c1a2b3c4d5e"}
    base.update(kw)
    return CallContext(**base)  # type: ignore[arg-type]


def caller(ft: FakeTime, policy: RetryPolicy | None = None, **kw: object) -> ResilientCaller:
    return ResilientCaller(policy or RetryPolicy(jitter=0.0), sleep=ft.sleep, clock=ft.clock,
                           **kw)  # type: ignore[arg-type]


class Script:
    """A call function that raises the scripted errors in turn, then returns ``result``."""

    def __init__(self, *errors: Exception, result: str = "answer", cost: float = 0.0,
                 clock: FrozenClock | None = None) -> None:
        self.errors = list(errors)
        self.result = result
        self.seen: list[tuple[int, str, float | None]] = []
        self.cost = cost
        self.clock = clock

    def __call__(self, attempt: Attempt) -> str:
        self.seen.append((attempt.number, attempt.context.message_id, attempt.context.timeout))
        if self.clock is not None and self.cost:
            self.clock.advance(dt.timedelta(seconds=self.cost))
        if self.errors:
            raise self.errors.pop(0)
        return self.result


# ---------------------------------------------------------------------------- policy


def test_policy_defaults_are_bounded() -> None:
    p = RetryPolicy()
    assert (p.max_attempts, p.max_total_seconds, p.initial_backoff, p.max_backoff, p.multiplier,
            p.jitter) == (4, 30.0, 0.2, 5.0, 2.0, 0.1)
    assert RetryPolicy.no_retry().max_attempts == 1


@pytest.mark.parametrize("kw,field", [
    ({"max_attempts": 0}, "max_attempts"),
    ({"max_total_seconds": -1}, "max_total_seconds"),
    ({"initial_backoff": -0.1}, "initial_backoff"),
    ({"jitter": -1}, "jitter"),
    ({"multiplier": 0.5}, "multiplier"),
    ({"initial_backoff": 3, "max_backoff": 1}, "max_backoff"),
])
def test_policy_refuses_bad_values(kw: dict[str, float], field: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        RetryPolicy(**kw)  # type: ignore[arg-type]
    assert err.value.context["field"] == field
    assert field in str(err.value)


def test_policy_is_frozen() -> None:
    with pytest.raises(AttributeError):
        RetryPolicy().max_attempts = 9  # type: ignore[misc]


def test_backoff_grows_exponentially_and_is_capped() -> None:
    p = RetryPolicy(initial_backoff=0.5, multiplier=3.0, max_backoff=4.0, jitter=0.0)
    assert [p.backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.5, 4.0, 4.0]


def test_jitter_stays_within_bounds() -> None:
    p = RetryPolicy(initial_backoff=0.2, multiplier=2.0, max_backoff=5.0, jitter=0.3)
    rng = random.Random(1234)
    for n in (1, 2, 3):
        base = 0.2 * 2 ** (n - 1)
        draws = [p.backoff(n, rng) for _ in range(500)]
        assert all(base <= d <= base + 0.3 for d in draws)
        assert max(draws) - min(draws) > 0.2  # the jitter really varies
    assert all(p.backoff(10, rng) == 5.0 for _ in range(50))  # cap includes the jitter


def test_policy_from_settings() -> None:
    from adapters.core.settings import load_settings

    p = RetryPolicy.from_settings(load_settings(retry_max_attempts=6, retry_max_total_seconds=12.5))
    assert (p.max_attempts, p.max_total_seconds) == (6, 12.5)


# ---------------------------------------------------------------------------- norms


def test_default_timeouts_follow_the_regulation() -> None:
    assert default_timeout("legal_entities", "lookup") == 90.0
    assert default_timeout("payment_gateway", "payment") == 90.0
    assert default_timeout("elicense", "sign") == 15.0
    assert default_timeout("auth", "refusal") == 10.0
    assert default_timeout("auth", "portal_refusal") == 20.0
    assert default_timeout("somewhere", "else") == FALLBACK_TIMEOUT == 15.0
    assert step_norm(2, 4).max_seconds == 90.0
    with pytest.raises(KeyError, match="diagram 1 step 99"):
        step_norm(1, 99)


def test_context_gets_the_norm_as_timeout(ft: FakeTime) -> None:
    fn = Script()
    caller(ft).call(ctx(), fn)
    assert fn.seen == [(1, ctx().message_id, 90.0)]
    fn2 = Script()
    caller(ft).call(ctx(timeout=3.0), fn2)
    assert fn2.seen[0][2] == 3.0


def test_context_validates() -> None:
    with pytest.raises(ValidationError, match="message_id: required"):
        ctx(message_id="")
    with pytest.raises(ValidationError, match="timeout"):
        ctx(timeout=0)


# ---------------------------------------------------------------------------- retries


def test_retryable_errors_are_retried_with_the_same_message_id(ft: FakeTime) -> None:
    fn = Script(TransportError("connection reset"), HttpStatusError(503, "unavailable"))
    assert caller(ft).call(ctx(), fn) == "answer"
    assert [s[0] for s in fn.seen] == [1, 2, 3]
    assert {s[1] for s in fn.seen} == {ctx().message_id}
    assert ft.sleeps == [0.2, 0.4]


def test_final_error_is_raised_unchanged_at_once(ft: FakeTime) -> None:
    refusal = NotFoundError("BIN 940140000385 not in the Legal Entities database")
    fn = Script(refusal)
    with pytest.raises(NotFoundError) as err:
        caller(ft).call(ctx(), fn)
    assert err.value is refusal
    assert len(fn.seen) == 1 and ft.sleeps == []


def test_http_4xx_and_non_retryable_fault_are_not_retried(ft: FakeTime) -> None:
    for exc in (HttpStatusError(400, "bad request"), SoapFaultError("SCE001", "bad signature")):
        fn = Script(exc)
        with pytest.raises(type(exc)):
            caller(ft).call(ctx(), fn)
        assert len(fn.seen) == 1


def test_non_idempotent_call_is_not_retried_after_a_delivered_failure(ft: FakeTime) -> None:
    fn = Script(TransportError("read timed out after 90 s"))
    with pytest.raises(TransportError, match="read timed out"):
        caller(ft).call(ctx(idempotent=False), fn)
    assert len(fn.seen) == 1


def test_non_idempotent_call_is_retried_when_not_delivered(ft: FakeTime) -> None:
    fn = Script(TransportError("connection refused", not_delivered=True),
                TransportError("connection refused", delivered=False),
                TransportError("refused: http://127.0.0.1:1/", kind="refused"),
                TransportError("connect-timeout: http://10.255.255.1/", kind="connect-timeout"))
    assert caller(ft, RetryPolicy(max_attempts=5, jitter=0.0)).call(ctx(idempotent=False), fn) == "answer"
    assert len(fn.seen) == 5


def test_non_idempotent_call_is_not_retried_after_a_reset(ft: FakeTime) -> None:
    fn = Script(TransportError("reset: http://127.0.0.1:1/", kind="reset"))
    with pytest.raises(TransportError):
        caller(ft).call(ctx(idempotent=False), fn)
    assert len(fn.seen) == 1


def test_attempt_cap_raises_retries_exhausted_from_the_last_error(ft: FakeTime) -> None:
    errors = [TransportError(f"reset {i}") for i in range(10)]
    fn = Script(*errors)
    with pytest.raises(RetriesExhaustedError) as err:
        caller(ft, RetryPolicy(max_attempts=3, jitter=0.0)).call(ctx(), fn)
    assert err.value.attempts == 3
    assert err.value.last is errors[2]
    assert err.value.__cause__ is errors[2]
    assert "gave up after 3 attempt(s): reset 2" in str(err.value)
    assert len(fn.seen) == 3


def test_total_time_cap_stops_before_a_sleep_would_cross_it(ft: FakeTime) -> None:
    policy = RetryPolicy(max_attempts=50, max_total_seconds=5.0, initial_backoff=1.0, max_backoff=8.0,
                         jitter=0.0)
    fn = Script(*[TransportError("reset") for _ in range(50)])
    with pytest.raises(RetriesExhaustedError) as err:
        caller(ft, policy).call(ctx(), fn)
    # attempts at t=0, 1, 3; the next wait (4 s) would end at 7 s > 5 s
    assert ft.sleeps == [1.0, 2.0]
    assert err.value.attempts == 3
    assert ft.elapsed <= 5.0


def test_total_time_cap_counts_slow_attempts(ft: FakeTime) -> None:
    policy = RetryPolicy(max_attempts=10, max_total_seconds=20.0, initial_backoff=1.0, jitter=0.0)
    fn = Script(*[TransportError("read timeout") for _ in range(10)], cost=9.0, clock=ft.clock)
    with pytest.raises(RetriesExhaustedError) as err:
        caller(ft, policy).call(ctx(), fn)
    # 9 s attempt, 1 s wait, 9 s attempt (t=19); 19 + 2 > 20: stop
    assert err.value.attempts == 2


def test_no_retry_policy_makes_one_attempt(ft: FakeTime) -> None:
    fn = Script(TransportError("reset"))
    with pytest.raises(RetriesExhaustedError) as err:
        caller(ft, RetryPolicy.no_retry()).call(ctx(), fn)
    assert err.value.attempts == 1 and ft.sleeps == []


def test_unexpected_exception_is_reraised_without_retry(ft: FakeTime) -> None:
    fn = Script(KeyError("bug"))
    with pytest.raises(KeyError):
        caller(ft).call(ctx(), fn)
    assert len(fn.seen) == 1


# ---------------------------------------------------------------------------- circuit breaker


def test_breaker_opens_after_threshold_and_refuses(ft: FakeTime) -> None:
    b = CircuitBreaker("legal_entities:GBDUL_INFO", failure_threshold=3, reset_timeout=30, clock=ft.clock)
    for _ in range(2):
        b.before_call()
        b.record_failure()
    assert b.state == "closed"
    b.before_call()
    b.record_failure()
    assert b.state == "open"
    with pytest.raises(CircuitOpenError) as err:
        b.before_call()
    msg = str(err.value)
    assert "legal_entities:GBDUL_INFO" in msg and "3 consecutive" in msg
    assert "2024-03-01T09:00:30+00:00" in msg and "in 30.0 s" in msg
    assert err.value.retryable is False


def test_success_resets_the_failure_count(ft: FakeTime) -> None:
    b = CircuitBreaker("t", failure_threshold=2, clock=ft.clock)
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state == "closed" and b.consecutive_failures == 1


def test_half_open_probe_success_closes(ft: FakeTime) -> None:
    b = CircuitBreaker("t", failure_threshold=1, reset_timeout=10, clock=ft.clock)
    b.record_failure()
    ft.clock.advance(dt.timedelta(seconds=10))
    assert b.state == "half-open"
    b.before_call()  # the one probe
    with pytest.raises(CircuitOpenError, match="probe call is in flight"):
        b.before_call()
    b.record_success()
    assert b.state == "closed"
    b.before_call()


def test_half_open_probe_failure_opens_again(ft: FakeTime) -> None:
    b = CircuitBreaker("t", failure_threshold=1, reset_timeout=10, clock=ft.clock)
    b.record_failure()
    ft.clock.advance(dt.timedelta(seconds=11))
    b.before_call()
    b.record_failure()
    assert b.state == "open"
    ft.clock.advance(dt.timedelta(seconds=9))
    with pytest.raises(CircuitOpenError):
        b.before_call()
    ft.clock.advance(dt.timedelta(seconds=1))
    assert b.state == "half-open"


def test_stale_probe_is_forgotten(ft: FakeTime) -> None:
    b = CircuitBreaker("t", failure_threshold=1, reset_timeout=10, clock=ft.clock)
    b.record_failure()
    ft.clock.advance(dt.timedelta(seconds=10))
    b.before_call()  # probe that never reports
    ft.clock.advance(dt.timedelta(seconds=10))
    b.before_call()  # a new probe is allowed


def test_breaker_validates() -> None:
    with pytest.raises(ConfigurationError, match="failure_threshold"):
        CircuitBreaker("t", failure_threshold=0)
    with pytest.raises(ConfigurationError, match="reset_timeout"):
        CircuitBreakerRegistry(reset_timeout=-1)


def test_breaker_is_thread_safe(ft: FakeTime) -> None:
    b = CircuitBreaker("t", failure_threshold=10_000, clock=ft.clock)

    def hammer() -> None:
        for _ in range(1000):
            b.record_failure()

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.consecutive_failures == 4000


def test_registry_gives_one_breaker_per_target(ft: FakeTime) -> None:
    reg = CircuitBreakerRegistry(failure_threshold=1, clock=ft.clock)
    assert reg.get("a:x") is reg.get("a:x")
    reg.get("a:x").record_failure()
    reg.get("b:y")
    assert reg.states() == {"a:x": "open", "b:y": "closed"}


def test_caller_opens_circuit_and_business_refusals_do_not_count(ft: FakeTime) -> None:
    reg = CircuitBreakerRegistry(failure_threshold=2, reset_timeout=60, clock=ft.clock)
    c = caller(ft, RetryPolicy.no_retry(), breakers=reg)
    for _ in range(3):
        with pytest.raises(NotFoundError):
            c.call(ctx(), Script(NotFoundError("absent")))
    assert reg.states() == {"legal_entities:GBDUL_INFO": "closed"}
    for _ in range(2):
        with pytest.raises(RetriesExhaustedError):
            c.call(ctx(), Script(HttpStatusError(502, "bad gateway")))
    assert reg.get("legal_entities:GBDUL_INFO").state == "open"
    never = Script()
    with pytest.raises(CircuitOpenError, match="legal_entities:GBDUL_INFO"):
        c.call(ctx(), never)
    assert never.seen == []
    ft.clock.advance(dt.timedelta(seconds=60))
    assert c.call(ctx(), Script()) == "answer"  # the probe succeeds
    assert reg.get("legal_entities:GBDUL_INFO").state == "closed"


def test_open_circuit_interrupts_retries(ft: FakeTime) -> None:
    reg = CircuitBreakerRegistry(failure_threshold=2, reset_timeout=60, clock=ft.clock)
    fn = Script(*[TransportError("reset") for _ in range(5)])
    with pytest.raises(CircuitOpenError):
        caller(ft, RetryPolicy(max_attempts=5, jitter=0.0), breakers=reg).call(ctx(), fn)
    assert len(fn.seen) == 2


# ---------------------------------------------------------------------------- polling


def test_poll_until_returns_first_value_with_backoff(ft: FakeTime) -> None:
    answers: list[str | None] = [None, None, None, "RESPONSE"]
    result = poll_until(lambda: answers.pop(0), deadline=60, initial=0.5, max_interval=1.5,
                        sleep=ft.sleep, clock=ft.clock)
    assert result == "RESPONSE"
    assert ft.sleeps == [0.5, 1.0, 1.5]


def test_poll_until_deadline_names_wait_and_polls(ft: FakeTime) -> None:
    with pytest.raises(DeadlineExceededError) as err:
        poll_until(lambda: None, deadline=10, initial=1, max_interval=4, sleep=ft.sleep, clock=ft.clock,
                   service="GBDUL_ASYNC")
    # polls at 0, 1, 3, 7, 10 (last sleep shortened to the deadline)
    assert ft.sleeps == [1, 2, 4, 3]
    assert err.value.context["polls"] == 5
    assert "waited 10.0 s over 5 poll(s)" in str(err.value)
    assert "GBDUL_ASYNC" in str(err.value)


def test_poll_until_tolerates_retryable_errors_only(ft: FakeTime) -> None:
    seq: list[object] = [TransportError("reset"), None, "ok"]

    def fn() -> str | None:
        item = seq.pop(0)
        if isinstance(item, Exception):
            raise item
        return item  # type: ignore[return-value]

    assert poll_until(fn, deadline=30, sleep=ft.sleep, clock=ft.clock) == "ok"

    def refused() -> str | None:
        raise SoapFaultError("SCE003", "unknown message")

    with pytest.raises(SoapFaultError):
        poll_until(refused, deadline=30, sleep=ft.sleep, clock=ft.clock)


def test_poll_until_deadline_is_chained_to_last_error(ft: FakeTime) -> None:
    def down() -> None:
        raise TransportError("connection refused")

    with pytest.raises(DeadlineExceededError) as err:
        poll_until(down, deadline=2, initial=1, sleep=ft.sleep, clock=ft.clock)
    assert isinstance(err.value.__cause__, TransportError)
