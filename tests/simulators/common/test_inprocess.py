"""``router_app``: a real simulator's router answering the adapters' ``InProcessTransport`` with no
socket: a signed SOAP request in, its signed answer through the client's response pipeline; each
wire fault becomes the ``TransportError`` kind the network transport raises (drip: the whole
answer); routing, method and size refusals as over the network."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest

from adapters.contracts import schema_check
from adapters.core.errors import TransportError
from adapters.core.http import HttpResult, InProcessTransport
from adapters.core.soap import ResponsePipeline, build_envelope
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.payment_gateway import Payer, PaymentOrderRequest, PaymentStatus, answers, messages
from adapters.payment_gateway.errors import map_fault
from simulators.common import inprocess
from simulators.common.httpserver import Request, Response, Router
from simulators.common.inprocess import router_app
from simulators.common.wire_fault import WireFault
from simulators.payment_gateway import PaymentGatewaySimulator
from tests.fixtures.backends import PSHEP_BIN, SENDER_ID, SENDER_PASSWORD, BackendKeys, with_our_sender

ORDER = PaymentOrderRequest(client_reference="app-inprocess-fee", payer=Payer(iin_bin="950341000052", name="Арман"),
                            amount=Decimal("16180.00"), application_reference="12009269")


@pytest.fixture
def pshep(backend_keys: BackendKeys, backend_verifier: VerificationService) -> Iterator[PaymentGatewaySimulator]:
    """The payment gateway simulator; only its router is used (its server runs, untouched)."""
    with with_our_sender(PaymentGatewaySimulator(signer=SigningService(backend_keys.payment_gateway),
                                                 verifier=backend_verifier)) as sim:
        yield sim


def _create(backend_keys: BackendKeys, transport: InProcessTransport, url: str) -> HttpResult:
    payload = messages.create_request(ORDER, message_id=str(uuid.uuid4()), sender_id=SENDER_ID,
                                      password=SENDER_PASSWORD, now=dt.datetime.now(dt.UTC))
    body = SigningService(backend_keys.ministry).sign_envelope(build_envelope(payload))
    return transport.request("POST", url, body=body, headers={
        "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:pshep:CreatePaymentOrder"'})


def _pipeline(verifier: VerificationService) -> ResponsePipeline:
    return ResponsePipeline(verifier=verifier, schema=schema_check(answers.PAY_XSD), fault_mapper=map_fault,
                            verify_kwargs={"expect_bin": PSHEP_BIN})


def test_a_signed_call_gets_its_signed_answer_without_a_socket(pshep: PaymentGatewaySimulator,
                                                               backend_keys: BackendKeys,
                                                               backend_verifier: VerificationService) -> None:
    transport = InProcessTransport(router_app(pshep.router))
    result = _create(backend_keys, transport, "http://pshep.test/pshep/")
    assert result.status == 200 and result.url == "http://pshep.test/pshep/" and result.elapsed > 0
    assert result.headers["Content-Length"] == str(len(result.body))
    answer = _pipeline(backend_verifier).process(result, what="CreatePaymentOrder answer")
    assert answer.verified is not None  # the simulator's signature, checked against its BIN
    order = answers.read_order(answer.payload)
    assert order.client_reference == ORDER.client_reference and order.status is PaymentStatus.CREATED
    assert answers.read_created(answer.payload) is True
    entry = pshep.journal.entries()[-1]
    assert (entry.operation, entry.outcome, entry.backend_called) == ("CreatePaymentOrder", "ok", True)


@pytest.mark.parametrize("kind", ["reset", "empty", "garbage", "truncated"])
def test_a_wire_fault_is_the_transport_error_of_its_kind(pshep: PaymentGatewaySimulator, backend_keys: BackendKeys,
                                                         kind: str) -> None:
    pshep.faults.set({"kind": kind, "times": 1})
    transport = InProcessTransport(router_app(pshep.router))
    with pytest.raises(TransportError) as exc:
        _create(backend_keys, transport, "http://pshep.test/pshep/")
    assert exc.value.context == {"kind": kind, "url": "http://pshep.test/pshep/"} and exc.value.retryable
    assert str(exc.value).startswith(f"{kind}: http://pshep.test/pshep/")
    assert pshep.journal.entries()[-1].outcome == f"injected:{kind}"
    assert _create(backend_keys, transport, "http://pshep.test/pshep/").status == 200  # the fault is spent


def test_drip_delivers_the_whole_signed_answer(pshep: PaymentGatewaySimulator, backend_keys: BackendKeys,
                                               backend_verifier: VerificationService) -> None:
    pshep.faults.set({"kind": "drip", "drip_chunk": 16, "drip_interval_ms": 10_000, "times": 1})
    result = _create(backend_keys, InProcessTransport(router_app(pshep.router)), "http://pshep.test/pshep/")
    assert result.status == 200 and result.content_type == "text/xml; charset=utf-8"
    answer = _pipeline(backend_verifier).process(result)
    assert answers.read_order(answer.payload).client_reference == ORDER.client_reference


def _echo(req: Request) -> Response:
    return Response.json({"path": req.path, "query": req.query, "host": req.headers.get("host"),
                          "client": req.client, "body": req.body.decode()})


def test_requests_are_routed_and_refused_as_over_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    router = Router()
    for method in ("GET", "POST", "HEAD"):
        router.add(method, "/echo", _echo)
    transport = InProcessTransport(router_app(router))
    data = transport.request("POST", "http://sim:8080/echo/x?a=1&a=2", body=b"hi").body
    assert data == Response.json({"path": "/echo/x", "query": {"a": ["1", "2"]}, "host": "sim:8080",
                                  "client": "127.0.0.1", "body": "hi"}).body
    own_host = transport.request("GET", "http://sim/echo", headers={"Host": "other"}).body
    assert b'"host": "other"' in own_host
    head = transport.request("HEAD", "http://sim/echo")
    assert head.status == 200 and head.body == b"" and int(head.headers["Content-Length"]) > 0
    assert transport.request("GET", "http://sim/nowhere").status == 404
    assert transport.request("PATCH", "http://sim/echo").status == 501
    monkeypatch.setattr(inprocess, "MAX_BODY_BYTES", 3)
    assert transport.request("POST", "http://sim/echo", body=b"four").status == 413


def test_a_handler_failure_is_a_500_and_a_wire_fault_from_any_handler_is_an_error() -> None:
    router = Router()
    router.add("GET", "/boom", lambda req: 1 / 0)  # type: ignore[arg-type,return-value]
    router.add("GET", "/reset", lambda req: WireFault.reset())
    transport = InProcessTransport(router_app(router))
    boom = transport.request("GET", "http://sim/boom")
    assert boom.status == 500 and b"division by zero" in boom.body
    with pytest.raises(TransportError) as exc:
        transport.request("GET", "http://sim/reset")
    assert exc.value.context["kind"] == "reset"
