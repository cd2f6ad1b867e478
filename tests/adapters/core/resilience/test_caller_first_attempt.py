"""The resilient caller makes the first attempt without tenacity and hands a retryable failure
to the policy's tenacity controller as that controller's first attempt."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapters.core.clock import FrozenClock
from adapters.core.errors import BusinessError, RetriesExhaustedError, TransportError
from adapters.core.resilience import Attempt, CallContext, ResilientCaller, RetryPolicy

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)


class _Journal:
    def __init__(self) -> None:
        self.rows: list[Any] = []

    def record(self, row: Any) -> None:
        self.rows.append(row)


class _Setup:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, policy: RetryPolicy) -> None:
        self.clock = FrozenClock(T0)
        self.sleeps: list[float] = []
        self.journal = _Journal()
        self.controllers = 0
        original = RetryPolicy.retrying

        def counting(policy_self: RetryPolicy, **kw: Any) -> Any:
            self.controllers += 1
            return original(policy_self, **kw)

        monkeypatch.setattr(RetryPolicy, "retrying", counting)
        self.caller = ResilientCaller(policy, journal=self.journal, sleep=self.sleep,  # type: ignore[arg-type]
                                      clock=self.clock)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(dt.timedelta(seconds=seconds))

    def outcomes(self) -> list[tuple[int, str, bool]]:
        return [(r.attempt, r.outcome, r.exhausted) for r in self.journal.rows]


CTX = CallContext(system="egov_gateway", service="svc", operation="SendMessage", message_id="m-1")


def _script(*errors: BaseException, cost: float = 0.0, clock: FrozenClock | None = None) -> Any:
    pending = list(errors)
    seen: list[int] = []

    def fn(attempt: Attempt) -> str:
        seen.append(attempt.number)
        if clock is not None:
            clock.advance(dt.timedelta(seconds=cost))
        if pending:
            raise pending.pop(0)
        return "answer"

    fn.seen = seen  # type: ignore[attr-defined]
    return fn


def test_a_first_attempt_that_succeeds_needs_no_tenacity(monkeypatch: pytest.MonkeyPatch) -> None:
    s = _Setup(monkeypatch, RetryPolicy(jitter=0.0))
    fn = _script()
    assert s.caller.call(CTX, fn) == "answer"
    assert fn.seen == [1] and s.controllers == 0 and s.sleeps == []
    assert s.outcomes() == [(1, "ok", False)]


def test_a_final_first_failure_is_raised_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    s = _Setup(monkeypatch, RetryPolicy(jitter=0.0))
    refusal = BusinessError("refused")
    with pytest.raises(BusinessError) as err:
        s.caller.call(CTX, _script(refusal))
    assert err.value is refusal and s.controllers == 0
    assert s.outcomes() == [(1, "refused", False)]  # a business answer, not a failure


def test_a_retryable_first_failure_is_tenacity_s_first_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    s = _Setup(monkeypatch, RetryPolicy(max_attempts=5, initial_backoff=1.0, jitter=0.0))
    fn = _script(TransportError("reset 1"), TransportError("reset 2"))
    assert s.caller.call(CTX, fn) == "answer"
    # the back-off starts at the first wait, as when tenacity made attempt 1 itself
    assert fn.seen == [1, 2, 3] and s.sleeps == [1.0, 2.0] and s.controllers == 1
    assert s.outcomes() == [(1, "retry", False), (2, "retry", False), (3, "ok", False)]


def test_attempts_count_and_time_from_before_the_first_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    s = _Setup(monkeypatch, RetryPolicy(max_attempts=3, max_total_seconds=10.0, initial_backoff=1.0, jitter=0.0))
    errors = [TransportError(f"timeout {i}") for i in range(3)]
    fn = _script(*errors, cost=6.0, clock=s.clock)
    with pytest.raises(RetriesExhaustedError) as err:
        s.caller.call(CTX, fn)
    # 6 s first attempt, 1 s wait, 6 s attempt (t=13 > 10 with the next wait): stop after 2
    assert err.value.attempts == 2 and err.value.last is errors[1]
    assert s.outcomes() == [(1, "retry", False), (2, "failed", True)]


def test_max_attempts_one_still_gives_up_with_retries_exhausted(monkeypatch: pytest.MonkeyPatch) -> None:
    s = _Setup(monkeypatch, RetryPolicy.no_retry())
    error = TransportError("reset")
    with pytest.raises(RetriesExhaustedError) as err:
        s.caller.call(CTX, _script(error))
    assert err.value.attempts == 1 and err.value.__cause__ is error
    assert s.outcomes() == [(1, "failed", True)]
