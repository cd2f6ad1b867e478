"""NetworkTransport over real loopback servers: what reaches the server, pooling, elapsed time,
no retries or redirects, and every failure kind of the seam's contract."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from adapters.core.errors import ConfigurationError, HttpStatusError, TransportError
from adapters.core.http import NetworkEnvironment, NetworkTransport, StreamedBody, StreamedBodyError, Timeouts
from simulators.common.httpserver import Request, Response, Router, SimServer
from simulators.common.wire_fault import WireFault
from tests.fixtures.loopback import ANSWER, SLOW_BODY_SECONDS, RecordingServer

DIRECT = NetworkEnvironment()
"""No proxy, no CA bundle: these tests do not depend on the machine's environment."""


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with RecordingServer() as recording:
        yield recording


@pytest.fixture
def transport() -> Iterator[NetworkTransport]:
    network = NetworkTransport(environment=DIRECT)
    yield network
    network.close()


def test_headers_and_body_arrive_as_sent(server: RecordingServer, transport: NetworkTransport) -> None:
    result = transport.request("POST", server.url + "/svc?x=1", body=b"<e>1</e>",
                               headers={"Content-Type": "text/xml", "SOAPAction": '"urn:a"', "X-Trace": "t1"})
    assert (result.status, result.body, result.url) == (200, ANSWER, server.url + "/svc?x=1")
    assert result.headers["content-type"] == result.content_type == "text/xml; charset=utf-8"
    [seen] = server.received
    assert (seen.method, seen.target, seen.body) == ("POST", "/svc?x=1", b"<e>1</e>")
    assert seen.header("SOAPAction") == '"urn:a"' and seen.header("X-Trace") == "t1"
    assert seen.header("Content-Type") == "text/xml" and seen.header("Content-Length") == "8"
    assert seen.header("Host") == f"127.0.0.1:{server.port}"
    assert seen.header("Transfer-Encoding") is None and seen.header("Authorization") is None
    empty = transport.request("POST", server.url + "/empty-body", body=b"")
    assert empty.status == 200 and server.received[1].header("Content-Length") == "0"
    transport.request("GET", server.url + "/wsdl?wsdl")
    assert server.received[2].method == "GET" and server.received[2].header("Content-Length") is None


def test_a_streamed_body_is_sent_with_its_exact_length(server: RecordingServer,
                                                       transport: NetworkTransport) -> None:
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        for i, chunk in enumerate([b"abc", b"", b"defg", b"h"]):
            pulled.append(i)
            yield chunk

    body = StreamedBody(8, chunks, name="att")
    assert transport.request("POST", server.url + "/up", body=body).status == 200
    assert transport.request("POST", server.url + "/up", body=body).status == 200  # read again for a resend
    assert transport.request("POST", server.url + "/up", body=StreamedBody(0, lambda: [])).status == 200
    first, second, empty = server.received
    assert first.body == second.body == b"abcdefgh" and pulled == [0, 1, 2, 3] * 2
    assert first.header("Content-Length") == "8" and first.header("Transfer-Encoding") is None
    assert empty.body == b"" and empty.header("Content-Length") == "0"


@pytest.mark.parametrize(("source", "length", "message"), [
    (lambda: [b"abcd"], 3, "more than the declared 3 bytes"),
    (lambda: [b"abc"], 5, "yielded 3 bytes, 5 were declared"),
    (lambda: (b"x" * 70_000 if i == 0 else 1 / 0 for i in range(2)), 100_000, "ZeroDivisionError"),
])
def test_a_streamed_body_that_fails_or_lies_is_a_local_error(server: RecordingServer, transport: NetworkTransport,
                                                             source: Callable[[], list[bytes]], length: int,
                                                             message: str) -> None:
    with pytest.raises(StreamedBodyError, match=message) as exc:
        transport.request("POST", server.url + "/up", body=StreamedBody(length, source, name="scan.pdf"))
    assert exc.value.field == "scan.pdf" and not exc.value.retryable
    assert transport.request("POST", server.url + "/after", body=b"ok").status == 200  # a fresh connection
    # the cut-off request's server thread may record it after the fresh one: find each by its target
    after = [r for r in server.received if r.target.endswith("/after")]
    assert [r.body for r in after] == [b"ok"]
    assert all(len(r.body) < length for r in server.received if not r.target.endswith("/after"))  # never whole


def test_one_pooled_connection_serves_every_call(server: RecordingServer, transport: NetworkTransport) -> None:
    for i in range(20):
        result = transport.request("POST", server.url + "/svc", body=b"<e>%d</e>" % i, headers={"X-N": str(i)})
        assert result.status == 200 and len(result.body) == 2048 and result.elapsed > 0
    assert [r.body for r in server.received] == [b"<e>%d</e>" % i for i in range(20)]
    assert [r.header("X-N") for r in server.received] == [str(i) for i in range(20)]
    assert len({r.client_port for r in server.received}) == 1
    transport.close()  # closing drops the pool; the transport then opens a new connection
    transport.request("GET", server.url + "/again")
    assert server.received[-1].client_port != server.received[0].client_port


def test_more_hosts_than_pools_each_call_still_sent_once(server: RecordingServer) -> None:
    """A direct call goes to its host's pool as the route remembers it; when the manager has closed
    that pool (another host took its place), the call is routed again, sent once."""
    network = NetworkTransport(environment=DIRECT, pools=1)
    try:
        with RecordingServer() as other:
            for target in (server, other, server, other, server):
                assert network.request("POST", target.url + "/svc", body=b"<e/>").status == 200
            assert len(other.received) == 2
        assert [r.target for r in server.received] == ["/svc"] * 3  # each once: none retried, none lost
        assert len({r.client_port for r in server.received}) == 3  # the closed pool's connection is not reused
    finally:
        network.close()


def test_elapsed_ends_with_the_headers(server: RecordingServer, transport: NetworkTransport) -> None:
    start = time.perf_counter()
    result = transport.request("GET", server.url + "/slow-body")
    wall = time.perf_counter() - start
    assert result.body == ANSWER
    assert 0 < result.elapsed < SLOW_BODY_SECONDS <= wall


def test_no_redirect_is_followed_and_statuses_are_returned(server: RecordingServer,
                                                          transport: NetworkTransport) -> None:
    redirect = transport.request("GET", server.url + "/redirect")
    assert (redirect.status, redirect.headers["Location"]) == (302, "/elsewhere")
    assert transport.request("POST", server.url + "/status/500", body=b"x").status == 500
    with pytest.raises(HttpStatusError, match="HTTP 503") as exc:
        transport.request("GET", server.url + "/status/503", raise_for_status=True)
    assert exc.value.retryable
    assert [r.target for r in server.received] == ["/redirect", "/status/500", "/status/503"]


def test_credentials_in_the_url_are_sent_as_basic_auth(server: RecordingServer,
                                                       transport: NetworkTransport) -> None:
    transport.request("POST", f"http://user:p%40ss@127.0.0.1:{server.port}/soap", body=b"<e/>")
    [seen] = server.received
    assert seen.header("Authorization") == "Basic dXNlcjpwQHNz"  # user:p@ss
    assert seen.target == "/soap" and seen.header("Host") == f"127.0.0.1:{server.port}"


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/x", "http:///path-only", "127.0.0.1:8080/x"])
def test_a_url_that_cannot_be_sent_to_is_a_configuration_error(transport: NetworkTransport, url: str) -> None:
    with pytest.raises(ConfigurationError) as exc:
        transport.request("POST", url, body=b"<e/>")
    assert url in str(exc.value) and not exc.value.retryable


def test_timeouts_are_positive(transport: NetworkTransport) -> None:
    with pytest.raises(ConfigurationError):
        transport.request("GET", "http://127.0.0.1:1/", timeout=0)
    with pytest.raises(ConfigurationError):
        Timeouts(connect=5, read=0)
    with pytest.raises(ConfigurationError):
        Timeouts(total=0)
    assert Timeouts(5, 90).for_call(2) == Timeouts(2, 2, 2) and Timeouts(1, 90).for_call(30) == Timeouts(1, 30, 30)
    assert Timeouts(1, 90, 20).for_call(30) == Timeouts(1, 30, 20)  # a call's number never lifts the deadline


# --------------------------------------------------------------------------- failures and their kinds

def _garbage(req: Request) -> WireFault:
    return WireFault.garbage(b"\x00\x17\xffTHIS IS NOT HTTP\r\n\x00\x00garbage")


def _truncated(req: Request) -> WireFault:
    return WireFault.truncated(b"x" * 100)  # announces 100 bytes, sends 50


@pytest.fixture
def faulty() -> Iterator[tuple[str, list[str], threading.Event]]:
    """A server whose paths fail as named; (url, paths served, event releasing /hang)."""
    served: list[str] = []
    release = threading.Event()
    router = Router()

    def hang(req: Request) -> Response:
        release.wait(10)
        return Response.text("late")

    def record(fault: Callable[[Request], Response | WireFault]) -> Callable[[Request], Response | WireFault]:
        def handler(req: Request) -> Response | WireFault:
            served.append(req.path)
            return fault(req)
        return handler

    for path, fault in [("/reset", lambda r: WireFault.reset()), ("/empty", lambda r: WireFault.empty()),
                        ("/garbage", _garbage), ("/truncated", _truncated), ("/hang", hang)]:
        router.add("POST", path, record(fault))
    with SimServer(router, name="faulty") as sim:
        try:
            yield sim.url, served, release
        finally:
            release.set()


@pytest.mark.parametrize(("path", "kind"), [
    ("/reset", "reset"), ("/empty", "empty"), ("/garbage", "garbage"), ("/truncated", "truncated"),
    ("/hang", "read-timeout"),
])
def test_each_failure_has_its_kind_and_is_not_retried(faulty: tuple[str, list[str], threading.Event],
                                                      transport: NetworkTransport, path: str, kind: str) -> None:
    url, served, _ = faulty
    with pytest.raises(TransportError) as exc:
        transport.request("POST", url + path, body=b"<e/>", timeout=Timeouts(2, 0.5))
    assert exc.value.context == {"kind": kind, "url": url + path} and exc.value.retryable
    assert str(exc.value).startswith(f"{kind}: {url}{path}: ")
    assert served == [path]  # one attempt: urllib3 retried nothing


def test_a_streamed_post_cut_off_by_the_server_is_typed(faulty: tuple[str, list[str], threading.Event],
                                                        transport: NetworkTransport) -> None:
    url, _, _ = faulty
    data = b"x" * 600_000
    body = StreamedBody(len(data), lambda: (data[i:i + 65_536] for i in range(0, len(data), 65_536)))
    with pytest.raises(TransportError) as exc:
        transport.request("POST", url + "/reset", body=body)
    assert exc.value.context["kind"] == "reset"


def test_refused_when_no_one_listens(transport: NetworkTransport) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransportError) as exc:
        transport.request("POST", f"http://127.0.0.1:{port}/svc", body=b"<e/>")
    assert exc.value.context["kind"] == "refused"


def test_connect_timeout_when_the_backlog_is_full(transport: NetworkTransport) -> None:
    with socket.socket() as listener, contextlib.ExitStack() as stack:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        stack.enter_context(socket.create_connection(listener.getsockname()))  # fills the backlog
        start = time.perf_counter()
        with pytest.raises(TransportError) as exc:
            transport.request("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=Timeouts(0.3, 5))
        assert time.perf_counter() - start < 3
    assert exc.value.context["kind"] == "connect-timeout"
