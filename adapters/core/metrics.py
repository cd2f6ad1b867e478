"""Prometheus metrics of the exchanges (prometheus_client), in a registry of their own.

One label scheme for every exchange metric (``docs/service.md``, "Metrics"):

- ``system``: the external system called (``egov_gateway``, ``legal_entities``, ``payment_gateway``,
  ``elicense``; a simulator's own metrics use the same names);
- ``operation``: the SOAP operation name as the WSDL spells it (``SendMessage``,
  ``CreatePaymentOrder``, ``Authorize``...);
- ``outcome``: what became of an attempt, the journal's outcomes: ``ok``, ``refused`` (a business
  answer the procedure expects, e.g. E-licensing's ``ELC101`` on a first registration check: not a
  failure), ``retry``, ``failed``, ``circuit-open``, ``error``.

Every attempt on the wire counts once in ``egov_call_attempts_total`` and once in
``egov_call_latency_seconds``; ``egov_retries_total`` and ``egov_retries_exhausted_total`` count the
retry decisions; ``egov_call_failures_total`` counts the attempts with a failing outcome (what an
alert pages on: a green run shows none); ``egov_circuit_state{system, service}`` shows each breaker
(0 closed, 1 half-open, 2 open; ``service`` is the breaker's scope: the gateway's serviceId, an
E-licensing operation, the payment gateway's endpoint) and ``egov_async_pending{system}`` the async
messages still awaited.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server

from adapters.core.attempts import FAILED_OUTCOMES, OUTCOMES

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from adapters.core.resilience.circuit import CircuitBreaker

__all__ = ["CALL_LABELS", "CIRCUIT_STATE_VALUES", "CONTENT_TYPE", "FAILED_OUTCOMES", "LATENCY_BUCKETS", "OUTCOMES",
           "Metrics", "split_target"]

#: seconds; the regulation's norms go up to 90 s per step
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0, 90.0, 120.0)
CIRCUIT_STATE_VALUES = {"closed": 0, "half-open": 1, "open": 2}
CALL_LABELS = ("system", "operation")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def split_target(target: str) -> tuple[str, str]:
    """A circuit breaker's target ``"system:service"`` as its two labels."""
    system, _, service = target.partition(":")
    return system, service or system


class Metrics:
    """The exchange metrics. Each instance has its own registry unless one is given."""

    def __init__(self, registry: CollectorRegistry | None = None, namespace: str = "egov") -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r, ns = self.registry, namespace
        self.attempts = Counter("call_attempts", "Attempts of calls to external systems, by outcome",
                                [*CALL_LABELS, "outcome"], namespace=ns, registry=r)
        self.failures = Counter("call_failures", "Attempts whose outcome is a failure (failed, circuit-open, "
                                "error); expected business answers are not counted",
                                CALL_LABELS, namespace=ns, registry=r)
        self.latency = Histogram("call_latency_seconds", "Latency of each attempt on the wire",
                                 CALL_LABELS, namespace=ns, registry=r, buckets=LATENCY_BUCKETS)
        self.retries = Counter("retries", "Attempts followed by a retry", CALL_LABELS,
                               namespace=ns, registry=r)
        self.retries_exhausted = Counter("retries_exhausted", "Calls that used up their retries",
                                         CALL_LABELS, namespace=ns, registry=r)
        self.circuit_state = Gauge("circuit_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open",
                                   ["system", "service"], namespace=ns, registry=r)
        self._lock = threading.Lock()
        self._tracked: set[str] = set()
        self.async_pending = Gauge("async_pending", "Async messages sent and not yet answered",
                                   ["system"], namespace=ns, registry=r)

    # ------------------------------------------------------------------ used by the caller

    def observe_attempt(self, system: str, operation: str, outcome: str, latency_seconds: float | None) -> None:
        """One attempt: count it by outcome (and as a failure when it is one) and, when it reached
        the wire, record its latency."""
        self.attempts.labels(system, operation, outcome).inc()
        if outcome in FAILED_OUTCOMES:
            self.failures.labels(system, operation).inc()
        else:
            self.failures.labels(system, operation)  # the series exists at 0: "no failures" is visible
        if latency_seconds is not None:
            self.latency.labels(system, operation).observe(max(0.0, latency_seconds))

    def count_retry(self, system: str, operation: str) -> None:
        self.retries.labels(system, operation).inc()

    def count_exhausted(self, system: str, operation: str) -> None:
        self.retries_exhausted.labels(system, operation).inc()

    def set_circuit_state(self, target: str, state: str) -> None:
        """Set a target's state by hand (for breakers not registered with :meth:`track_breaker`)."""
        self.circuit_state.labels(*split_target(target)).set(CIRCUIT_STATE_VALUES[state])

    def track_breaker(self, breaker: CircuitBreaker) -> None:
        """Read ``breaker.state`` at every scrape, so an open circuit turning half-open shows
        without waiting for the next call. Idempotent."""
        with self._lock:
            if breaker.target in self._tracked:
                return
            self._tracked.add(breaker.target)
        self.circuit_state.labels(*split_target(breaker.target)).set_function(
            lambda: CIRCUIT_STATE_VALUES[breaker.state])

    def set_async_pending(self, system: str, count: int) -> None:
        self.async_pending.labels(system).set(count)

    def async_started(self, system: str) -> None:
        self.async_pending.labels(system).inc()

    def async_finished(self, system: str) -> None:
        self.async_pending.labels(system).dec()

    # ------------------------------------------------------------------ reading and exposing

    def value(self, name: str, **labels: str) -> float | None:
        """A sample's current value by its full name (e.g. ``egov_call_attempts_total``), for tests and CLI."""
        return self.registry.get_sample_value(name, labels)

    def render(self) -> bytes:
        """Prometheus text exposition of this registry."""
        return generate_latest(self.registry)

    def serve(self, port: int = 0, addr: str = "127.0.0.1") -> tuple[WSGIServer, int]:
        """Serve ``/metrics`` on a background thread; returns the server (``shutdown()`` to stop)
        and the port actually bound."""
        server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        return server, int(server.server_address[1])
