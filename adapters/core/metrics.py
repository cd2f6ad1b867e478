"""Prometheus metrics of the exchanges (prometheus_client), in a registry of their own.

Every attempt on the wire counts once in ``egov_calls_total`` with its outcome (the same outcomes as
the journal: ok, retry, failed, circuit-open, error) and once in ``egov_call_latency_seconds``;
``egov_retries_total`` and ``egov_retries_exhausted_total`` count the retry decisions,
``egov_circuit_state`` shows each breaker (0 closed, 1 half-open, 2 open) and
``egov_async_pending`` the async messages still awaited.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from adapters.core.resilience.circuit import CircuitBreaker

__all__ = ["CIRCUIT_STATE_VALUES", "CONTENT_TYPE", "LATENCY_BUCKETS", "Metrics"]

#: seconds; the regulation's norms go up to 90 s per step
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0, 90.0, 120.0)
CIRCUIT_STATE_VALUES = {"closed": 0, "half-open": 1, "open": 2}
CALL_LABELS = ("system", "service", "operation")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The exchange metrics. Each instance has its own registry unless one is given."""

    def __init__(self, registry: CollectorRegistry | None = None, namespace: str = "egov") -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r, ns = self.registry, namespace
        self.calls = Counter("calls", "Attempts of calls to external systems, by outcome",
                             [*CALL_LABELS, "outcome"], namespace=ns, registry=r)
        self.latency = Histogram("call_latency_seconds", "Latency of each attempt on the wire",
                                 CALL_LABELS, namespace=ns, registry=r, buckets=LATENCY_BUCKETS)
        self.retries = Counter("retries", "Attempts followed by a retry", CALL_LABELS,
                               namespace=ns, registry=r)
        self.retries_exhausted = Counter("retries_exhausted", "Calls that used up their retries",
                                         CALL_LABELS, namespace=ns, registry=r)
        self.circuit_state = Gauge("circuit_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open",
                                   ["target"], namespace=ns, registry=r)
        self._lock = threading.Lock()
        self._tracked: set[str] = set()
        self.async_pending = Gauge("async_pending", "Async messages sent and not yet answered",
                                   ["service"], namespace=ns, registry=r)

    # ------------------------------------------------------------------ used by the caller

    def observe_attempt(self, system: str, service: str, operation: str, outcome: str,
                        latency_seconds: float | None) -> None:
        """One attempt: count it by outcome and, when it reached the wire, record its latency."""
        self.calls.labels(system, service, operation, outcome).inc()
        if latency_seconds is not None:
            self.latency.labels(system, service, operation).observe(max(0.0, latency_seconds))

    def count_retry(self, system: str, service: str, operation: str) -> None:
        self.retries.labels(system, service, operation).inc()

    def count_exhausted(self, system: str, service: str, operation: str) -> None:
        self.retries_exhausted.labels(system, service, operation).inc()

    def set_circuit_state(self, target: str, state: str) -> None:
        """Set a target's state by hand (for breakers not registered with :meth:`track_breaker`)."""
        self.circuit_state.labels(target).set(CIRCUIT_STATE_VALUES[state])

    def track_breaker(self, breaker: CircuitBreaker) -> None:
        """Read ``breaker.state`` at every scrape, so an open circuit turning half-open shows
        without waiting for the next call. Idempotent."""
        with self._lock:
            if breaker.target in self._tracked:
                return
            self._tracked.add(breaker.target)
        self.circuit_state.labels(breaker.target).set_function(
            lambda: CIRCUIT_STATE_VALUES[breaker.state])

    def set_async_pending(self, service: str, count: int) -> None:
        self.async_pending.labels(service).set(count)

    def async_started(self, service: str) -> None:
        self.async_pending.labels(service).inc()

    def async_finished(self, service: str) -> None:
        self.async_pending.labels(service).dec()

    # ------------------------------------------------------------------ reading and exposing

    def value(self, name: str, **labels: str) -> float | None:
        """A sample's current value by its full name (e.g. ``egov_calls_total``), for tests and CLI."""
        return self.registry.get_sample_value(name, labels)

    def render(self) -> bytes:
        """Prometheus text exposition of this registry."""
        return generate_latest(self.registry)

    def serve(self, port: int = 0, addr: str = "127.0.0.1") -> tuple[WSGIServer, int]:
        """Serve ``/metrics`` on a background thread; returns the server (``shutdown()`` to stop)
        and the port actually bound."""
        server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        return server, int(server.server_address[1])
