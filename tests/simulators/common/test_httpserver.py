"""The simulators' socket server: HTTP/1.1 by httptools (llhttp), the limits and refusals, wire faults played exactly.

Proves, over real sockets on 127.0.0.1: keep-alive and pipelining (two requests in one write
answered in order, nothing over-read), ``Connection: close`` from either side, HTTP/1.0,
``Expect: 100-continue`` (and a too-large body refused with 413 *before* the 100), chunked request
bodies (and one over the limit refused with 413), HEAD, the one-write small answer and the large
one, 404/500; the limits and refusals (414, 431 for a long line, too many headers or a head over
``MAX_HEAD_BYTES``, 400 for a bad header line, a bad, repeated or conflicting Content-Length, a folded
header line, bare LF line ends, a bad version
or request line, a missing or repeated Host, 501 for an unknown method or transfer coding, 505 for
HTTP/2), each closing the connection, the server serving on; heads that arrive in pieces or do not
fit one read give the same request; a body cut short gets no answer.
Handlers see headers under the client's names, and for any well-formed header block the same
values as ``http.client.parse_headers``. Every :class:`WireFault` kind is played on the socket.

Changed with h11 (each shown by a test below): an HTTP/1.1 request without ``Host`` is refused with
400 (RFC 9112 3.2; the hand-written parser accepted it); HTTP/1.0 connections close after every
answer, ``Connection: keep-alive`` or not (h11 had no HTTP/1.0 keep-alive, kept since); a chunked
body is read (was 501); a transfer coding other than chunked is still 501.

Changed with httptools (llhttp is strict where RFC 9112 lets a server choose, each a test below): a
folded header line is refused with 400 (RFC 9112 5.2 allows it; h11 joined it with a space), so are
line ends of a bare LF (2.2; h11 accepted them) and a ``Content-Length`` repeated with the same value
(RFC 9110 8.6; h11 accepted it).
"""

from __future__ import annotations

import email.utils
import http.client
import io
import json
import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.common import connection
from simulators.common.httpserver import (
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    MAX_HEADERS,
    MAX_LINE_BYTES,
    Request,
    Response,
    Router,
    SimServer,
    WireFault,
)
from simulators.common.wire_fault import GARBAGE

BIG = bytes(range(256)) * 1200  # 307,200 bytes: more than one coalesced write
ANSWER = b"<answer>" + b"x" * 1000 + b"</answer>"


def _echo(req: Request) -> Response:
    return Response.json({
        "method": req.method, "path": req.path, "query": req.query, "headers": dict(req.headers),
        "body": req.body.decode("latin-1"),
        "lookups": {"soapaction": req.headers.get("soapaction"), "x_id": req.headers.get("X-ID", "-"),
                    "has_host": "HOST" in req.headers},
    })


def _boom(req: Request) -> Response:
    raise RuntimeError("simulator bug")


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    router = Router()
    for method in ("GET", "POST", "PUT", "DELETE", "HEAD"):
        router.add(method, "/echo", _echo)
    router.add("GET", "/big", lambda req: Response(200, BIG, {"Content-Type": "application/octet-stream"}))
    router.add("GET", "/close", lambda req: Response(200, b"bye", {"Connection": "close"}))
    router.add("GET", "/boom", _boom)
    router.add("GET", "/bad-header", lambda req: Response(200, b"", {"X-Bad": "line\r\nbreak"}))
    router.add("GET", "/reset", lambda req: WireFault.reset())
    router.add("GET", "/empty", lambda req: WireFault.empty())
    router.add("GET", "/garbage", lambda req: WireFault.garbage(b"NOT HTTP\r\n"))
    router.add("GET", "/garbage-default", lambda req: WireFault.garbage())
    router.add("GET", "/truncated", lambda req: WireFault.truncated(ANSWER))
    router.add("GET", "/drip", lambda req: WireFault.drip(ANSWER, chunk=300, interval=0.05))
    with SimServer(router, name="fast") as sim:
        yield sim


class _Client:
    """A raw socket with a minimal HTTP/1.1 response reader (one buffer, so pipelining works)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self, *, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
        status_line = self.rfile.readline()
        assert status_line.startswith(b"HTTP/1.1 "), status_line
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.lower()] = value.strip()
        length = 0 if head_only or status == 100 else int(headers.get("content-length", "0"))
        return status, headers, self.rfile.read(length)

    def at_eof(self) -> bool:
        return self.rfile.read(1) == b""

    def close(self) -> None:
        self.rfile.close()
        self.sock.close()


@pytest.fixture
def client(server: SimServer) -> Iterator[_Client]:
    c = _Client(server.port)
    yield c
    c.close()


def _post(path: str, body: bytes, *extra: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in extra)
    return (f"POST {path} HTTP/1.1\r\nHost: sim\r\nContent-Length: {len(body)}\r\n{head}\r\n").encode() + body


# --------------------------------------------------------------------------- keep-alive and framing

def test_pipelined_requests_on_one_connection_are_answered_in_order(client: _Client) -> None:
    client.send(_post("/echo?a=1&a=2&b=x#frag", b"first", "SOAPAction: \"urn:a\"")
                + _post("/echo", b"second", "x-id:   42  "))
    status, headers, body = client.response()
    first = json.loads(body)
    assert status == 200 and headers["content-type"].startswith("application/json")
    assert first["path"] == "/echo" and first["query"] == {"a": ["1", "2"], "b": ["x"]}
    assert first["body"] == "first" and first["lookups"]["soapaction"] == '"urn:a"'
    second = json.loads(client.response()[2])
    assert second["body"] == "second" and second["query"] == {}
    assert second["lookups"] == {"soapaction": None, "x_id": "42", "has_host": True}
    assert second["headers"]["x-id"] == "42"  # the client's spelling, value without padding


def test_keep_alive_with_http_client_and_server_headers(server: SimServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for i in range(3):
            conn.request("PUT", f"/echo?i={i}", body=b"x" * i, headers={"Content-Type": "text/plain"})
            resp = conn.getresponse()
            data = json.loads(resp.read())
            assert resp.status == 200 and data["query"] == {"i": [str(i)]} and data["body"] == "x" * i
            assert resp.getheader("Server", "").startswith("egov-sim-fast/1.0 Python/")
            assert email.utils.parsedate_to_datetime(resp.getheader("Date", "")).tzinfo is not None
        assert conn.sock is not None  # still the first connection
    finally:
        conn.close()


def test_connection_close_from_the_client_closes_after_the_answer(client: _Client) -> None:
    client.send(_post("/echo", b"", "Connection: close"))
    assert client.response()[0] == 200
    assert client.at_eof()


def test_connection_close_from_the_handler_closes_after_the_answer(client: _Client) -> None:
    client.send(b"GET /close HTTP/1.1\r\nHost: sim\r\n\r\n")
    status, headers, body = client.response()
    assert (status, headers["connection"], body) == (200, "close", b"bye")
    assert client.at_eof()


@pytest.mark.parametrize("connection_header", ["", "Connection: keep-alive\r\n"])
def test_http_1_0_is_answered_then_closed_even_when_asked_to_keep_alive(client: _Client,
                                                                        connection_header: str) -> None:
    # no HTTP/1.0 keep-alive: the answer says "Connection: close" and the server closes
    client.send(f"GET /echo HTTP/1.0\r\n{connection_header}\r\n".encode())
    status, headers, _ = client.response()
    assert (status, headers["connection"]) == (200, "close")
    assert client.at_eof()


def test_expect_100_continue_then_the_body(client: _Client) -> None:
    client.send(b"POST /echo HTTP/1.1\r\nHost: sim\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    assert client.response()[0] == 100
    client.send(b"hello")
    status, _, body = client.response()
    assert status == 200 and json.loads(body)["body"] == "hello"


def test_too_large_body_is_refused_before_the_100_continue(client: _Client) -> None:
    client.send(f"POST /echo HTTP/1.1\r\nHost: sim\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n"
                "Expect: 100-continue\r\n\r\n".encode())
    status, headers, _ = client.response()
    assert (status, headers["connection"]) == (413, "close")
    assert client.at_eof()


def test_a_chunked_body_is_read_and_the_connection_kept(client: _Client) -> None:
    client.send(b"POST /echo HTTP/1.1\r\nHost: sim\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n" + _post("/echo", b"next"))
    status, _, body = client.response()
    assert status == 200 and json.loads(body)["body"] == "abcdefg"
    assert json.loads(client.response()[2])["body"] == "next"


def test_a_chunked_body_over_the_limit_is_refused(client: _Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection, "MAX_BODY_BYTES", 10)
    client.send(b"POST /echo HTTP/1.1\r\nHost: sim\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
    status, headers, _ = client.response()
    assert (status, headers["connection"]) == (413, "close")
    assert client.at_eof()


def test_head_answers_the_length_without_the_body_and_keeps_the_connection(client: _Client) -> None:
    client.send(b"HEAD /echo HTTP/1.1\r\nHost: sim\r\n\r\nGET /echo HTTP/1.1\r\nHost: sim\r\n\r\n")
    status, headers, body = client.response(head_only=True)
    assert status == 200 and int(headers["content-length"]) > 0 and body == b""
    status, _, body = client.response()
    assert status == 200 and json.loads(body)["method"] == "GET"


def test_a_large_answer_arrives_whole(client: _Client) -> None:
    client.send(b"GET /big HTTP/1.1\r\nHost: sim\r\n\r\n" b"GET /echo HTTP/1.1\r\nHost: sim\r\n\r\n")
    status, headers, body = client.response()
    assert status == 200 and int(headers["content-length"]) == len(BIG) and body == BIG
    assert client.response()[0] == 200


def test_a_small_answer_is_one_write() -> None:
    sent: list[bytes] = []

    class Recording:
        def __init__(self, sock: socket.socket) -> None:
            self._sock = sock

        def sendall(self, data: bytes) -> None:
            sent.append(data)
            self._sock.sendall(data)

        def __getattr__(self, name: str) -> object:
            return getattr(self._sock, name)

    left, right = socket.socketpair()
    try:
        router = Router()
        router.add("GET", "/echo", _echo)
        left.sendall(b"GET /echo HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n")
        connection.HttpConnection(Recording(right), "local", router, server="s").serve()  # type: ignore[arg-type]
        assert len(sent) == 1 and sent[0].startswith(b"HTTP/1.1 200 OK\r\n") and sent[0].endswith(b"}")
    finally:
        left.close()
        right.close()


def test_unknown_route_and_handler_failure_keep_the_connection(client: _Client) -> None:
    client.send(b"GET /nowhere HTTP/1.1\r\nHost: sim\r\n\r\nGET /boom HTTP/1.1\r\nHost: sim\r\n\r\n"
                b"GET /echo HTTP/1.1\r\nHost: sim\r\n\r\n")
    status, _, body = client.response()
    assert status == 404 and body == b"no route for GET /nowhere"
    status, _, body = client.response()
    assert status == 500 and b"simulator bug" in body
    assert client.response()[0] == 200


def test_an_answer_http_cannot_carry_is_a_500_and_a_close(client: _Client) -> None:
    client.send(b"GET /bad-header HTTP/1.1\r\nHost: sim\r\n\r\n")
    status, headers, body = client.response()
    assert (status, headers["connection"]) == (500, "close") and b"internal simulator error" in body
    assert client.at_eof()


def test_a_body_cut_short_gets_no_answer(client: _Client) -> None:
    client.send(b"POST /echo HTTP/1.1\r\nHost: sim\r\nContent-Length: 10\r\n\r\nshort")
    client.sock.shutdown(socket.SHUT_WR)
    assert client.at_eof()


# --------------------------------------------------------------------------- wire faults on the socket

def test_reset_is_an_rst(server: SimServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/reset")
        with pytest.raises(ConnectionResetError) as exc:
            conn.getresponse()
        assert not isinstance(exc.value, http.client.RemoteDisconnected)  # RST, not a FIN
    finally:
        conn.close()


def test_empty_closes_without_a_byte(client: _Client, server: SimServer) -> None:
    client.send(b"GET /empty HTTP/1.1\r\nHost: sim\r\n\r\n")
    assert client.rfile.read() == b""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/empty")
        with pytest.raises(http.client.RemoteDisconnected):
            conn.getresponse()
    finally:
        conn.close()


@pytest.mark.parametrize(("path", "sent"), [("/garbage", b"NOT HTTP\r\n"), ("/garbage-default", GARBAGE)])
def test_garbage_sends_its_bytes_then_closes(client: _Client, path: str, sent: bytes) -> None:
    client.send(f"GET {path} HTTP/1.1\r\nHost: sim\r\n\r\n".encode())
    assert client.rfile.read() == sent


def test_truncated_announces_the_whole_body_and_sends_half(server: SimServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/truncated")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Length") == str(len(ANSWER))
        assert resp.getheader("Content-Type") == "text/xml; charset=utf-8"
        with pytest.raises(http.client.IncompleteRead) as exc:
            resp.read()
        assert exc.value.partial == ANSWER[: len(ANSWER) // 2]
    finally:
        conn.close()


def test_drip_sends_the_body_in_chunks_with_pauses_then_closes(client: _Client) -> None:
    started = time.monotonic()
    client.send(b"GET /drip HTTP/1.1\r\nHost: sim\r\n\r\n")
    status, headers, body = client.response()
    elapsed = time.monotonic() - started
    assert status == 200 and headers["connection"] == "close" and body == ANSWER
    assert elapsed >= 3 * 0.05  # four chunks of 300 bytes, three pauses
    assert client.at_eof()


# --------------------------------------------------------------------------- heads in pieces

def test_a_head_arriving_in_pieces_gives_the_same_request(server: SimServer) -> None:
    request = _post("/echo?q=1", b"payload", "SOAPAction: urn:x", "X-Id: 7")
    whole = _Client(server.port)
    pieces = _Client(server.port)
    try:
        whole.send(request)
        expected = whole.response()[2]
        for cut in (5, 30, len(request) - 12, len(request) - 8):  # in the line, at and after the head's end
            pieces.send(request[:cut])
            time.sleep(0.02)  # lets the server read the first piece on its own
            pieces.send(request[cut:])
            assert pieces.response()[2] == expected
    finally:
        whole.close()
        pieces.close()


def test_a_head_larger_than_one_read(client: _Client) -> None:
    client.send(_post("/echo", b"b", "X-Large: " + "v" * 20_000, "X-Id: 1"))
    data = json.loads(client.response()[2])
    assert data["headers"]["X-Large"] == "v" * 20_000 and data["lookups"]["x_id"] == "1"


def test_a_repeated_header_keeps_its_last_value_whatever_the_case(client: _Client) -> None:
    client.send(_post("/echo", b"", "X-Id: 1", "x-id: 2"))
    data = json.loads(client.response()[2])
    assert data["lookups"]["x_id"] == "2" and data["headers"]["x-id"] == "2" and "X-Id" not in data["headers"]


def test_exactly_the_header_limit_is_accepted(client: _Client) -> None:
    lines = [f"X-H{i}: {i}" for i in range(MAX_HEADERS - 2)]
    client.send(_post("/echo", b"", *lines))  # with Host and Content-Length: MAX_HEADERS lines
    assert json.loads(client.response()[2])["headers"][f"X-H{MAX_HEADERS - 3}"] == str(MAX_HEADERS - 3)


# --------------------------------------------------------------------------- refusals

HOST = b"Host: sim\r\n"

REFUSED = [
    pytest.param(b"GET /" + b"a" * MAX_LINE_BYTES + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414,
                 id="request line too long"),
    pytest.param(b"GET /" + b"a" * MAX_HEAD_BYTES + b" HTTP/1.1\r\n" + HOST + b"\r\n", 414,
                 id="request line over the head limit"),
    pytest.param(b"GET /echo HTTP/1.1\r\n" + HOST + b"X-Long: " + b"a" * MAX_LINE_BYTES + b"\r\n\r\n", 431,
                 id="header line too long"),
    pytest.param(b"GET /echo HTTP/1.1\r\n" + HOST + b"".join(b"X-H%d: 1\r\n" % i for i in range(MAX_HEADERS))
                 + b"\r\n", 431, id="too many headers"),
    pytest.param(b"GET /echo HTTP/1.1\r\n" + HOST + b"".join(b"X-H%d: %s\r\n" % (i, b"a" * 60_000)
                                                             for i in range(5)) + b"\r\n", 431,
                 id="head over the limit"),
    pytest.param(b"GET /echo HTTP/1.1\r\n" + HOST + b"no colon here\r\n\r\n", 400, id="no colon"),
    pytest.param(b"GET /echo HTTP/1.1\r\n" + HOST + b"X-A : 1\r\n\r\n", 400, id="space before colon"),
    pytest.param(b"GET /echo HTTP/1.1\r\n" + HOST + b": empty name\r\n\r\n", 400, id="empty name"),
    pytest.param(b"GET /echo HTTP/1.1\r\n  folded first\r\n" + HOST + b"\r\n", 400, id="folded first line"),
    pytest.param(b"POST /echo HTTP/1.1\r\n" + HOST + b"Content-Length: abc\r\n\r\n", 400, id="length not a number"),
    pytest.param(b"POST /echo HTTP/1.1\r\n" + HOST + b"Content-Length: -5\r\n\r\n", 400, id="negative length"),
    pytest.param(b"POST /echo HTTP/1.1\r\n" + HOST + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
                 id="conflicting lengths"),
    pytest.param(b"POST /echo HTTP/1.1\r\n" + HOST + b"Content-Length: 3\r\ncontent-length: 3\r\n\r\nabc", 400,
                 id="repeated length"),
    pytest.param(b"GET /echo HTTP/1.1\r\n" + HOST + b"X-Id: 1\r\n  continued\r\n\r\n", 400, id="folded line"),
    pytest.param(b"POST /echo HTTP/1.1\nHost: sim\nContent-Length: 2\n\nok", 400, id="bare LF line ends"),
    pytest.param(b"GET /echo HTTP/1.1\r\n\r\n", 400, id="HTTP/1.1 without Host"),
    pytest.param(b"GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, id="two Hosts"),
    pytest.param(b"POST /echo HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip\r\n\r\n", 501,
                 id="transfer coding other than chunked"),
    pytest.param(b"PATCH /echo HTTP/1.1\r\n" + HOST + b"\r\n", 501, id="unknown method"),
    pytest.param(b"BREW /echo HTTP/1.1\r\n" + HOST + b"\r\n", 501, id="method the parser does not know"),
    pytest.param(b"GET /echo HTTP/2.0\r\n\r\n", 505, id="HTTP/2"),
    pytest.param(b"GET /echo HTTP/x\r\n" + HOST + b"\r\n", 400, id="bad version"),
    pytest.param(b"GET /echo\r\n\r\n", 400, id="HTTP/0.9"),
    pytest.param(b"GET /echo HTTP/1.1 extra\r\n" + HOST + b"\r\n", 400, id="four words"),
]


@pytest.mark.parametrize(("request_bytes", "status"), REFUSED)
def test_bad_requests_are_refused_and_the_connection_closed(client: _Client, request_bytes: bytes,
                                                            status: int) -> None:
    client.send(request_bytes)
    got, headers, _ = client.response()
    assert (got, headers["connection"]) == (status, "close")
    assert client.at_eof()


def test_requests_before_a_refused_one_in_the_same_write_are_answered_first(client: _Client) -> None:
    client.send(_post("/echo", b"first") + b"GET /echo HTTP/1.1\r\n\r\n")  # the second has no Host
    status, _, body = client.response()
    assert status == 200 and json.loads(body)["body"] == "first"
    status, headers, _ = client.response()
    assert (status, headers["connection"]) == (400, "close")
    assert client.at_eof()


def test_an_upgrade_request_is_answered_as_http_then_the_connection_closed(client: _Client) -> None:
    client.send(b"GET /echo HTTP/1.1\r\nHost: sim\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
                b"not HTTP any more")
    status, _, body = client.response()
    assert status == 200 and json.loads(body)["method"] == "GET"
    assert client.at_eof()


def test_the_server_keeps_serving_after_refusals(server: SimServer) -> None:
    for request_bytes in (b"GET /echo HTTP/1.1\r\nHost: sim\r\nX-A : 1\r\n\r\n", b"\x00\x17\xffgarbage\r\n\r\n"):
        bad = _Client(server.port)
        try:
            bad.send(request_bytes)
            assert bad.response()[0] == 400
        finally:
            bad.close()
    good = _Client(server.port)
    try:
        good.send(b"GET /echo HTTP/1.1\r\nHost: sim\r\n\r\n")
        assert good.response()[0] == 200
    finally:
        good.close()


# --------------------------------------------------------------------------- headers against the stdlib

_NAMES = st.text(alphabet="!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                 min_size=1, max_size=20)
_VALUES = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                  max_size=40).map(str.strip)
_FRAMING = ("content-length", "transfer-encoding", "host", "connection", "expect")
"""Names whose value would change the exchange itself, left out of the generated blocks."""


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_NAMES, _VALUES, st.sampled_from(["", " ", "  ", "\t"]),
                          st.sampled_from(["", " ", "\t "])), max_size=12))
def test_handlers_see_what_the_stdlib_reads(server: SimServer, lines: list[tuple[str, str, str, str]]) -> None:
    lines = [line for line in lines if line[0].lower() not in _FRAMING]
    block = "".join(f"{name}:{pad}{value}{trail}\r\n" for name, value, pad, trail in lines).encode("latin-1")
    block += b"\r\n"
    oracle = http.client.parse_headers(io.BufferedReader(io.BytesIO(block)))
    c = _Client(server.port)
    try:
        # a second request in the same write: exactly the first head is consumed
        c.send(b"GET /echo HTTP/1.1\r\nHost: sim\r\n" + block + b"GET /echo?next=1 HTTP/1.1\r\nHost: sim\r\n\r\n")
        headers = {name.lower(): value for name, value in json.loads(c.response()[2])["headers"].items()}
        assert json.loads(c.response()[2])["query"] == {"next": ["1"]}
    finally:
        c.close()
    for name in {name for name, *_ in lines}:
        # trailing blanks are no part of a value (RFC 9110 5.5); the stdlib keeps them
        expected = (oracle.get_all(name) or [""])[-1].rstrip(" \t")
        assert headers[name.lower()] == expected
    assert len(headers) == len({name.lower() for name, *_ in lines}) + 1  # and Host
