"""Errors translated at the HTTP boundary, written once.

Every failure a caller sees is one JSON object::

    {"error": {"code": "SCE009", "message": "...", "field": "payer.iin_bin", "retryable": true,
               "request_id": "...", "cause": {...}}}

``code`` is the error's stable code (``docs/codes.md``, the adapters' ``errors.py``, and
:mod:`service.errors` for the service's own ``EGOV6xx``), ``field`` names the input at fault (only
for bad input), ``retryable`` says whether the same request may succeed later, ``cause`` is the
last error behind a :class:`~adapters.core.errors.RetriesExhaustedError`. Never a traceback: an
unexpected exception is logged with its traceback under the request id and answered as
``EGOV699``.

The HTTP status follows the error's meaning (:func:`http_status`): bad input 4xx, a refusal by an
external system or an unusable answer 502, a timeout 504, something not configured or a database
that cannot journal 503. ShEP proxy routes answer SOAP Faults instead (:mod:`service.shep_wire`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.core.errors import (
    BusinessError,
    CircuitOpenError,
    ConfigurationError,
    ConflictError,
    DeadlineExceededError,
    EgovError,
    ExchangeError,
    KeystoreError,
    NotFoundError,
    RetriesExhaustedError,
    SchemaValidationError,
    SignatureRefused,
    TransportError,
    ValidationError,
    XmlError,
)
from adapters.core.journal import JournalError
from adapters.elicense import AuthorisationDenied
from service import errors as E

log = logging.getLogger("service.errors")

_TIMEOUT_KINDS = frozenset({"read-timeout", "connect-timeout", "deadline"})


class ErrorCause(BaseModel):
    """The last error behind a call that used up its retries."""

    code: str
    message: str
    retryable: bool


class ErrorDetail(BaseModel):
    code: str = Field(description="stable error code (docs/codes.md, docs/service.md)")
    message: str = Field(description="what went wrong, for people")
    field: str | None = Field(default=None, description="the input at fault, for bad input only")
    retryable: bool = Field(description="whether the same request may succeed later")
    request_id: str | None = Field(default=None, description="X-Request-ID of the request (look it up in the logs)")
    cause: ErrorCause | None = Field(default=None, description="the last error of a call that used up its retries")


class ErrorBody(BaseModel):
    """Every error the JSON API answers."""

    error: ErrorDetail


def _timed_out(exc: EgovError) -> bool:
    return exc.context.get("kind") in _TIMEOUT_KINDS


def http_status(exc: EgovError) -> int:
    """The HTTP status that says what ``exc`` means to the caller."""
    checks: tuple[tuple[type[EgovError] | tuple[type[EgovError], ...], int], ...] = (
        (E.Unauthenticated, 401),
        ((E.Forbidden, E.SigningDisabled, AuthorisationDenied), 403),
        ((E.RouteNotFound, NotFoundError), 404),
        (E.MethodNotAllowed, 405),
        (E.RequestTooLarge, 413),
        (E.BadRequest, 400),
        (E.InternalError, 500),
        ((ValidationError, SchemaValidationError), 422),
        (XmlError, 400),
        (SignatureRefused, 502),  # a document from an external system that did not verify
        (KeystoreError, 500),
        ((ConfigurationError, JournalError, CircuitOpenError), 503),
        (ConflictError, 409),
        (BusinessError, 422),
        (DeadlineExceededError, 504),
    )
    for kinds, status in checks:
        if isinstance(exc, kinds):
            return status
    if isinstance(exc, RetriesExhaustedError):
        return 504 if isinstance(exc.last, TransportError) and _timed_out(exc.last) else 502
    if isinstance(exc, TransportError):
        return 504 if _timed_out(exc) else 502
    if isinstance(exc, ExchangeError):
        return 502
    return 500


def error_detail(exc: EgovError, request_id: str | None) -> ErrorDetail:
    cause = None
    if isinstance(exc, RetriesExhaustedError):
        cause = ErrorCause(code=exc.last.code, message=exc.last.message, retryable=exc.last.retryable)
    field = exc.field if isinstance(exc, ValidationError) else None
    return ErrorDetail(code=exc.code, message=exc.message, field=field, retryable=exc.retryable,
                       request_id=request_id, cause=cause)


def json_error(exc: EgovError, request_id: str | None) -> JSONResponse:
    """The JSON answer for ``exc``, with the status of :func:`http_status`."""
    status = http_status(exc)
    headers = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'} if status == 401 else None
    body = ErrorBody(error=error_detail(exc, request_id)).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers)


def request_id_of(request: Request) -> str | None:
    rid = getattr(request.state, "request_id", None)
    return rid if isinstance(rid, str) else None


def validation_error(exc: RequestValidationError) -> ValidationError:
    """FastAPI's request validation as the project's :class:`ValidationError` (first problem)."""
    problems = exc.errors()
    if not problems:
        return ValidationError("request", "invalid")
    first = problems[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    field = ".".join(loc) or "request"
    reason = str(first.get("msg", "invalid"))
    if len(problems) > 1:
        reason += f" (and {len(problems) - 1} more problem(s))"
    return ValidationError(field, reason)


def http_exception_error(exc: StarletteHTTPException) -> EgovError:
    """Starlette's own refusals (no route, wrong method, unreadable body) as service errors."""
    detail = str(exc.detail)
    if exc.status_code == 404:
        return E.RouteNotFound(f"no route here: {detail}")
    if exc.status_code == 405:
        return E.MethodNotAllowed(f"method not allowed: {detail}")
    if isinstance(exc.__cause__, EgovError):  # e.g. the body limit hit while FastAPI read a JSON body
        return exc.__cause__
    if exc.status_code == 413:
        return E.RequestTooLarge()
    if exc.status_code == 400:
        return E.BadRequest(f"the request cannot be read: {detail}")
    return E.ServiceError(f"HTTP {exc.status_code}: {detail}", code=f"EGOV6{exc.status_code % 100:02d}")


def install_error_handlers(app: FastAPI) -> None:
    """Register the translations above on ``app`` (unexpected exceptions: see :mod:`service.request_context`)."""

    async def on_egov(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EgovError)
        return json_error(exc, request_id_of(request))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return json_error(validation_error(exc), request_id_of(request))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return json_error(http_exception_error(exc), request_id_of(request))

    app.add_exception_handler(EgovError, on_egov)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


#: ``responses=`` of every JSON route: the error body documented in the OpenAPI schema
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (401, "no API key, or an unknown one (EGOV601)"),
        (403, "the caller is not allowed this operation (EGOV602)"),
        (422, "bad input (EGOV100 and its leaves; field names it)"),
        (502, "an external system refused the call or gave an unusable answer"),
        (503, "not configured, circuit open, or the journal cannot be written"),
        (504, "an external system did not answer in time"),
    )
}
