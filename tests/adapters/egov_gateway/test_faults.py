"""Every injected fault over real HTTP: retryable ones are retried with the same messageId and the
backend sees the message once; final ones fail at once with their typed error; the simulator's
request journal, the adapter's exchange journal and the metrics show each attempt."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters.core.clock import FrozenClock
from adapters.core.errors import CircuitOpenError, HttpStatusError, RetriesExhaustedError, TransportError
from adapters.core.journal import ExchangeJournal
from adapters.core.metrics import Metrics
from adapters.core.resilience import CircuitBreakerRegistry, ResilientCaller, RetryPolicy
from adapters.core.soap import ResponseRefusedError
from adapters.egov_gateway import GatewayFaultError, StatusCodeError
from tests.fixtures.gateway import ECHO_SERVICE, GatewayEnv


def payload() -> etree._Element:
    el = etree.Element("{urn:test:payload}query")
    el.text = "ping"
    return el


@dataclass
class Resilient:
    caller: ResilientCaller
    journal: ExchangeJournal
    metrics: Metrics


@pytest.fixture
def resilient(tmp_path: Path) -> Iterator[Resilient]:
    journal = ExchangeJournal.open(f"sqlite:///{tmp_path / 'journal.db'}")
    metrics = Metrics()
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.0, max_backoff=0.0, jitter=0.0)
    caller = ResilientCaller(policy, CircuitBreakerRegistry(failure_threshold=50), journal=journal,
                             metrics=metrics, sleep=lambda s: None)
    try:
        yield Resilient(caller, journal, metrics)
    finally:
        journal.close()


def _wait_journal(env: GatewayEnv, message_id: str, n: int) -> list[Any]:
    """The simulator journals an exchange when it ends; a timed-out one may end a little later."""
    deadline = time.monotonic() + 10
    while True:
        entries = env.journal.entries(message_id=message_id)
        if len(entries) >= n or time.monotonic() > deadline:
            return entries
        time.sleep(0.02)


# (kind, extra spec fields, expected transport kind / error type of the failed attempt)
RETRYABLE = [
    pytest.param("http_status", {"http_status": 500}, id="http-500"),
    pytest.param("http_status", {"http_status": 503}, id="http-503"),
    pytest.param("soap_fault", {"code": "SCE909"}, id="soap-fault-SCE909"),
    pytest.param("status_code", {"code": "SCE009"}, id="status-SCE009"),
    pytest.param("status_code", {"code": "SCE010"}, id="status-SCE010"),
    pytest.param("reset", {}, id="reset"),
    pytest.param("empty", {}, id="empty"),
    pytest.param("empty_body", {}, id="empty-body"),
    pytest.param("garbage", {}, id="garbage"),
    pytest.param("truncated", {}, id="truncated"),
    pytest.param("malformed_xml", {}, id="malformed-xml"),
    pytest.param("reset", {"when": "after"}, id="reset-after-processing"),
    pytest.param("truncated", {"when": "after"}, id="truncated-after-processing"),
    pytest.param("garbage", {"when": "after"}, id="garbage-after-processing"),
    pytest.param("invalid_signature", {}, id="invalid-signature"),
    pytest.param("missing_signature", {}, id="missing-signature"),
    pytest.param("expired_timestamp", {}, id="expired-timestamp"),
]


@pytest.mark.parametrize(("kind", "extra"), RETRYABLE)
def test_retryable_fault_is_retried_with_same_message_id(gateway_env: GatewayEnv, resilient: Resilient,
                                                         kind: str, extra: dict[str, Any]) -> None:
    gateway_env.faults.fail_times(kind, 1, service=ECHO_SERVICE, **extra)
    client = gateway_env.client(caller=resilient.caller)
    mid = str(uuid.uuid4())
    resp = client.send_message(ECHO_SERVICE, payload(), message_id=mid)

    assert resp.status.code == "SCSS001"
    assert resp.attempts == 2
    # the backend processed the message exactly once, even when the first answer was lost after it
    assert gateway_env.echo.count(mid) == 1
    entries = _wait_journal(gateway_env, mid, 2)
    assert [e.message_id for e in entries] == [mid, mid]
    assert entries[0].fault == kind and entries[0].outcome == f"injected:{kind}"
    after = extra.get("when") == "after" or kind.endswith(("signature", "timestamp"))
    assert entries[1].outcome == ("dedup" if after else "ok")
    assert sum(e.backend_called for e in entries) == 1
    rows = resilient.journal.for_message(mid)
    assert [(r.attempt, r.outcome) for r in rows] == [(1, "retry"), (2, "ok")]
    assert rows[0].request_digest and rows[0].request_digest != rows[1].request_digest  # re-signed
    labels = {"system": "egov_gateway", "operation": "SendMessage"}
    assert resilient.metrics.value("egov_call_attempts_total", **labels, outcome="retry") == 1
    assert resilient.metrics.value("egov_call_attempts_total", **labels, outcome="ok") == 1


FINAL = [
    pytest.param("soap_fault", {"code": "SCE006"}, GatewayFaultError, "SCE006", id="soap-fault-SCE006"),
    pytest.param("soap_fault", {"code": "SCE004"}, GatewayFaultError, "SCE004", id="soap-fault-SCE004"),
    pytest.param("status_code", {"code": "SCE013"}, StatusCodeError, "SCE013", id="status-SCE013"),
    pytest.param("status_code", {"code": "SCE019"}, StatusCodeError, "SCE019", id="status-SCE019"),
    pytest.param("http_status", {"http_status": 404}, HttpStatusError, "EGOV402", id="http-404"),
]


@pytest.mark.parametrize(("kind", "extra", "error", "code"), FINAL)
def test_final_fault_fails_at_once(gateway_env: GatewayEnv, resilient: Resilient, kind: str,
                                   extra: dict[str, Any], error: type[Exception], code: str) -> None:
    gateway_env.faults.add(kind, service=ECHO_SERVICE, **extra)
    client = gateway_env.client(caller=resilient.caller)
    mid = str(uuid.uuid4())
    with pytest.raises(error) as info:
        client.send_message(ECHO_SERVICE, payload(), message_id=mid)
    assert getattr(info.value, "code", None) == code
    assert not getattr(info.value, "retryable", True)
    assert len(gateway_env.journal.entries(message_id=mid)) == 1
    assert [r.outcome for r in resilient.journal.for_message(mid)] == ["failed"]
    assert gateway_env.echo.count(mid) == 0


def test_fail_n_times_then_succeed_and_exhaustion(gateway_env: GatewayEnv, resilient: Resilient) -> None:
    client = gateway_env.client(caller=resilient.caller)
    gateway_env.faults.fail_times("http_status", 2, http_status=503)
    mid = str(uuid.uuid4())
    assert client.send_message(ECHO_SERVICE, payload(), message_id=mid).attempts == 3
    assert [e.outcome for e in gateway_env.journal.entries(message_id=mid)] == [
        "injected:http_status", "injected:http_status", "ok"]

    gateway_env.faults.fail_times("reset", 3)
    mid2 = str(uuid.uuid4())
    with pytest.raises(RetriesExhaustedError) as info:
        client.send_message(ECHO_SERVICE, payload(), message_id=mid2)
    assert info.value.attempts == 3
    assert isinstance(info.value.last, TransportError)
    assert info.value.last.context["kind"] == "reset"
    assert gateway_env.echo.count(mid2) == 0
    assert len(resilient.journal.for_message(mid2)) == 3


def test_read_timeout_is_retried_and_backend_sees_message_once(gateway_env: GatewayEnv,
                                                               resilient: Resilient) -> None:
    gateway_env.faults.fail_times("latency", 1, latency_ms=800)
    client = gateway_env.client(caller=resilient.caller)
    mid = str(uuid.uuid4())
    resp = client.send_message(ECHO_SERVICE, payload(), message_id=mid, timeout=0.3)
    assert resp.attempts == 2
    entries = _wait_journal(gateway_env, mid, 2)
    assert len(entries) == 2
    assert gateway_env.echo.count(mid) == 1
    first = resilient.journal.for_message(mid)[0]  # the call's 0.3 s are the attempt's deadline
    assert first.outcome == "retry" and first.error_code == "EGOV410"


def test_slow_drip_still_delivers(gateway_env: GatewayEnv) -> None:
    gateway_env.faults.add("drip", drip_chunk=400, drip_interval_ms=10, times=1)
    resp = gateway_env.client().send_message(ECHO_SERVICE, payload())
    assert resp.status.code == "SCSS001"


def test_maintenance_mode_is_503_and_retryable(gateway_env: GatewayEnv) -> None:
    """A client built without a caller retries like the payment gateway's (default policy: 4 attempts)."""
    gateway_env.faults.maintenance(True)
    before = len(gateway_env.journal.entries())
    with pytest.raises(RetriesExhaustedError) as info:
        gateway_env.client().send_message(ECHO_SERVICE, payload())
    last = info.value.last
    assert isinstance(last, HttpStatusError) and last.status == 503 and last.retryable
    assert info.value.attempts == RetryPolicy().max_attempts == len(gateway_env.journal.entries()) - before
    gateway_env.faults.maintenance(False)
    assert gateway_env.client().send_message(ECHO_SERVICE, payload()).status.code == "SCSS001"


@pytest.mark.parametrize(("kind", "reason"), [("invalid_signature", "digest-mismatch"),
                                              ("missing_signature", "missing-signature"),
                                              ("expired_timestamp", "timestamp-expired")])
def test_adapter_refuses_badly_signed_answer(gateway_env: GatewayEnv, kind: str, reason: str) -> None:
    gateway_env.faults.add(kind)
    with pytest.raises((ResponseRefusedError, RetriesExhaustedError)) as info:
        gateway_env.client(caller=ResilientCaller(RetryPolicy.no_retry())).send_message(ECHO_SERVICE, payload())
    refused = info.value.last if isinstance(info.value, RetriesExhaustedError) else info.value
    assert isinstance(refused, ResponseRefusedError) and refused.reason.value == reason
    assert reason in str(refused)


def test_circuit_breaker_opens_and_recovers(gateway_env: GatewayEnv, tmp_path: Path) -> None:
    clock = FrozenClock(dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC))
    breakers = CircuitBreakerRegistry(failure_threshold=2, reset_timeout=30.0, clock=clock)
    caller = ResilientCaller(RetryPolicy.no_retry(), breakers, sleep=lambda s: None, clock=clock)
    client = gateway_env.client(caller=caller)
    gateway_env.faults.add("http_status", http_status=503)
    for _ in range(2):
        with pytest.raises(RetriesExhaustedError) as info:
            client.send_message(ECHO_SERVICE, payload())
        assert isinstance(info.value.last, HttpStatusError) and info.value.last.status == 503
    seen = len(gateway_env.journal.entries())
    with pytest.raises(CircuitOpenError):
        client.send_message(ECHO_SERVICE, payload())
    assert len(gateway_env.journal.entries()) == seen  # not sent while open
    gateway_env.faults.clear()
    clock.advance(dt.timedelta(seconds=31))
    assert client.send_message(ECHO_SERVICE, payload()).status.code == "SCSS001"  # half-open probe
    assert breakers.get(f"egov_gateway:{ECHO_SERVICE}").state == "closed"
    assert client.send_message(ECHO_SERVICE, payload()).status.code == "SCSS001"


def test_concurrent_duplicates_reach_backend_once(gateway_env: GatewayEnv) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client = gateway_env.client()
    mid = str(uuid.uuid4())
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: client.send_message(ECHO_SERVICE, payload(), message_id=mid),
                                range(6)))
    assert {r.message_id for r in results} == {mid}
    assert gateway_env.echo.count(mid) == 1
    outcomes = sorted(e.outcome for e in gateway_env.journal.entries(message_id=mid))
    assert outcomes == ["dedup"] * 5 + ["ok"]
