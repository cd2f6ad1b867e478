"""The service's own metrics and the ``/metrics`` exposition.

The service's HTTP requests are counted in the same registry as the adapters' exchange metrics
(:class:`adapters.core.metrics.Metrics`), so one scrape shows both: ``egov_service_requests_total``
(method, route template, status) and ``egov_service_request_seconds``.

Several worker processes: prometheus_client's multiprocess mode. When ``PROMETHEUS_MULTIPROC_DIR``
names a directory *before the process starts* (prometheus_client picks its value store at import),
every counter and histogram of every worker is written to memory-mapped files there, and
:func:`exposition` merges the files of all workers instead of reading this process's registry.
Gauges are then reported per worker (a ``pid`` label); ``egov_circuit_state`` is read at scrape
time from this process's breakers and is not in the files (each worker has its own breakers).
:func:`forget_process` removes a stopped worker's live gauges. Without the variable, the registry
of this process is exposed as is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.registry import Collector

from adapters.core.metrics import CONTENT_TYPE, Metrics

__all__ = ["CONTENT_TYPE", "MULTIPROC_ENV", "ServiceMetrics", "exposition", "forget_process", "multiprocess_dir"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 90.0, 120.0)


def multiprocess_dir() -> str | None:
    """The multiprocess directory, when multiprocess mode is on."""
    path = os.environ.get(MULTIPROC_ENV)
    return path if path and os.path.isdir(path) else None


class ServiceMetrics:
    """HTTP request metrics of the service, in the adapters' registry."""

    def __init__(self, metrics: Metrics, namespace: str = "egov") -> None:
        self.metrics = metrics
        r = metrics.registry
        self.requests = Counter("service_requests", "HTTP requests answered by the service",
                                ["method", "route", "status"], namespace=namespace, registry=r)
        self.latency = Histogram("service_request_seconds", "Time to answer an HTTP request",
                                 ["method", "route"], namespace=namespace, registry=r, buckets=REQUEST_BUCKETS)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(max(0.0, seconds))


def exposition(metrics: Metrics, *, shared: Sequence[Collector] = ()) -> bytes:
    """Prometheus text: every worker's files in multiprocess mode, else this process's registry.

    ``shared``: collectors of this process's registry whose values are the same in every process
    (read from the database at scrape time), added to the multiprocess files' sums as they are."""
    directory = multiprocess_dir()
    if directory is None:
        return metrics.render()
    registry = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    for collector in shared:
        registry.register(collector)
    return generate_latest(registry)


def forget_process(pid: int | None = None) -> None:
    """Drop a stopped worker's live gauges from the multiprocess files (no-op without the mode)."""
    if multiprocess_dir() is not None:
        prometheus_multiprocess.mark_process_dead(pid if pid is not None else os.getpid())  # type: ignore[no-untyped-call]
