"""Errors at the HTTP boundary: one JSON shape with a code and the right status, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.core.errors import (
    CircuitOpenError,
    ConfigurationError,
    EgovError,
    IdentifierError,
    NotFoundError,
    RefusalReason,
    RetriesExhaustedError,
    SignatureRefused,
    TransportError,
)
from adapters.core.journal import UnjournalledExchangeError
from adapters.egov_gateway import GatewayFaultError
from adapters.elicense import AuthorisationDenied
from adapters.payment_gateway import ClientReferenceConflictError
from harness.landscape import MINISTRY_BIN
from service.error_responses import http_status
from service.errors import Forbidden, RequestTooLarge, Unauthenticated
from tests.service.conftest import Running, error_of


@pytest.mark.parametrize(("error", "status"), [
    (Unauthenticated("no key"), 401),
    (Forbidden("crm", "payments:create"), 403),
    (AuthorisationDenied("another licensor's application", code="ELC103"), 403),
    (NotFoundError("no such order"), 404),
    (ClientReferenceConflictError("PSE005: used", code="PSE005"), 409),
    (RequestTooLarge(10), 413),
    (IdentifierError("bin", "bad check digit"), 422),
    (GatewayFaultError("SCE004", "no such service"), 502),
    (SignatureRefused(RefusalReason.DIGEST_MISMATCH, "licence tampered"), 502),
    (RetriesExhaustedError(3, TransportError("reset", kind="reset")), 502),
    (RetriesExhaustedError(3, TransportError("slow", kind="read-timeout")), 504),
    (ConfigurationError("no employee"), 503),
    (CircuitOpenError("open"), 503),
    (UnjournalledExchangeError("disk full"), 503),
    (EgovError("something else"), 500),
])
def test_each_error_gets_the_status_of_its_meaning(error: EgovError, status: int) -> None:
    assert http_status(error) == status


def test_no_route_and_wrong_method(service: Running) -> None:
    error_of(service.get("/api/v1/nothing-here"), 404, "EGOV603")
    error_of(service.call("DELETE", f"/api/v1/legal-entities/{MINISTRY_BIN}"), 405, "EGOV604")


def test_a_body_over_the_limit_is_refused_before_it_is_read(service: Running) -> None:
    big = b"<a>" + b"x" * (1024 * 1024) + b"</a>"
    error_of(service.post("/api/v1/trust/verify", data=big), 413, "EGOV605")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(20):
            yield b"x" * 65536

    error_of(service.post("/api/v1/trust/verify", data=chunks()), 413, "EGOV605")
    json_chunks = (b'{"client_reference": "' + b"x" * 65536 for _ in range(20))  # FastAPI reads this body itself
    error_of(service.post("/api/v1/payments", data=json_chunks, headers={"Content-Type": "application/json"}),
             413, "EGOV605")
    soap = service.post("/shep/sync", data=big, headers={"Content-Type": "text/xml"})
    assert soap.status_code == 413 and b"<errorCode>EGOV605</errorCode>" in soap.content


def test_an_unexpected_failure_is_a_clean_500(service: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(service.runtime.clients.legal_entities, "lookup_bin", broken)
    answer = service.get(f"/api/v1/legal-entities/{MINISTRY_BIN}")
    error = error_of(answer, 500, "EGOV699")
    assert "ZeroDivisionError" in error["message"] and "a bug" not in error["message"]
    assert answer.headers["X-Request-ID"] in error["message"]
