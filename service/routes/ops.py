"""Operations: ``/healthz`` (the process is up), ``/readyz`` (its dependencies answer), ``/metrics``.

Unauthenticated, like a security server's monitoring endpoints: they say nothing about callers or
data. Bind the service to an internal address (``EGOV_SERVICE_HOST``, 127.0.0.1 by default).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from service.auth import runtime_of
from service.metrics import CONTENT_TYPE, exposition
from service.readiness import Readiness

router = APIRouter(tags=["Operations"])


class Health(BaseModel):
    status: str
    started_at: dt.datetime
    uptime_seconds: float


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz(request: Request) -> Health:
    runtime = runtime_of(request)
    now = runtime.clock.now()
    return Health(status="ok", started_at=runtime.started_at,
                  uptime_seconds=round((now - runtime.started_at).total_seconds(), 3))


@router.get("/readyz", response_model=Readiness, summary="Database, PKI and gateway reachable",
            responses={503: {"model": Readiness, "description": "at least one check failed"}})
async def readyz(request: Request) -> Response:
    result = await run_in_threadpool(runtime_of(request).readiness.run)
    return JSONResponse(result.model_dump(mode="json"), status_code=200 if result.ready else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition"}})
async def metrics(request: Request) -> Response:
    """The adapters' exchange metrics and the service's request metrics (all workers' in multiprocess mode)."""
    runtime = runtime_of(request)
    body = await run_in_threadpool(lambda: exposition(runtime.clients.metrics, shared=(runtime.flow_state,)))
    return Response(body, media_type=CONTENT_TYPE)
