"""``/shep/sync`` and ``/shep/async``: the ShEP proxy (:mod:`service.shep_proxy`), SOAP in and out.

Authentication is the API's (``X-API-Key``), but every refusal here is a SOAP Fault with the
gateway's ``ErrorInfo`` — what a SOAP client can read — with HTTP 401, 403, 413 for the service's
own refusals and 500 for every other Fault, as SOAP 1.1 and the gateway do.

The routes below define and document the two paths (OpenAPI); a ``POST`` to either is answered in
front of FastAPI's router (:data:`DIRECT`, :mod:`service.direct_routes`), inside the request
context (request id, body limit, metrics by these routes' templates, access log, last-resort
Fault): the proxy is the hot path of a ministry's traffic, and FastAPI's routing, dependency
solving and exception layers cost a share of a proxied call's CPU (bench f, ``bench/README.md``).
Both ways run :func:`answer`, so they answer alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Security
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.core.clock import Clock
from adapters.core.errors import EgovError
from service.auth import API_KEY_HEADER, api_key_header, identify, runtime_of
from service.direct_routes import DirectRoute
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


async def _direct(channel: Channel, request: Request, _: Mapping[str, str]) -> Response:
    return await answer(request, channel)


DIRECT = tuple(DirectRoute("POST", f"{router.prefix}/{channel}", partial(_direct, channel))
               for channel in ("sync", "async"))
"""``POST /shep/sync`` and ``/shep/async`` answered in front of the router (:mod:`service.direct_routes`)."""
