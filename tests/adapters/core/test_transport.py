"""SoapTransport's planned send path prepares and sends exactly what ``Session.request`` would.

The transport skips ``Session.request`` (its per-call merging) and sends a request prepared from a
per-URL plan through the mounted adapter's ``send``. These tests compare, request by request, what
reaches the adapter on both paths, and check the planned path against a real server (bodies,
pooling, cookies, errors), against ``responses`` (which patches ``HTTPAdapter.send``) and in the
bank of the simulator landscape.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from requests.adapters import BaseAdapter

from adapters.core.errors import TransportError
from adapters.core.transport import EnvironmentSession, PlannedAdapter, SoapTransport, StreamedBody
from harness.landscape import HttpBank
from simulators.common.httpserver import Request, Response, Router, SimServer


class RecordingAdapter(BaseAdapter):
    """Records what it is asked to send and answers 200 without a network."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        body = request.body
        self.sent.append({
            "method": request.method, "url": request.url, "headers": list(request.headers.items()),
            "body": b"".join(body) if isinstance(body, StreamedBody) else body,
            "kwargs": {"stream": stream, "timeout": timeout, "verify": verify, "cert": cert,
                       "proxies": dict(proxies or {})},
        })
        resp = requests.Response()
        resp.status_code = 200
        resp._content = b"<ok/>"
        resp.request = request
        return resp

    def close(self) -> None:
        pass


def _both_paths(transport: SoapTransport, method: str, url: str, **kwargs: Any) -> tuple[Any, Any]:
    """(what the planned path sent, what Session.request sent) for one call."""
    recorder = RecordingAdapter()
    transport.session.mount("http://", recorder)
    transport.session.mount("https://", recorder)
    transport.request(method, url, **kwargs)
    body = kwargs.get("body")
    headers = kwargs.get("headers")
    transport.session.request(method, url, data=body, headers=dict(headers or {}),
                              timeout=transport.timeouts.as_tuple(), allow_redirects=False)
    assert len(recorder.sent) == 2
    return recorder.sent[0], recorder.sent[1]


CASES = [
    ("POST", "http://127.0.0.1:8080/elicense/ws", {"body": b"<e/>", "headers": {"SOAPAction": '"urn:a"'}}),
    ("POST", "http://example.org/a b?x=1&y=%20", {"body": b"", "headers": {"X-Trace": "t1"}}),
    ("POST", "https://user:p%40ss@example.org/soap", {"body": b"<e/>"}),
    ("GET", "http://bücher.example/wsdl?wsdl", {}),
    ("POST", "http://example.org/x", {"body": b"x", "headers": {"Accept-Encoding": None,
                                                               "user-agent": "other"}}),
    ("POST", "http://example.org/up", {"body": StreamedBody(5, lambda: iter([b"ab", b"cde"]), name="f")}),
]


@pytest.mark.parametrize("env", [{}, {"HTTP_PROXY": "http://proxy:3128", "NO_PROXY": "127.0.0.1"},
                                 {"HTTPS_PROXY": "http://sproxy:3129", "REQUESTS_CA_BUNDLE": "/etc/ca.pem"}])
@pytest.mark.parametrize(("method", "url", "kwargs"), CASES)
def test_planned_path_sends_what_session_request_sends(clean_env: pytest.MonkeyPatch, env: dict[str, str],
                                                       method: str, url: str, kwargs: dict[str, Any]) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    transport = SoapTransport()
    for _ in range(2):  # the second time from the cached plan and headers
        planned, plain = _both_paths(transport, method, url, **kwargs)
        assert planned == plain
    transport.close()


def test_session_changes_after_the_first_call_are_seen(clean_env: pytest.MonkeyPatch) -> None:
    transport = SoapTransport()
    url = "http://example.org/svc"
    _both_paths(transport, "POST", url, body=b"a")
    transport.zeep_transport()  # zeep sets its own User-Agent on the shared session
    transport.session.verify = False
    transport.session.proxies = {"http": "http://explicit:8080"}
    planned, plain = _both_paths(transport, "POST", url, body=b"a")
    assert planned == plain
    assert dict(planned["headers"])["User-Agent"].startswith("Zeep/")
    assert planned["kwargs"]["verify"] is False and planned["kwargs"]["proxies"] == {"http": "http://explicit:8080"}
    transport.close()


@pytest.fixture
def echo_server() -> Iterator[tuple[SimServer, list[Request]]]:
    seen: list[Request] = []
    lock = threading.Lock()
    router = Router()

    def echo(req: Request) -> Response:
        with lock:
            seen.append(req)
        resp = Response.xml(b"<r>" + b"x" * 2041 + b"</r>")
        if req.path.endswith("/cookie"):
            resp.headers["Set-Cookie"] = "sid=abc; Path=/"
        return resp

    router.add("POST", "/", echo)
    router.add("GET", "/", echo)
    with SimServer(router, name="echo") as sim:
        yield sim, seen


def test_planned_path_against_a_real_server(clean_env: pytest.MonkeyPatch,
                                            echo_server: tuple[SimServer, list[Request]]) -> None:
    sim, seen = echo_server
    with SoapTransport() as transport:
        assert isinstance(transport.session, EnvironmentSession)
        assert isinstance(transport.session.get_adapter(sim.url), PlannedAdapter)
        for i in range(5):
            result = transport.post(sim.url + "/svc", b"<e>%d</e>" % i, soap_action="urn:x",
                                    headers={"X-N": str(i)})
            assert result.status == 200 and len(result.body) == 2048 and result.elapsed > 0
        streamed = transport.post(sim.url + "/up", StreamedBody(6, lambda: iter([b"abc", b"def"]), name="att"))
        assert streamed.status == 200
    assert [r.body for r in seen[:5]] == [b"<e>%d</e>" % i for i in range(5)]
    assert [r.headers["X-N"] for r in seen[:5]] == [str(i) for i in range(5)]
    assert seen[0].headers["SOAPAction"] == '"urn:x"' and seen[0].headers["User-Agent"] == "egov-adapters/0.1"
    assert seen[5].body == b"abcdef" and seen[5].headers["Content-Length"] == "6"
    assert "Transfer-Encoding" not in seen[5].headers
    assert len({r.client for r in seen}) == 1  # one pooled connection for every call


def test_a_cookie_set_by_the_server_is_sent_back(clean_env: pytest.MonkeyPatch,
                                                 echo_server: tuple[SimServer, list[Request]]) -> None:
    sim, seen = echo_server
    with SoapTransport() as transport:
        transport.post(sim.url + "/cookie", b"<a/>")
        assert transport.session.cookies.get("sid") == "abc"
        transport.post(sim.url + "/svc", b"<b/>")
    assert "Cookie" not in seen[0].headers
    assert seen[1].headers["Cookie"] == "sid=abc"


def test_errors_are_translated_on_the_planned_path(clean_env: pytest.MonkeyPatch) -> None:
    with SimServer(Router(), name="gone") as sim:
        dead = sim.url
    with SoapTransport() as transport:
        with pytest.raises(TransportError) as refused:
            transport.post(dead + "/svc", b"<e/>")
        assert refused.value.context["kind"] == "refused"
        with pytest.raises(TransportError) as bad_url:
            transport.post("not a url", b"<e/>")
        assert "not a url" in str(bad_url.value)


def test_responses_still_intercepts_the_planned_path(clean_env: pytest.MonkeyPatch) -> None:
    with responses.RequestsMock() as mocked, SoapTransport() as transport:
        mocked.add(responses.POST, "http://svc.example/ws", body=b"<mocked/>", status=500)
        result = transport.post("http://svc.example/ws", b"<e/>", soap_action="urn:m")
        assert (result.status, result.body) == (500, b"<mocked/>")
        assert mocked.calls[0].request.headers["SOAPAction"] == '"urn:m"'
        assert mocked.calls[0].request.body == b"<e/>"


def test_the_bank_reuses_one_connection(clean_env: pytest.MonkeyPatch) -> None:
    seen: list[Request] = []
    router = Router()

    def control(req: Request) -> Response:
        seen.append(req)
        return Response.json({"ok": True})

    router.add("POST", "/_control/payments", control)
    with SimServer(router, name="bank") as sim:
        bank = HttpBank(sim.url + "/_control")
        bank.pay("o-1")
        bank.decline("o-2", "insufficient funds")
        bank.pay("o-3")
    assert [r.path for r in seen] == ["/_control/payments/o-1/pay", "/_control/payments/o-2/reject",
                                      "/_control/payments/o-3/pay"]
    assert seen[1].json() == {"reason": "insufficient funds"}
    assert len({r.client for r in seen}) == 1
