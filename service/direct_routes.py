"""The service's busiest routes answered in front of FastAPI's router, inside the request context.

FastAPI's way to a route costs more CPU than some routes' own work: every request passes its
exception and telemetry layers, is matched against each route's regular expression router by
router, and has its dependencies solved (the caller's key, the path's parameters) through its
dependency machinery; in the service that is ≈ 0.3-0.5 ms of CPU per request, against ≈ 0.6 ms
for reading a flow and writing its JSON (bench f, ``bench/README.md``). Under 64 callers on two
shared cores, that CPU is the answers' wait.

:class:`DirectRoutes`, an ASGI layer the app puts just inside the request context (request id,
body limit, metrics, access log, last-resort errors: :mod:`service.request_context`), answers a
short, explicit list of :class:`DirectRoute`: a method, the route's template and, per path
parameter, the pattern FastAPI's route accepts. A request whose method and path match is answered
by the route's handler; every other request goes on to FastAPI unchanged, also a path whose
parameter FastAPI would refuse (its 404 or 422 stay FastAPI's). The routes stay declared in
FastAPI too (the OpenAPI schema and the docs page show them) and run the same handler code, so
both ways answer alike. A handler checks the caller itself (:func:`service.auth.identify`,
:func:`service.auth.authorise`) and raises the project's errors, which the request context
answers as every other route's.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["DirectRoute", "DirectRoutes", "Handler", "RouteTemplate"]

Handler = Callable[[Request, Mapping[str, str]], Awaitable[Response]]
"""(the request, the path's parameters by name) → the answer."""

_PARAMETER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


@dataclass(frozen=True)
class RouteTemplate:
    """What the request context reads of ``scope["route"]``: the template its metrics are labelled by."""

    path: str


@dataclass(frozen=True)
class DirectRoute:
    """One route answered directly: ``method`` and ``template`` as FastAPI declares them
    (``/api/v1/flows/{flow_id}``); ``parameters``: per path parameter, a regular expression of the
    values FastAPI accepts there (without anchors; default: one path segment)."""

    method: str
    template: str
    handler: Handler
    parameters: Mapping[str, str] = field(default_factory=dict)

    def matcher(self) -> re.Pattern[str]:
        pattern, last = "", 0
        for found in _PARAMETER.finditer(self.template):
            pattern += re.escape(self.template[last:found.start()])
            pattern += f"(?P<{found.group(1)}>{self.parameters.get(found.group(1), '[^/]+')})"
            last = found.end()
        unknown = set(self.parameters) - set(_PARAMETER.findall(self.template))
        if unknown:
            raise ValueError(f"{self.template}: no parameter {sorted(unknown)}")
        return re.compile(pattern + re.escape(self.template[last:]))


class DirectRoutes:
    """ASGI layer: answers ``routes`` (see the module docstring); passes everything else to ``app``."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[DirectRoute]) -> None:
        self.app = app
        self.fixed: dict[tuple[str, str], tuple[DirectRoute, RouteTemplate]] = {}
        self.templated: list[tuple[str, re.Pattern[str], DirectRoute, RouteTemplate]] = []
        for route in routes:
            template = RouteTemplate(route.template)
            if _PARAMETER.search(route.template):
                self.templated.append((route.method, route.matcher(), route, template))
            else:
                self.fixed[(route.method, route.template)] = (route, template)

    def find(self, method: str, path: str) -> tuple[DirectRoute, RouteTemplate, dict[str, str]] | None:
        """The route answering ``method path`` and the path's parameters, or None."""
        fixed = self.fixed.get((method, path))
        if fixed is not None:
            return fixed[0], fixed[1], {}
        for wanted, matcher, route, template in self.templated:
            if wanted == method:
                match = matcher.fullmatch(path)
                if match is not None:
                    return route, template, match.groupdict()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.find(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        route, scope["route"], parameters = found
        response = await route.handler(Request(scope, receive), parameters)
        await response(scope, receive, send)
