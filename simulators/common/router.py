"""Which handler answers a request: a (method, path prefix) table, and the one dispatch every
runner uses.

A router built with a ``system`` name counts every request in its own Prometheus metrics and
serves them at ``GET /metrics`` (:mod:`simulators.common.sim_metrics`).

Routes at or under ``/_control`` are a simulator's control API: the router puts its
:class:`~simulators.common.control_guard.ControlGuard` in front of each of them when they are
added, so that every runner (socket, ASGI, in-process) guards them the same way. A router built
without a guard refuses to take a control route. ``GET /_control/`` (behind the same guard) is the
index of a simulator's control API: every control route, method and path, as JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from adapters.core.errors import ConfigurationError
from simulators.common.control_guard import ControlGuard, is_control_path
from simulators.common.messages import Request, Response
from simulators.common.sim_metrics import METRICS_PATH, SimMetrics
from simulators.common.wire_fault import WireFault

log = logging.getLogger(__name__)

Handler = Callable[[Request], Response | WireFault]
"""A pure handler: a request in, an answer (or a deliberate wire failure) out; no socket in sight."""


def _guarded(guard: ControlGuard, handler: Handler) -> Handler:
    def guarded(request: Request) -> Response | WireFault:
        refused = guard.refusal(request)
        return refused if refused is not None else handler(request)
    return guarded


class Router:
    """Maps (method, path prefix) to handlers; the longest matching prefix wins.

    ``control``: the guard of the control routes (``/_control...``); without one, adding a control
    route raises :class:`ConfigurationError`. ``system``: the simulated system's name in the
    metrics (``egov_gateway``...); None: no metrics and no ``/metrics`` route.
    """

    def __init__(self, *, control: ControlGuard | None = None, system: str | None = None) -> None:
        self._routes: list[tuple[str, str, Handler]] = []
        self._control = control
        self.metrics = SimMetrics(system) if system is not None else None
        if self.metrics is not None:
            self.add("GET", METRICS_PATH, self.metrics.exposition)

    def add(self, method: str, prefix: str, handler: Handler) -> None:
        if is_control_path(prefix):
            if self._control is None:
                raise ConfigurationError(f"control route {prefix} on a router without a control guard",
                                         setting="control_token")
            handler = _guarded(self._control, handler)
        self._routes.append((method.upper(), prefix, handler))
        self._routes.sort(key=lambda r: len(r[1]), reverse=True)

    def route(self, methods: Iterable[str], prefix: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            for m in methods:
                self.add(m, prefix, fn)
            return fn
        return deco

    def resolve(self, method: str, path: str) -> Handler | None:
        for m, prefix, handler in self._routes:
            if m == method and (path == prefix or path.startswith(prefix.rstrip("/") + "/")
                                or prefix == "/"):
                return handler
        return None

    def control_index(self) -> list[dict[str, str]]:
        """Every control route: ``{"method": ..., "path": ...}``, by path then method."""
        routes = {(prefix, method) for method, prefix, _ in self._routes if is_control_path(prefix)}
        return [{"method": method, "path": prefix} for prefix, method in sorted(routes)]

    def dispatch(self, request: Request) -> Response | WireFault:
        """The handler's answer; 404 when no route matches (after the guard's checks, under
        ``/_control``), 500 when the handler raises (a
        simulator bug must not take the server down)."""
        handler = self.resolve(request.method, request.path)
        if handler is None and self._control is not None and request.method == "GET" \
                and request.path.rstrip("/") == "/_control":
            handler = _guarded(self._control, lambda _: Response.json({"routes": self.control_index()}))
        if handler is None:
            if self._control is not None and is_control_path(request.path):
                # a stranger learns no more of the control API from a missing route than from another
                refused = self._control.refusal(request)
                if refused is not None:
                    return refused
            return Response.text(f"no route for {request.method} {request.path}", 404)
        if self.metrics is not None:
            return self.metrics.timed(self._run, handler, request)
        return self._run(handler, request)

    @staticmethod
    def _run(handler: Handler, request: Request) -> Response | WireFault:
        try:
            return handler(request)
        except Exception as exc:
            log.exception("handler of %s %s failed", request.method, request.path)
            return Response.text(f"internal simulator error: {exc}", 500)
