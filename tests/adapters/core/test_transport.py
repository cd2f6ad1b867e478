"""SoapTransport: the SOAP headers, User-Agent and timeouts it adds, sent through the HTTP transport it
is given (in-process here) or builds (the network transport, against a real loopback server)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pytest

from adapters.core.errors import ConfigurationError, HttpStatusError, TransportError
from adapters.core.http import HttpResult, InProcessTransport, NetworkTransport, OutgoingRequest, StreamedBody, Timeouts
from adapters.core.transport import PoolConfig, SoapTransport
from simulators.common.httpserver import Request, Response, Router, SimServer
from tests.fixtures.loopback import ANSWER, RecordingServer


@dataclass
class RecordingHttp:
    """An HTTP transport recording each call's arguments; answers 200 ``<ok/>``."""

    calls: list[dict[str, object]] = field(default_factory=list)
    closed: bool = False

    def request(self, method: str, url: str, *, body: bytes | StreamedBody | None = None,
                headers: Mapping[str, str] | None = None, timeout: Timeouts | float | None = None,
                raise_for_status: bool = False, max_bytes: int | None = None) -> HttpResult:
        self.calls.append({"method": method, "url": url, "body": body, "headers": dict(headers or {}),
                           "timeout": timeout, "raise_for_status": raise_for_status, "max_bytes": max_bytes})
        return HttpResult(200, {}, b"<ok/>", url)

    def close(self) -> None:
        self.closed = True


def test_soap_headers_over_the_network(clean_env: pytest.MonkeyPatch) -> None:
    with RecordingServer() as server, SoapTransport() as transport:
        assert isinstance(transport.http, NetworkTransport)
        for i in range(5):
            result = transport.post(server.url + "/svc", b"<e>%d</e>" % i, soap_action="urn:x",
                                    headers={"X-N": str(i)})
            assert result.status == 200 and len(result.body) == 2048 and result.elapsed > 0
        streamed = transport.post(server.url + "/up", StreamedBody(6, lambda: iter([b"abc", b"def"]), name="att"))
        assert streamed.body == ANSWER
        seen = server.received
    assert [r.body for r in seen[:5]] == [b"<e>%d</e>" % i for i in range(5)]
    assert [r.header("X-N") for r in seen[:5]] == [str(i) for i in range(5)]
    assert seen[0].header("SOAPAction") == '"urn:x"' and seen[0].header("User-Agent") == "egov-adapters/0.1"
    assert seen[0].header("Content-Type") == "text/xml; charset=utf-8"
    assert seen[5].body == b"abcdef" and seen[5].header("Content-Length") == "6"
    assert seen[5].header("Transfer-Encoding") is None
    assert len({r.client_port for r in seen}) == 1  # one pooled connection for every call


def test_an_in_process_transport_answers_instead_of_the_network() -> None:
    seen: list[OutgoingRequest] = []

    def app(request: OutgoingRequest) -> HttpResult:
        seen.append(request)
        return HttpResult(500, {"Content-Type": "text/xml"}, b"<mocked/>", request.url)

    with SoapTransport(http=InProcessTransport(app)) as transport:
        result = transport.post("http://svc.example/ws", b"<e/>", soap_action="urn:m")
        assert (result.status, result.body) == (500, b"<mocked/>")  # a Fault's status: not raised unless asked
        with pytest.raises(HttpStatusError, match="HTTP 500"):
            transport.post("http://svc.example/ws", b"<e/>", raise_for_status=True)
        assert transport.get("http://svc.example/ws?wsdl", raise_for_status=False).status == 500
    assert seen[0] == OutgoingRequest("POST", "http://svc.example/ws", {
        "User-Agent": "egov-adapters/0.1", "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:m"'},
        b"<e/>")
    assert (seen[2].method, seen[2].headers) == ("GET", {"User-Agent": "egov-adapters/0.1"})


def test_a_call_header_replaces_a_default_in_any_case() -> None:
    http = RecordingHttp()
    transport = SoapTransport(http=http, pool=PoolConfig(user_agent="ua/1", extra_headers={"X-Env": "test"}))
    transport.post("http://svc/ws", b"<e/>", headers={"user-agent": "other", "content-type": "application/xml"})
    transport.request("PUT", "http://svc/x", headers={"x-env": "prod"})
    assert http.calls[0]["headers"] == {"X-Env": "test", "content-type": "application/xml", "user-agent": "other"}
    assert http.calls[1]["headers"] == {"User-Agent": "ua/1", "x-env": "prod"}


def test_the_call_timeouts_reach_the_http_transport() -> None:
    http = RecordingHttp()
    transport = SoapTransport(timeouts=Timeouts(3, 30), http=http)
    transport.post("http://svc/ws", b"<e/>")
    transport.post("http://svc/ws", b"<e/>", timeout=10)
    transport.post("http://svc/ws", b"<e/>", timeout=1.5)
    transport.get("http://svc/ws", timeout=Timeouts(1, 2))
    assert [c["timeout"] for c in http.calls] == [Timeouts(3, 30), Timeouts(3, 10, 10), Timeouts(1.5, 1.5, 1.5),
                                                  Timeouts(1, 2)]
    assert [c["raise_for_status"] for c in http.calls] == [False, False, False, True]
    with pytest.raises(ConfigurationError):
        transport.post("http://svc/ws", b"<e/>", timeout=0)
    assert len(http.calls) == 4


def test_the_byte_limit_reaches_the_http_transport() -> None:
    http = RecordingHttp()
    transport = SoapTransport(http=http, max_response_bytes=1000)
    transport.post("http://svc/ws", b"<e/>")
    transport.post("http://svc/ws", b"<e/>", max_bytes=5000)
    transport.get("http://svc/ws")
    assert [c["max_bytes"] for c in http.calls] == [1000, 5000, 1000]


def test_a_given_http_transport_is_the_callers_to_close() -> None:
    given = RecordingHttp()
    with SoapTransport(http=given):
        pass
    assert not given.closed


def test_errors_come_out_typed(clean_env: pytest.MonkeyPatch) -> None:
    with SimServer(Router(), name="gone") as sim:
        dead = sim.url
    with SoapTransport() as transport:
        with pytest.raises(TransportError) as refused:
            transport.post(dead + "/svc", b"<e/>")
        assert refused.value.context["kind"] == "refused"
        with pytest.raises(ConfigurationError) as bad_url:  # a setting to fix, not a call to retry
            transport.post("not a url", b"<e/>")
        assert "not a url" in str(bad_url.value)


@pytest.fixture
def cookie_server() -> Iterator[tuple[SimServer, list[Request]]]:
    seen: list[Request] = []
    lock = threading.Lock()
    router = Router()

    def answer(req: Request) -> Response:
        with lock:
            seen.append(req)
        resp = Response.xml(b"<r/>")
        resp.headers["Set-Cookie"] = "sid=abc; Path=/"
        return resp

    router.add("POST", "/", answer)
    with SimServer(router, name="cookies") as sim:
        yield sim, seen


def test_a_cookie_set_by_the_server_is_not_kept(clean_env: pytest.MonkeyPatch,
                                                cookie_server: tuple[SimServer, list[Request]]) -> None:
    """The services are stateless SOAP: the transport keeps no cookie jar."""
    sim, seen = cookie_server
    with SoapTransport() as transport:
        first = transport.post(sim.url + "/cookie", b"<a/>")
        transport.post(sim.url + "/svc", b"<b/>")
    assert first.headers["Set-Cookie"] == "sid=abc; Path=/"
    assert "Cookie" not in seen[0].headers and "Cookie" not in seen[1].headers
