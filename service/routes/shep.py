"""``/shep/sync`` and ``/shep/async``: the ShEP proxy (:mod:`service.shep_proxy`), SOAP in and out.

Authentication is the API's (``X-API-Key``), but every refusal here is a SOAP Fault with the
gateway's ``ErrorInfo`` — what a SOAP client can read — with HTTP 401, 403, 413 for the service's
own refusals and 500 for every other Fault, as SOAP 1.1 and the gateway do.

The routes below define and document the two paths (OpenAPI); a ``POST`` to either is answered by
:class:`ShepEndpoints`, an ASGI layer the app puts in front of FastAPI's router, inside the request
context (request id, body limit, metrics by these routes' templates, access log, last-resort
Fault): the proxy is the hot path of a ministry's traffic, and FastAPI's routing, dependency
solving and exception layers cost a share of a proxied call's CPU (bench f, ``bench/README.md``).
Both ways run :func:`answer`, so they answer alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Security
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.core.clock import Clock
from adapters.core.errors import EgovError
from service.auth import API_KEY_HEADER, api_key_header, identify, runtime_of
from service.error_responses import request_id_of
from service.shep_proxy import ProxyAnswer, ShepProxy, fault_answer
from service.shep_wire import Channel

# the security dependency documents X-API-Key in the OpenAPI schema; the routes check it themselves,
# so that a refusal is a SOAP Fault
router = APIRouter(prefix="/shep", tags=["ShEP proxy"], dependencies=[Security(api_key_header)])

SOAP_MEDIA_TYPE = "text/xml; charset=utf-8"
_SOAP_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"text/xml": {"schema": {
    "type": "string", "description": "an unsigned SOAP 1.1 envelope of the gateway (schemas/shep/)"}}}}}
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/xml": {}}, "description": "the gateway's verified answer (or its status code)"},
    500: {"content": {"text/xml": {}}, "description": "SOAP Fault: the gateway's code, or the project's"},
    401: {"content": {"text/xml": {}}, "description": "SOAP Fault EGOV601: no or unknown API key"},
    403: {"content": {"text/xml": {}}, "description": "SOAP Fault EGOV602: not allowed this serviceId"},
}


def _soap(answer: ProxyAnswer) -> Response:
    return Response(answer.body, status_code=answer.status, media_type=SOAP_MEDIA_TYPE, headers=answer.headers)


def fault_response(path: str, error: EgovError, request_id: str | None, clock: Clock) -> Response:
    """A SOAP Fault for ``error`` raised before the request's operation was known (the path's main one)."""
    operation = "SendMessage" if path.rstrip("/").endswith("/sync") else "sendMessage"
    return _soap(fault_answer(operation, error, now=clock.now(), request_id=request_id))


async def answer(request: Request, channel: Channel) -> Response:
    """One proxied call: the caller's key, the body, the exchange on a thread, the SOAP answer."""
    runtime = runtime_of(request)
    rid = request_id_of(request)
    try:
        caller = identify(request, request.headers.get(API_KEY_HEADER))
        body = await request.body()
        proxy = ShepProxy(runtime.clients.gateway, runtime.clock)
        answer: ProxyAnswer = await run_in_threadpool(partial(proxy.handle, body, channel, caller, request_id=rid))
    except EgovError as exc:
        return fault_response(request.url.path, exc, rid, runtime.clock)
    return _soap(answer)


@router.post("/sync", summary="Send a message on the gateway's sync channel", response_class=Response,
             openapi_extra=_SOAP_BODY, responses=_ANSWERS)
async def sync_channel(request: Request) -> Response:
    """``SendMessage``: permission ``shep:<serviceId>``; retried with the same messageId."""
    return await answer(request, "sync")


@router.post("/async", summary="The gateway's async channel: sendMessage, getMessageStatus",
             response_class=Response, openapi_extra=_SOAP_BODY, responses=_ANSWERS)
async def async_channel(request: Request) -> Response:
    """``sendMessage`` (permission ``shep:<serviceId>``) and ``getMessageStatus``
    (``shep_async:getMessageStatus``)."""
    return await answer(request, "async")


@dataclass(frozen=True)
class RouteTemplate:
    """What the request context reads of ``scope["route"]``: the template its metrics are labelled by."""

    path: str


class ShepEndpoints:
    """ASGI layer: ``POST /shep/sync`` and ``POST /shep/async`` answered by :func:`answer` without
    FastAPI's router (see the module docstring); every other request goes on to ``app``. The
    metrics and the access log name the same route templates as the routes'."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.paths: dict[str, tuple[Channel, RouteTemplate]] = {
            f"{router.prefix}/{channel}": (channel, RouteTemplate(f"{router.prefix}/{channel}"))
            for channel in ("sync", "async")}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.paths.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        channel, scope["route"] = found
        response = await answer(Request(scope, receive), channel)
        await response(scope, receive, send)
