"""The simulators' HTTP server with its lean request-head parser (issue 6e).

Proves, over real sockets on 127.0.0.1: keep-alive and pipelining (two requests in one write
answered in order, nothing over-read), ``Connection: close`` from either side, HTTP/1.0 defaults,
``Expect: 100-continue`` (and a too-large body refused with 413 *before* the 100), HEAD, the
one-write small answer and the large one, 404/500; the limits and refusals of the standard
library's server (414, 431 for a long line or too many headers, 400 for a folded line, a bad header
line, a bad or conflicting Content-Length, a bad version or request line, 501 for an unknown
method or ``Transfer-Encoding``, 505 for HTTP/2), each closing the connection, the server serving
on; heads that arrive in pieces, do not fit the read buffer or end lines with a bare LF give the
same request; a body cut short gets no answer. Handlers see headers under the client's names,
looked up in any case (:class:`Headers` against a lower-case model), and the parsed head equals
``http.client.parse_headers``'s for any well-formed block. Raw-socket faults still work.
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

from simulators.common import httpserver
from simulators.common.httpserver import (
    MAX_BODY_BYTES,
    MAX_HEADERS,
    MAX_LINE_BYTES,
    Headers,
    Request,
    Response,
    Router,
    SimServer,
)

BIG = bytes(range(256)) * 1200  # 307,200 bytes: more than one coalesced write


def _echo(req: Request) -> Response:
    return Response.json({
        "method": req.method, "path": req.path, "query": req.query, "headers": dict(req.headers),
        "body": req.body.decode("latin-1"),
        "lookups": {"soapaction": req.headers.get("soapaction"), "x_id": req.headers.get("X-ID", "-"),
                    "has_host": "HOST" in req.headers},
    })


def _boom(req: Request) -> Response:
    raise RuntimeError("simulator bug")


def _reset(req: Request) -> None:
    req.raw.reset()


def _garbage(req: Request) -> None:
    req.raw.write(b"NOT HTTP\r\n")
    req.raw.close()


@pytest.fixture(scope="module")
def server() -> Iterator[SimServer]:
    router = Router()
    for method in ("GET", "POST", "PUT", "DELETE", "HEAD"):
        router.add(method, "/echo", _echo)
    router.add("GET", "/big", lambda req: Response(200, BIG, {"Content-Type": "application/octet-stream"}))
    router.add("GET", "/close", lambda req: Response(200, b"bye", {"Connection": "close"}))
    router.add("GET", "/boom", _boom)
    router.add("GET", "/reset", _reset)
    router.add("GET", "/garbage", _garbage)
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


@pytest.mark.parametrize(("connection", "stays_open"), [("", False), ("Connection: keep-alive\r\n", True)])
def test_http_1_0_closes_unless_asked_to_keep_alive(client: _Client, connection: str, stays_open: bool) -> None:
    client.send(f"GET /echo HTTP/1.0\r\n{connection}\r\n".encode())
    assert client.response()[0] == 200
    if stays_open:
        client.send(b"GET /echo HTTP/1.0\r\n\r\n")
        assert client.response()[0] == 200
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


def test_unknown_route_and_handler_failure_keep_the_connection(client: _Client) -> None:
    client.send(b"GET /nowhere HTTP/1.1\r\n\r\nGET /boom HTTP/1.1\r\n\r\nGET /echo HTTP/1.1\r\n\r\n")
    status, _, body = client.response()
    assert status == 404 and body == b"no route for GET /nowhere"
    status, _, body = client.response()
    assert status == 500 and b"simulator bug" in body
    assert client.response()[0] == 200


def test_a_body_cut_short_gets_no_answer(client: _Client) -> None:
    client.send(b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort")
    client.sock.shutdown(socket.SHUT_WR)
    assert client.at_eof()


def test_raw_faults_still_take_over_the_socket(server: SimServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/reset")
        with pytest.raises(ConnectionResetError):
            conn.getresponse()
    finally:
        conn.close()
    raw = _Client(server.port)
    try:
        raw.send(b"GET /garbage HTTP/1.1\r\n\r\n")
        assert raw.rfile.read() == b"NOT HTTP\r\n"
    finally:
        raw.close()


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


def test_a_head_larger_than_the_read_buffer(client: _Client) -> None:
    client.send(_post("/echo", b"b", "X-Large: " + "v" * 20_000, "X-Id: 1"))
    data = json.loads(client.response()[2])
    assert data["headers"]["X-Large"] == "v" * 20_000 and data["lookups"]["x_id"] == "1"


def test_bare_lf_line_ends_are_accepted(client: _Client) -> None:
    client.send(b"POST /echo HTTP/1.1\nX-Id: 5\nContent-Length: 2\n\nok")
    data = json.loads(client.response()[2])
    assert data["lookups"]["x_id"] == "5" and data["body"] == "ok"


def test_a_repeated_header_keeps_its_last_value_whatever_the_case(client: _Client) -> None:
    client.send(_post("/echo", b"", "X-Id: 1", "x-id: 2"))
    data = json.loads(client.response()[2])
    assert data["lookups"]["x_id"] == "2" and data["headers"]["x-id"] == "2" and "X-Id" not in data["headers"]


def test_identical_repeated_content_length_is_accepted(client: _Client) -> None:
    client.send(b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc")
    assert json.loads(client.response()[2])["body"] == "abc"


def test_exactly_the_header_limit_is_accepted(client: _Client) -> None:
    lines = [f"X-H{i}: {i}" for i in range(MAX_HEADERS - 2)]
    client.send(_post("/echo", b"", *lines))  # with Host and Content-Length: MAX_HEADERS lines
    assert json.loads(client.response()[2])["headers"][f"X-H{MAX_HEADERS - 3}"] == str(MAX_HEADERS - 3)


# --------------------------------------------------------------------------- refusals

REFUSED = [
    pytest.param(b"GET /" + b"a" * MAX_LINE_BYTES + b" HTTP/1.1\r\n\r\n", 414, id="request line too long"),
    pytest.param(b"GET /echo HTTP/1.1\r\nX-Long: " + b"a" * MAX_LINE_BYTES + b"\r\n\r\n", 431,
                 id="header line too long"),
    pytest.param(b"GET /echo HTTP/1.1\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(MAX_HEADERS + 1))
                 + b"\r\n", 431, id="too many headers"),
    pytest.param(b"GET /echo HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n", 400, id="folded line"),
    pytest.param(b"GET /echo HTTP/1.1\r\nno colon here\r\n\r\n", 400, id="no colon"),
    pytest.param(b"GET /echo HTTP/1.1\r\nX-A : 1\r\n\r\n", 400, id="space before colon"),
    pytest.param(b"GET /echo HTTP/1.1\r\n: empty name\r\n\r\n", 400, id="empty name"),
    pytest.param(b"POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, id="length not a number"),
    pytest.param(b"POST /echo HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, id="negative length"),
    pytest.param(b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
                 id="conflicting lengths"),
    pytest.param(b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 501,
                 id="chunked"),
    pytest.param(b"PATCH /echo HTTP/1.1\r\n\r\n", 501, id="unknown method"),
    pytest.param(b"GET /echo HTTP/2.0\r\n\r\n", 505, id="HTTP/2"),
    pytest.param(b"GET /echo HTTP/x\r\n\r\n", 400, id="bad version"),
    pytest.param(b"GET /echo\r\n\r\n", 400, id="HTTP/0.9"),
    pytest.param(b"GET /echo HTTP/1.1 extra\r\n\r\n", 400, id="four words"),
]


@pytest.mark.parametrize(("request_bytes", "status"), REFUSED)
def test_bad_requests_are_refused_and_the_connection_closed(client: _Client, request_bytes: bytes,
                                                            status: int) -> None:
    client.send(request_bytes)
    got, headers, _ = client.response()
    assert (got, headers["connection"]) == (status, "close")
    assert client.at_eof()


def test_the_server_keeps_serving_after_refusals(server: SimServer) -> None:
    for request_bytes in (b"GET /echo HTTP/1.1\r\nX-A : 1\r\n\r\n", b"\x00\x17\xffgarbage\r\n\r\n"):
        bad = _Client(server.port)
        try:
            bad.send(request_bytes)
            assert bad.response()[0] == 400
        finally:
            bad.close()
    good = _Client(server.port)
    try:
        good.send(b"GET /echo HTTP/1.1\r\n\r\n")
        assert good.response()[0] == 200
    finally:
        good.close()


# --------------------------------------------------------------------------- the parser against the stdlib

_NAMES = st.text(alphabet="!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                 min_size=1, max_size=20)
_VALUES = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                  max_size=40).map(str.strip)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_NAMES, _VALUES, st.sampled_from(["", " ", "  ", "\t"]),
                          st.sampled_from(["", " ", "\t "])), max_size=12))
def test_the_lean_parser_reads_what_the_stdlib_reads(lines: list[tuple[str, str, str, str]]) -> None:
    lines = [line for line in lines if line[0].lower() not in ("content-length", "transfer-encoding")]
    block = "".join(f"{name}:{pad}{value}{trail}\r\n" for name, value, pad, trail in lines).encode("latin-1")
    block += b"\r\n"
    oracle = http.client.parse_headers(io.BufferedReader(io.BytesIO(block)))
    rfile = io.BufferedReader(io.BytesIO(block + b"NEXT"))
    headers, lengths = httpserver._read_headers(rfile)
    assert lengths == [] and rfile.read() == b"NEXT"  # exactly the head consumed
    for name in {name for name, *_ in lines}:
        # trailing blanks are no part of a value (RFC 9110 5.5); the stdlib keeps them
        expected = (oracle.get_all(name) or [""])[-1].rstrip(" \t")
        assert headers[name.upper()] == headers.get(name.lower()) == expected
    assert len(headers) == len({name.lower() for name, *_ in lines})


# --------------------------------------------------------------------------- Headers

def test_headers_look_up_in_any_case_and_keep_the_clients_spelling() -> None:
    h = Headers([("Content-Type", "text/xml"), ("SOAPAction", "a")])
    assert h["content-type"] == h.get("CONTENT-TYPE") == "text/xml" and "soapaction" in h
    assert list(h) == ["Content-Type", "SOAPAction"] and dict(h) == {"Content-Type": "text/xml", "SOAPAction": "a"}
    assert h.get("missing") is None and h.get("missing", "d") == "d" and object() not in h
    with pytest.raises(KeyError):
        h["missing"]
    h["soapaction"] = "b"
    assert list(h.items()) == [("Content-Type", "text/xml"), ("soapaction", "b")]
    assert h.pop("SOAPACTION") == "b" and "SOAPAction" not in h and h.pop("x", "d") == "d"
    with pytest.raises(KeyError):
        h.pop("x")
    assert h.setdefault("content-type", "other") == "text/xml" and h.setdefault("X-New", "n") == "n"
    h.update({"x-new": "m"}, Accept="*/*")
    assert dict(h) == {"Content-Type": "text/xml", "x-new": "m", "Accept": "*/*"}
    del h["ACCEPT"]
    assert h.popitem() == ("x-new", "m") and "X-NEW" not in h
    copy = h.copy()
    assert type(copy) is dict and copy == {"Content-Type": "text/xml"}
    h.clear()
    assert not h and "content-type" not in h
    assert Headers({"A": "1"})["a"] == "1"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["set", "del", "pop"]), st.sampled_from(["Ab", "aB", "AB", "cd", "CD"]),
                          st.text(max_size=3))))
def test_headers_behave_like_a_lower_case_dict(ops: list[tuple[str, str, str]]) -> None:
    h = Headers()
    model: dict[str, str] = {}
    for op, name, value in ops:
        if op == "set":
            h[name] = value
            model[name.lower()] = value
        elif op == "del" and name.lower() in model:
            del h[name]
            del model[name.lower()]
        elif op == "pop":
            assert h.pop(name, None) == model.pop(name.lower(), None)
        assert {k.lower(): v for k, v in h.items()} == model and len(h) == len(model)
        for probe in ("ab", "AB", "cd", "Cd", "zz"):
            assert h.get(probe) == model.get(probe.lower()) and (probe in h) == (probe.lower() in model)
