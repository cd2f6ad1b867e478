"""``/api/v1/flows``: licensing flows of Order No. 467 started, read and resumed over the API.

A flow runs as tasks (``workers``): ``POST /api/v1/flows`` records it and answers at once (202)
with its id; the flow's steps then run on the task queue's workers (or this process's threads
without a broker). Its state, each step against the regulation's norm, the application's review
deadline and the documents issued are read with ``GET /api/v1/flows/{flow_id}``.

The request is :class:`procedure.application.Application`: secrets only as references (a file
under ``EGOV_FLOW_FILES_DIR`` or a variable ``EGOV_FLOW_SECRET_*``; :mod:`service.flow_files`).
A password in clear has no field to go in: the request is refused (422) before anything is stored.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from adapters.core.errors import ConflictError
from procedure.application import DIAGRAM_IDS, Application
from procedure.diagrams import get_diagram
from procedure.models import FlowRecord, FlowStatus, Service, StepRecord, Text
from procedure.names import FlowNames, flow_names
from service.auth import API_KEY_HEADER, authorise, identify, require, runtime_of
from service.direct_routes import DirectRoute
from service.flow_files import check_references
from service.routes import API_PREFIX
from service.runtime import ServiceRuntime
from service.threadpool import read_store, store_bound

router = APIRouter(prefix=f"{API_PREFIX}/flows", tags=["Licensing flows"])

FLOW_ID = r"[A-Za-z0-9_.:-]{1,64}"
FlowId = Annotated[str, Path(pattern=f"^{FLOW_ID}$", description="the flow's id")]
_DIAGRAM_ID_OF = {**{str(n): d for n, d in DIAGRAM_IDS.items()}, **{d: d for d in DIAGRAM_IDS.values()}}
_RESULT_KEYS = ("application_number", "registered_at", "licensor", "deadline", "payment_order", "fee",
                "licence_number", "licence_kind", "signed_by", "refused_by", "notices")


class FlowStart(BaseModel):
    """A flow to start: the application, and optionally the caller's own id for the flow."""

    model_config = ConfigDict(extra="forbid")

    flow_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{8,64}$",
                                description="the caller's id for the flow (8-64 of A-Z a-z 0-9 _ . : -): "
                                            "starting again with the same id and application returns the flow "
                                            "(200), with another application is 409")
    application: Application


class FlowAccepted(BaseModel):
    """A flow taken: where it stands now; follow it at ``href``."""

    flow_id: str
    status: FlowStatus
    current_step: str
    queued: bool = Field(description="the task queue took the flow's next step now (false: a worker's sweep "
                                     "will queue it; the flow is recorded either way)")
    href: str


class NormAnswer(BaseModel):
    label: str = Field(description="the regulation's wording, e.g. '15 min'")
    min_seconds: float
    max_seconds: float


class StepAnswer(BaseModel):
    """One step of the flow: the diagram's step, and what happened when it ran."""

    step: str
    kind: str
    actor: str
    description: Text
    norm: NormAnswer | None = Field(description="the regulation's norm (none for some steps)")
    attempts: int = Field(description="times the step's implementation was entered (crashes, retries)")
    idempotency_key: str = Field(description="the key every external change of the step carried")
    started_at: dt.datetime
    finished_at: dt.datetime | None
    duration_seconds: float | None
    verdict: str | None = Field(description="within, over or no-norm once finished")
    outcome: str | None = Field(description="done, ok, fail, refused or result once finished")
    detail: str
    error: str | None


class Documents(BaseModel):
    """The documents the flow received, where the service wrote them (PDFs are rendered by a task)."""

    licence_xml: str | None = None
    licence_pdf: str | None = None
    refusal_xml: str | None = None
    refusal_pdf: str | None = None
    pdf_ready: bool | None = Field(default=None, description="the PDF has been rendered")


class FlowAnswer(BaseModel):
    """A flow's state, its steps against the regulation's norms, deadline and documents."""

    flow_id: str
    service: str
    operation: str
    diagram: str
    diagram_number: int
    status: FlowStatus
    current_step: str
    current_step_description: Text
    error: str | None = Field(description="the failed step's error (status failed)")
    created_at: dt.datetime
    updated_at: dt.datetime
    results: dict[str, Any] = Field(description="application number, registration, review deadline, payment "
                                                "order, licence number..., as the steps recorded them")
    deadline_state: str | None = Field(default=None, description="undecided applications: on-time, near or past "
                                                                 "their review deadline")
    names: FlowNames = Field(description="the service, application type, category and (once decided) the "
                                         "application's status, by code and in Kazakh and Russian")
    refusal: Text | None = Field(default=None, description="the regulation's refusal message (status refused)")
    refusal_detail: str | None = Field(default=None, description="why (the condition that failed)")
    documents: Documents
    retry_at: dt.datetime | None = Field(default=None, description="a failed step runs again then")
    failures: int = Field(default=0, description="failures in a row of the current step")
    steps: list[StepAnswer]


class FlowSummary(BaseModel):
    flow_id: str
    service: str
    operation: str
    diagram: str
    status: FlowStatus
    current_step: str
    created_at: dt.datetime
    updated_at: dt.datetime
    application_number: str | None = None
    licence_number: str | None = None
    names: FlowNames = Field(description="the service, application type, category and (once decided) the "
                                         "application's status, in Kazakh and Russian")


class FlowList(BaseModel):
    count: int
    flows: list[FlowSummary]


def _href(flow_id: str) -> str:
    return f"{API_PREFIX}/flows/{flow_id}"


def _accepted(flow: FlowRecord, queued: bool) -> FlowAccepted:
    return FlowAccepted(flow_id=flow.flow_id, status=flow.status, current_step=flow.current_step, queued=queued,
                        href=_href(flow.flow_id))


def _step(record: StepRecord, diagram_id: str) -> StepAnswer:
    step = get_diagram(diagram_id).step(record.step)
    norm = step.norm
    return StepAnswer(
        step=record.step, kind=step.kind.value, actor=step.actor.value, description=step.description,
        norm=NormAnswer(label=norm.label, min_seconds=norm.min_seconds, max_seconds=norm.max_seconds) if norm else None,
        attempts=record.attempts, idempotency_key=record.idempotency_key, started_at=record.started_at,
        finished_at=record.finished_at, duration_seconds=record.duration_seconds,
        verdict=record.norm_verdict.value if record.norm_verdict else None, outcome=record.outcome,
        detail=record.detail, error=record.error)


def _documents(data: dict[str, Any]) -> Documents:
    def text(key: str) -> str | None:
        value = data.get(key)
        return str(value) if value else None

    pdf = text("licence_pdf") or text("refusal_pdf")
    return Documents(licence_xml=text("licence_xml"), licence_pdf=text("licence_pdf"),
                     refusal_xml=text("refusal_xml"), refusal_pdf=text("refusal_pdf"),
                     pdf_ready=pathlib.Path(pdf).is_file() if pdf else None)


def _read_answer(runtime: ServiceRuntime, flow_id: str) -> FlowAnswer:
    """The flow's answer from one read of the store (and of its claim while it is open)."""
    return _answer(runtime, *runtime.flows.runtime.store.flow_with_history(flow_id))


def _answer(runtime: ServiceRuntime, flow: FlowRecord, history: list[StepRecord]) -> FlowAnswer:
    diagram = get_diagram(flow.diagram)
    current = diagram.step(flow.current_step)
    refusal = current.message if flow.status is FlowStatus.REFUSED else None
    detail = None
    if refusal is not None:
        failed = [r for r in history if r.outcome == "fail"]
        detail = failed[-1].detail if failed else None
    deadline = flow.data.get("deadline")
    deadline_state = None
    if isinstance(deadline, str) and not flow.status.terminal:
        deadline_state = runtime.flow_state.deadline_state(dt.date.fromisoformat(deadline), runtime.clock.now())
    # an ended flow's claim says nothing more (released, failures reset): not read
    claim = None if flow.status.terminal else runtime.flows.runtime.claims.state(flow.flow_id)
    return FlowAnswer(
        flow_id=flow.flow_id, service=flow.service, operation=flow.operation, diagram=flow.diagram,
        diagram_number=diagram.number, status=flow.status, current_step=flow.current_step,
        current_step_description=current.description, error=flow.error, created_at=flow.created_at,
        updated_at=flow.updated_at, results={k: flow.data[k] for k in _RESULT_KEYS if k in flow.data},
        deadline_state=deadline_state, names=flow_names(flow.service, flow.operation, flow.data),
        refusal=refusal, refusal_detail=detail, documents=_documents(flow.data),
        retry_at=claim.retry_at if claim is not None and flow.status is FlowStatus.FAILED else None,
        failures=claim.failures if claim is not None else 0,
        steps=[_step(r, flow.diagram) for r in history])


@router.post("", response_model=FlowAccepted, status_code=202, summary="Start a licensing flow",
             dependencies=[Depends(require("flows:start"))],
             responses={200: {"model": FlowAccepted, "description": "a flow with this flow_id and this application "
                                                                    "exists already: it is returned, nothing new"},
                        409: {"description": "the flow_id is taken by another application"}})
@store_bound
def start_flow(request: Request, body: FlowStart, response: Response) -> FlowAccepted:
    """Record the flow and queue its first step; the answer does not wait for any step."""
    runtime = runtime_of(request)
    check_references(body.application, runtime.settings.flow_files_dir)
    dispatch = runtime.flows.dispatch
    try:
        started = dispatch.start(body.application, flow_id=body.flow_id)
    except ConflictError:
        assert body.flow_id is not None
        existing = runtime.flows.runtime.store.get_flow(body.flow_id)
        if existing.data.get("application") != body.application.model_dump(mode="json"):
            raise ConflictError(f"flow {body.flow_id} exists with another application", flow_id=body.flow_id) \
                from None
        response.status_code = 200
        return _accepted(existing, False)
    response.headers["Location"] = _href(started.flow.flow_id)
    return _accepted(started.flow, started.queued)


@router.get("", response_model=FlowList, summary="Flows, newest first",
            dependencies=[Depends(require("flows:read"))])
async def list_flows(
        request: Request,
        status: Annotated[FlowStatus | None, Query(description="running, failed, completed, refused")] = None,
        service: Annotated[Service | None, Query(description="one of the five services")] = None,
        diagram: Annotated[str | None, Query(pattern=r"^(1|2|portal|provider)$",
                                             description="1 or portal, 2 or provider")] = None,
        since: Annotated[dt.datetime | None, Query(description="created at or after (ISO 8601)")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100) -> FlowList:
    runtime = runtime_of(request)
    flows = await read_store(partial(runtime.flows.runtime.store.find_flows, status=status,
                                     service=service.value if service else None,
                                     diagram=_DIAGRAM_ID_OF[diagram] if diagram else None, since=since, limit=limit),
                             local=runtime.store_is_local)
    rows = [FlowSummary(flow_id=f.flow_id, service=f.service, operation=f.operation, diagram=f.diagram,
                        status=f.status, current_step=f.current_step, created_at=f.created_at,
                        updated_at=f.updated_at, application_number=f.data.get("application_number"),
                        licence_number=f.data.get("licence_number"),
                        names=flow_names(f.service, f.operation, f.data)) for f in flows]
    return FlowList(count=len(rows), flows=rows)


@router.get("/{flow_id}", response_model=FlowAnswer, summary="A flow: state, steps against the norms, documents",
            dependencies=[Depends(require("flows:read"))])
async def flow(request: Request, flow_id: FlowId) -> Response:
    # answered in front of the router (DIRECT); this declares it and answers alike
    return await _flow_response(request, flow_id)


async def _flow_response(request: Request, flow_id: str) -> Response:
    runtime = runtime_of(request)
    answer = await read_store(partial(_read_answer, runtime, flow_id), local=runtime.store_is_local)
    return Response(answer.model_dump_json(by_alias=True), media_type="application/json")


async def _direct_flow(request: Request, parameters: Mapping[str, str]) -> Response:
    authorise(identify(request, request.headers.get(API_KEY_HEADER)), "flows:read")
    return await _flow_response(request, parameters["flow_id"])


@router.post("/{flow_id}/resume", response_model=FlowAccepted, status_code=202, summary="Resume a flow",
             dependencies=[Depends(require("flows:resume"))],
             responses={200: {"model": FlowAccepted, "description": "the flow has ended: nothing to resume"}})
@store_bound
def resume_flow(request: Request, flow_id: FlowId, response: Response) -> FlowAccepted:
    """Queue an open flow's current step now, its failures forgotten (a flow left failed after its
    retries, or one to hurry); an ended flow is answered as it is (200)."""
    resumed = runtime_of(request).flows.dispatch.resume(flow_id)
    if resumed.flow.status.terminal:
        response.status_code = 200
    return _accepted(resumed.flow, resumed.queued)


DIRECT = (DirectRoute("GET", f"{router.prefix}/{{flow_id}}", _direct_flow, {"flow_id": FLOW_ID}),)
"""A flow's state, the API's most polled route, answered in front of the router (:mod:`service.direct_routes`)."""
