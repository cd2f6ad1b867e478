"""Per-request context, as an ASGI middleware: request id, body limit, metrics, access log, last-resort errors.

For every HTTP request:

- the request id is the caller's ``X-Request-ID`` when it is a sensible token (1-128 characters of
  ``[A-Za-z0-9._:-]``), otherwise a new one; it is echoed in the answer's ``X-Request-ID``, kept in
  ``request.state.request_id`` and bound to every log record of the request
  (:func:`adapters.core.logs.bind_ids`), so the exchange journal's log lines of the calls the request
  made carry it next to their messageId;
- a body over ``EGOV_SERVICE_MAX_REQUEST_BYTES`` is refused (413) before it is read;
- one access-log line (method, path, status, latency, caller) and the request metrics, labelled by
  the route's template (``/api/v1/payments/{order_id}``), not the raw path;
- an exception that escaped every handler is logged with its traceback under the request id and
  answered as ``EGOV699``: the caller never sees a traceback.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.core.errors import EgovError
from adapters.core.logs import bind_ids, log_fields
from service.errors import InternalError, RequestTooLarge
from service.metrics import ServiceMetrics

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_log = logging.getLogger("service.access")
log = logging.getLogger("service.errors")

ErrorRenderer = Callable[[str, EgovError, str], Response]
"""(path, error, request id) → the answer (JSON for the API, a SOAP Fault for the ShEP proxy)."""


def request_id_from(raw: str | None) -> str:
    """The caller's request id when acceptable, otherwise a fresh one."""
    if raw and _REQUEST_ID.match(raw):
        return raw
    return uuid.uuid4().hex


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class RequestContextMiddleware:
    """See the module docstring. ``render_error`` turns a service error into the path's kind of answer."""

    def __init__(self, app: ASGIApp, *, metrics: ServiceMetrics, max_body_bytes: int,
                 render_error: ErrorRenderer) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_from(_header(scope, b"x-request-id"))
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        path: str = scope.get("path", "")
        started = time.perf_counter()
        answer = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"], answer["started"] = message["status"], True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise RequestTooLarge(self.max_body_bytes)
            return message

        with bind_ids(request_id=rid):
            try:
                declared = _header(scope, b"content-length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                    await self.render_error(path, RequestTooLarge(self.max_body_bytes), rid)(
                        scope, receive, send_with_id)
                else:
                    await self.app(scope, limited_receive, send_with_id)
            except Exception as exc:
                if answer["started"]:
                    log.exception("failure after the answer started", extra=log_fields(path=path))
                    raise
                if isinstance(exc, EgovError):
                    error: EgovError = exc
                else:
                    log.exception("unexpected failure: %s: %s", type(exc).__name__, exc, extra=log_fields(path=path))
                    error = InternalError(f"internal error ({type(exc).__name__}); the service's log has the "
                                          f"details under request id {rid}")
                await self.render_error(path, error, rid)(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = scope.get("route")
                template = getattr(route, "path", None) or "<unmatched>"
                status = int(answer["status"])
                self.metrics.observe(scope.get("method", "?"), template, status, elapsed)
                if access_log.isEnabledFor(logging.INFO):
                    access_log.info("%s %s %d", scope.get("method"), path, status, extra=log_fields(
                        method=scope.get("method"), path=path, route=template, status=status,
                        latency_ms=round(elapsed * 1000, 3), caller=state.get("caller")))
