"""The FastAPI application: routes, error translation, request context. Built by :func:`create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import Response

from adapters.core.clock import Clock
from adapters.core.errors import EgovError
from service.direct_routes import DirectRoutes
from service.error_responses import ERROR_RESPONSES, install_error_handlers, json_error
from service.request_context import ErrorRenderer, RequestContextMiddleware
from service.routes import flows, legal_entities, licensing, ops, payments, shep, trust
from service.runtime import ServiceRuntime

API_VERSION = "1.0.0"

DESCRIPTION = """\
The organisation's one long-running component for Kazakhstan's e-government systems, in the manner
of an X-Road security server: it signs, sends, retries, journals and monitors every exchange, and the
organisation's own systems call it over plain HTTP.

* `/api/v1/...`: JSON API (Legal Entities, payments, E-licensing, licensing flows, trust helpers);
* `/shep/sync`, `/shep/async`: the ShEP proxy (post the gateway's unsigned SOAP message);
* `/healthz`, `/readyz`, `/metrics`: operations.

Every call but the operations needs an API key in `X-API-Key`, and the caller's permission for the
operation. Errors are `{"error": {"code", "message", "field"?, "retryable", "request_id"}}`.
"""


def error_renderer(clock: Clock) -> ErrorRenderer:
    """JSON for the API, a SOAP Fault for the ShEP proxy (for the request-context middleware)."""

    def render(path: str, error: EgovError, request_id: str) -> Response:
        if path.startswith(shep.router.prefix + "/"):
            return shep.fault_response(path, error, request_id, clock)
        return json_error(error, request_id)

    return render


def create_app(runtime: ServiceRuntime, *, close_runtime: bool = False) -> FastAPI:
    """The service over ``runtime``. With ``close_runtime`` the app closes the runtime when it shuts
    down (a server started from an import string owns it); otherwise the caller does."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_runtime:
                runtime.close()

    app = FastAPI(title="egov-adapters service", version=API_VERSION, description=DESCRIPTION,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None, lifespan=lifespan)
    app.state.runtime = runtime
    install_error_handlers(app)
    for module in (legal_entities, payments, licensing, flows, trust):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    app.include_router(shep.router)
    app.include_router(ops.router)
    # inside the request context (added first: the last added is the outermost)
    app.add_middleware(DirectRoutes, routes=[*shep.DIRECT, *flows.DIRECT, *legal_entities.DIRECT])
    app.add_middleware(RequestContextMiddleware, metrics=runtime.http_metrics,
                       max_body_bytes=runtime.settings.service_max_request_bytes,
                       render_error=error_renderer(runtime.clock))
    return app
