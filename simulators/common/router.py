"""Which handler answers a request: a (method, path prefix) table, and the one dispatch every
runner uses."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from simulators.common.messages import Request, Response
from simulators.common.wire_fault import WireFault

log = logging.getLogger(__name__)

Handler = Callable[[Request], Response | WireFault]
"""A pure handler: a request in, an answer (or a deliberate wire failure) out; no socket in sight."""


class Router:
    """Maps (method, path prefix) to handlers; the longest matching prefix wins."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, str, Handler]] = []

    def add(self, method: str, prefix: str, handler: Handler) -> None:
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

    def dispatch(self, request: Request) -> Response | WireFault:
        """The handler's answer; 404 when no route matches, 500 when the handler raises (a
        simulator bug must not take the server down)."""
        handler = self.resolve(request.method, request.path)
        if handler is None:
            return Response.text(f"no route for {request.method} {request.path}", 404)
        try:
            return handler(request)
        except Exception as exc:
            log.exception("handler of %s %s failed", request.method, request.path)
            return Response.text(f"internal simulator error: {exc}", 500)
