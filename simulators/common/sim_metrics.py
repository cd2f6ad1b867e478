"""A simulator's own Prometheus metrics, served at ``GET /metrics`` (prometheus_client exposition).

The labels follow the adapters' scheme (``adapters.core.metrics``): ``system`` (the simulator's
system: ``egov_gateway``, ``payment_gateway``, ``elicense``, ``pki``), ``operation`` (the SOAP
operation, read from the ``SOAPAction`` header; for other routes the path's first segment, e.g.
``ocsp``, ``crl``, ``_control``) and ``outcome``:

- ``ok``: a 1xx-3xx answer;
- ``fault``: a SOAP Fault (the answer a client's refusal or error mapping reads);
- ``http-error``: any other 4xx/5xx (maintenance, an injected ``http_status``, no route...);
- ``wire-fault``: the exchange was broken on the wire on purpose (reset, truncated, drip...).

``egov_sim_requests_total{system, operation, outcome}`` counts the requests and
``egov_sim_request_seconds{system, operation}`` the time the handler took (an injected latency
included, a drip's trickle not: the runner plays it after the handler returned).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from adapters.core.metrics import CONTENT_TYPE, LATENCY_BUCKETS
from simulators.common.messages import Request, Response
from simulators.common.wire_fault import WireFault

Handler = Callable[[Request], Response | WireFault]

__all__ = ["METRICS_PATH", "SimMetrics", "operation_of"]

METRICS_PATH = "/metrics"


def operation_of(request: Request) -> str:
    """The SOAP operation of a request (its ``SOAPAction``'s last segment), else its path's first segment."""
    action = (request.headers.get("SOAPAction") or request.headers.get("soapaction") or "").strip().strip('"')
    if action:
        return re.split(r"[/#:]", action.rstrip("/"))[-1] or action  # urn:pshep:X, http://ns/X, ns#X
    first = request.path.strip("/").split("/", 1)[0]
    return first or "/"


def outcome_of(answer: Response | WireFault) -> str:
    if isinstance(answer, WireFault):
        return "wire-fault"
    if answer.status < 400:
        return "ok"
    content_type = answer.headers.get("Content-Type", "")
    if "xml" in content_type and b"Fault" in answer.body[:4096]:
        return "fault"
    return "http-error"


class SimMetrics:
    """Requests of one simulator, in a registry of its own (several simulators share a process)."""

    def __init__(self, system: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.system = system
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self.requests = Counter("sim_requests", "Requests a simulator answered, by outcome",
                                ["system", "operation", "outcome"], namespace="egov", registry=self.registry)
        self.seconds = Histogram("sim_request_seconds", "Time a simulator's handler took",
                                 ["system", "operation"], namespace="egov", registry=self.registry,
                                 buckets=LATENCY_BUCKETS)
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}
        """(operation, outcome) -> the labelled counter and histogram: ``labels()`` validates and
        locks on every call, a measurable share of a small request's CPU."""
        self._lock = threading.Lock()

    def _series(self, operation: str, outcome: str) -> tuple[Any, Any]:
        key = (operation, outcome)
        series = self._children.get(key)
        if series is None:
            with self._lock:
                series = self._children[key] = (self.requests.labels(self.system, operation, outcome),
                                                 self.seconds.labels(self.system, operation))
        return series

    def observe(self, request: Request, answer: Response | WireFault, seconds: float) -> None:
        counter, histogram = self._series(operation_of(request), outcome_of(answer))
        counter.inc()
        histogram.observe(max(0.0, seconds))

    def timed(self, run: Callable[[Handler, Request], Response | WireFault], handler: Handler,
              request: Request) -> Response | WireFault:
        """``run(handler, request)``, counted (the metrics route itself is not)."""
        if request.path == METRICS_PATH:
            return run(handler, request)
        started = self._clock()
        answer = run(handler, request)
        self.observe(request, answer, self._clock() - started)
        return answer

    def exposition(self, _request: Request) -> Response:
        """The ``GET /metrics`` handler."""
        return Response(200, generate_latest(self.registry), {"Content-Type": CONTENT_TYPE})
