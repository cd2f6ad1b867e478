"""Prometheus metrics and JSON logs produced by the resilient caller."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re

import pytest
import requests

from adapters.core.clock import FrozenClock
from adapters.core.errors import HttpStatusError, NotFoundError, RetriesExhaustedError, TransportError
from adapters.core.logs import bind_ids, configure_logging, utc_millis
from adapters.core.metrics import CONTENT_TYPE, Metrics
from adapters.core.resilience import (
    Attempt,
    CallContext,
    CircuitBreakerRegistry,
    ResilientCaller,
    RetryPolicy,
    poll_until,
)
from simulators.common.httpserver import Response, Router, SimServer

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
LABELS = {"system": "legal_entities", "operation": "lookup"}


def _ctx(message_id: str = "msg-1", **kw: object) -> CallContext:
    return CallContext("legal_entities", "GBDUL_INFO", "lookup", message_id, **kw)  # type: ignore[arg-type]


def _fn(clock: FrozenClock, errors: list[Exception], seconds: float = 0.3):  # type: ignore[no-untyped-def]
    def fn(attempt: Attempt) -> str:
        clock.advance(dt.timedelta(seconds=seconds))
        if errors:
            raise errors.pop(0)
        return "ok"
    return fn


def test_counters_and_histogram_after_calls() -> None:
    clock = FrozenClock(T0)
    m = Metrics()
    c = ResilientCaller(RetryPolicy(max_attempts=3, jitter=0.0), CircuitBreakerRegistry(clock=clock),
                        metrics=m, clock=clock, sleep=lambda s: clock.advance(dt.timedelta(seconds=s)))
    c.call(_ctx(), _fn(clock, [TransportError("reset")]))
    with pytest.raises(RetriesExhaustedError):
        c.call(_ctx("msg-2"), _fn(clock, [HttpStatusError(503, "x") for _ in range(3)], seconds=2.0))

    assert m.value("egov_call_attempts_total", **LABELS, outcome="ok") == 1
    assert m.value("egov_call_attempts_total", **LABELS, outcome="retry") == 3
    assert m.value("egov_call_attempts_total", **LABELS, outcome="failed") == 1
    assert m.value("egov_call_failures_total", **LABELS) == 1
    assert m.value("egov_retries_total", **LABELS) == 3
    assert m.value("egov_retries_exhausted_total", **LABELS) == 1
    assert m.value("egov_call_latency_seconds_count", **LABELS) == 5
    assert m.value("egov_call_latency_seconds_sum", **LABELS) == pytest.approx(0.3 * 2 + 2.0 * 3)
    assert m.value("egov_call_latency_seconds_bucket", **LABELS, le="0.5") == 2
    assert m.value("egov_circuit_state", system="legal_entities", service="GBDUL_INFO") == 0


def test_a_business_answer_is_refused_not_a_failure() -> None:
    clock = FrozenClock(T0)
    m = Metrics()
    c = ResilientCaller(RetryPolicy(max_attempts=3, jitter=0.0), CircuitBreakerRegistry(clock=clock),
                        metrics=m, clock=clock, sleep=lambda s: None)
    with pytest.raises(NotFoundError):
        c.call(_ctx(), _fn(clock, [NotFoundError("no such account")]))
    assert m.value("egov_call_attempts_total", **LABELS, outcome="refused") == 1
    assert m.value("egov_call_attempts_total", **LABELS, outcome="failed") is None
    assert m.value("egov_call_failures_total", **LABELS) == 0
    assert m.value("egov_retries_total", **LABELS) is None


def test_circuit_state_gauge_follows_the_breaker() -> None:
    clock = FrozenClock(T0)
    m = Metrics()
    reg = CircuitBreakerRegistry(failure_threshold=1, reset_timeout=5, clock=clock)
    c = ResilientCaller(RetryPolicy.no_retry(), reg, metrics=m, clock=clock, sleep=lambda s: None)
    with pytest.raises(RetriesExhaustedError):
        c.call(_ctx(), _fn(clock, [TransportError("refused")]))
    assert m.value("egov_circuit_state", system="legal_entities", service="GBDUL_INFO") == 2
    clock.advance(dt.timedelta(seconds=5))  # no call needed: the gauge reads the breaker at scrape time
    assert m.value("egov_circuit_state", system="legal_entities", service="GBDUL_INFO") == 1
    c.call(_ctx("msg-probe"), _fn(clock, []))
    assert m.value("egov_circuit_state", system="legal_entities", service="GBDUL_INFO") == 0


def test_async_pending_gauge_during_polling() -> None:
    m = Metrics()
    seen: list[float | None] = []

    def poll() -> str | None:
        seen.append(m.value("egov_async_pending", system="egov_gateway"))
        return "answer" if len(seen) == 2 else None

    assert poll_until(poll, deadline=5, sleep=lambda s: None, metrics=m, system="egov_gateway") == "answer"
    assert seen == [1.0, 1.0]
    assert m.value("egov_async_pending", system="egov_gateway") == 0


def test_each_metrics_has_its_own_registry() -> None:
    a, b = Metrics(), Metrics()
    a.count_retry("s", "o")
    assert a.value("egov_retries_total", system="s", operation="o") == 1
    assert b.value("egov_retries_total", system="s", operation="o") is None


def test_render_and_serve_over_http() -> None:
    m = Metrics()
    m.observe_attempt("payment_gateway", "CreatePaymentOrder", "ok", 0.05)
    m.set_circuit_state("payment_gateway:PAY", "open")
    text = m.render().decode()
    assert 'egov_call_attempts_total{operation="CreatePaymentOrder",outcome="ok",system="payment_gateway"} 1.0' in text
    assert 'egov_call_failures_total{operation="CreatePaymentOrder",system="payment_gateway"} 0.0' in text
    assert 'egov_circuit_state{service="PAY",system="payment_gateway"} 2.0' in text
    server, port = m.serve(0)
    try:
        body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "egov_call_latency_seconds_bucket" in body
    finally:
        server.shutdown()
        server.server_close()


def test_metrics_route_on_a_simulator_router() -> None:
    m = Metrics()
    m.set_async_pending("egov_gateway", 3)
    router = Router()
    router.add("GET", "/metrics", lambda _request: Response(200, m.render(), {"Content-Type": CONTENT_TYPE}))
    with SimServer(router, name="metrics") as sim:
        resp = requests.get(f"{sim.url}/metrics", timeout=5)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert 'egov_async_pending{system="egov_gateway"} 3.0' in resp.text


# ---------------------------------------------------------------------------- JSON logs


@pytest.fixture
def json_log() -> io.StringIO:
    stream = io.StringIO()
    logger = logging.getLogger("egov-test-logs")
    logger.propagate = False
    configure_logging("DEBUG", json=True, stream=stream, logger=logger)
    yield stream  # type: ignore[misc]
    for h in list(logger.handlers):
        logger.removeHandler(h)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_caller_logs_json_lines_with_message_id(json_log: io.StringIO) -> None:
    clock = FrozenClock(T0)
    c = ResilientCaller(RetryPolicy(jitter=0.0), logger=logging.getLogger("egov-test-logs"), clock=clock,
                        sleep=lambda s: None)
    c.call(_ctx("msg-json", correlation_id="corr-json"), _fn(clock, [TransportError("reset")]))
    retry, ok = _lines(json_log)
    assert retry["message_id"] == ok["message_id"] == "msg-json"
    assert retry["correlation_id"] == "corr-json"
    assert (retry["attempt"], retry["outcome"], retry["error_code"], retry["level"]) == (1, "retry", "EGOV401",
                                                                                        "WARNING")
    assert (ok["attempt"], ok["outcome"], ok["level"]) == (2, "ok", "INFO")
    assert ok["latency_ms"] == 300.0
    assert "time" in ok and ok["logger"] == "egov-test-logs"


def test_bind_ids_reaches_records_of_other_modules(json_log: io.StringIO) -> None:
    child = logging.getLogger("egov-test-logs")
    with bind_ids("m-bound", "c-bound"):
        child.info("signing envelope")
        with bind_ids("m-inner"):
            child.info("inner")
    child.info("outside")
    bound, inner, outside = _lines(json_log)
    assert (bound["message_id"], bound["correlation_id"], bound["message"]) == ("m-bound", "c-bound",
                                                                              "signing envelope")
    assert inner["message_id"] == "m-inner"
    assert outside["message_id"] is None


def test_a_call_inside_a_flow_carries_the_flows_ids(json_log: io.StringIO) -> None:
    clock = FrozenClock(T0)
    c = ResilientCaller(RetryPolicy.no_retry(), logger=logging.getLogger("egov-test-logs"), clock=clock)
    with bind_ids(correlation_id="flow-7", flow_id="flow-7"):
        c.call(_ctx("msg-own"), _fn(clock, []))  # the call has no correlation id of its own
        c.call(_ctx("msg-corr", correlation_id="given"), _fn(clock, []))
    own, given = _lines(json_log)
    assert (own["flow_id"], own["correlation_id"], own["message_id"]) == ("flow-7", "flow-7", "msg-own")
    assert (given["flow_id"], given["correlation_id"]) == ("flow-7", "given")


def test_json_lines_have_millisecond_utc_times(json_log: io.StringIO) -> None:
    logging.getLogger("egov-test-logs").info("tick")
    (line,) = _lines(json_log)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(line["time"]))
    assert line["flow_id"] is None and line["correlation_id"] is None
    assert utc_millis(0.25) == "1970-01-01T00:00:00.250Z"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_readable_lines_on_a_terminal_json_elsewhere_unless_told() -> None:
    logger = logging.getLogger("egov-test-auto")
    logger.propagate = False
    try:
        tty, pipe, forced = _Tty(), io.StringIO(), _Tty()
        for stream, json_choice in ((tty, None), (pipe, None), (forced, True)):
            configure_logging("INFO", json=json_choice, stream=stream, logger=logger)
            with bind_ids("m-1", "c-1", flow_id="f-1"):
                logger.info("hello")
        line = tty.getvalue().strip()
        assert re.fullmatch(r"\S+Z INFO    egov-test-auto: hello \[flow=f-1 corr=c-1 msg=m-1\]", line), line
        assert json.loads(pipe.getvalue())["flow_id"] == "f-1"
        assert json.loads(forced.getvalue())["message"] == "hello"
    finally:
        for h in list(logger.handlers):
            logger.removeHandler(h)


def test_configure_logging_replaces_its_own_handler_and_plain_text() -> None:
    logger = logging.getLogger("egov-test-plain")
    logger.propagate = False
    stream = io.StringIO()
    configure_logging("INFO", json=True, stream=io.StringIO(), logger=logger)
    configure_logging("INFO", json=False, stream=stream, logger=logger)
    assert len(logger.handlers) == 1
    with bind_ids("m-plain"):
        logger.info("hello")
    assert "hello [msg=m-plain]" in stream.getvalue()
    logger.removeHandler(logger.handlers[0])
