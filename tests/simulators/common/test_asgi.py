"""``asgi_app``: a real simulator under uvicorn (127.0.0.1, a free port, in a thread): a signed call
by the adapter's client and its verified answer, a clean stop; each wire fault as the module
docstring maps it, seen through the adapters' transport; refusals as on the socket server."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
import uvicorn

from adapters.core.errors import TransportError
from adapters.core.resilience import ResilientCaller, RetryPolicy
from adapters.core.transport import SoapTransport
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.payment_gateway import Payer, PaymentGatewayClient, PaymentOrderRequest, PaymentStatus
from simulators.common import asgi
from simulators.common.asgi import ASGIApp, asgi_app
from simulators.common.httpserver import Request, Response, Router
from simulators.payment_gateway import PaymentGatewaySimulator
from tests.fixtures.backends import PSHEP_BIN, SENDER_PASSWORD, BackendKeys, with_our_sender

ORDER = PaymentOrderRequest(client_reference="app-asgi-fee", payer=Payer(iin_bin="950341000052", name="Арман"),
                            amount=Decimal("16180.00"), application_reference="12009269")


@contextmanager
def _uvicorn(app: ASGIApp) -> Iterator[str]:
    """``app`` served by uvicorn (its h11 protocol) on 127.0.0.1 and a free port, in a thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, http="h11", lifespan="on", log_level="critical",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
    assert not thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
def pshep(backend_keys: BackendKeys, backend_verifier: VerificationService) -> Iterator[PaymentGatewaySimulator]:
    """The payment gateway simulator; its router is served by uvicorn (its own server runs, untouched)."""
    with with_our_sender(PaymentGatewaySimulator(signer=SigningService(backend_keys.payment_gateway),
                                                 verifier=backend_verifier)) as sim:
        yield sim


def test_a_signed_call_through_uvicorn_and_a_clean_stop(pshep: PaymentGatewaySimulator, backend_keys: BackendKeys,
                                                       backend_verifier: VerificationService) -> None:
    with _uvicorn(asgi_app(pshep.router)) as url:
        client = PaymentGatewayClient(f"{url}/pshep/", signer=SigningService(backend_keys.ministry),
                                      verifier=backend_verifier, expect_gateway_bin=PSHEP_BIN,
                                      sender_password=SENDER_PASSWORD, caller=ResilientCaller(RetryPolicy.no_retry()))
        try:
            outcome = client.create_order(ORDER)  # signed request, answer verified against PSHEP_BIN
            assert outcome.created and outcome.order.status is PaymentStatus.CREATED
            again = client.get_status(outcome.order.order_id)
            assert again.client_reference == ORDER.client_reference
        finally:
            client.close()
    operations = [(e.operation, e.outcome) for e in pshep.journal.entries()]
    assert operations == [("CreatePaymentOrder", "ok"), ("GetPaymentStatus", "ok")]


@pytest.mark.parametrize("kind", ["reset", "empty", "garbage", "truncated"])
def test_a_wire_fault_reaches_the_client_as_a_truncated_answer(pshep: PaymentGatewaySimulator, kind: str) -> None:
    pshep.faults.set({"kind": kind, "times": 1})
    with _uvicorn(asgi_app(pshep.router)) as url, SoapTransport() as transport:
        with pytest.raises(TransportError) as exc:
            transport.post(f"{url}/pshep/", b"<x/>", soap_action="urn:pshep:GetPaymentStatus")
        assert exc.value.context["kind"] == "truncated" and exc.value.retryable
        after = transport.post(f"{url}/pshep/", b"<x/>", soap_action="urn:pshep:GetPaymentStatus")
        assert after.status == 500 and b"<soap:Fault>" in after.body  # the fault is spent; the server serves on
    assert pshep.journal.entries()[0].outcome == f"injected:{kind}"


def test_drip_streams_the_whole_answer_with_pauses(pshep: PaymentGatewaySimulator) -> None:
    pshep.faults.set({"kind": "drip", "drip_chunk": 200, "drip_interval_ms": 50, "times": 1})
    with _uvicorn(asgi_app(pshep.router)) as url, SoapTransport() as transport:
        started = time.monotonic()
        dripped = transport.post(f"{url}/pshep/", b"<x/>")
        elapsed = time.monotonic() - started
        plain = transport.post(f"{url}/pshep/", b"<x/>")
    assert dripped.status == 200 and dripped.headers["connection"] == "close"
    # the processed answer (a Fault: the request is unsigned), whole, in three chunks or more
    assert len(dripped.body) > 2 * 200 and plain.status == 500
    assert re.sub(rb"<pay:errorDate>[^<]*", b"", dripped.body) == re.sub(rb"<pay:errorDate>[^<]*", b"", plain.body)
    assert elapsed >= 2 * 0.05


def _echo(req: Request) -> Response:
    return Response.json({"path": req.path, "query": req.query, "host": req.headers.get("HOST"),
                          "body": req.body.decode(), "client": req.client})


def test_requests_are_routed_and_refused_as_on_the_socket_server(monkeypatch: pytest.MonkeyPatch) -> None:
    router = Router()
    router.add("POST", "/echo", _echo)
    router.add("GET", "/echo", _echo)
    monkeypatch.setattr(asgi, "MAX_BODY_BYTES", 10)
    with _uvicorn(asgi_app(router)) as url, SoapTransport() as transport:
        echoed = transport.post(f"{url}/echo/a%20b?x=1&x=2", b"hello").body
        assert echoed == Response.json({"path": "/echo/a%20b", "query": {"x": ["1", "2"]},
                                        "host": url.removeprefix("http://"), "body": "hello",
                                        "client": "127.0.0.1"}).body
        assert transport.get(f"{url}/nowhere", raise_for_status=False).status == 404
        assert transport.request("PATCH", f"{url}/echo").status == 501
        assert transport.post(f"{url}/echo", b"x" * 11).status == 413


def _call(app: ASGIApp, scope: dict[str, object], incoming: list[dict[str, object]]) -> list[dict[str, object]]:
    """The messages ``app`` sends for one scope, given what it receives (no server)."""
    sent: list[dict[str, object]] = []
    queue = list(incoming)

    async def receive() -> dict[str, object]:
        return queue.pop(0)

    async def send(message: dict[str, object]) -> None:
        sent.append(dict(message))

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return sent


def test_lifespan_is_acknowledged_and_websockets_refused() -> None:
    app = asgi_app(Router())
    assert _call(app, {"type": "lifespan"}, [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]) == [
        {"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    assert _call(app, {"type": "websocket", "path": "/"}, [{"type": "websocket.connect"}]) == [
        {"type": "websocket.close", "code": 1000}]
    with pytest.raises(ValueError, match="unsupported ASGI scope type 'telepathy'"):
        _call(app, {"type": "telepathy"}, [])


def test_a_client_gone_before_its_body_gets_no_answer_and_the_handler_is_not_called() -> None:
    called: list[Request] = []
    router = Router()
    router.add("POST", "/", lambda req: called.append(req) or Response())  # type: ignore[func-returns-value]
    scope = {"type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
             "headers": [(b"content-length", b"10")], "client": ("127.0.0.1", 1)}
    sent = _call(asgi_app(router), scope, [{"type": "http.request", "body": b"12345", "more_body": True},
                                           {"type": "http.disconnect"}])
    assert sent == [] and called == []
    sent = _call(asgi_app(router), scope, [{"type": "http.request", "body": b"1234567890", "more_body": False}])
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert called[0].body == b"1234567890"
