"""The network transport's own HTTP/1.1 reading and writing (``adapters.core.http.wire``), against a
scripted keep-alive server on a raw socket: body framings, content codings, interim answers, when a
connection is reused and when not, malformed heads, and requests that could split their head."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters.core.errors import ConfigurationError, TransportError
from adapters.core.http import NetworkEnvironment, NetworkTransport, Timeouts
from tests.adapters.core.http.test_environment import _issue_tls
from tests.fixtures.loopback import ANSWER, RecordingServer

DIRECT = NetworkEnvironment()


class Closing(bytes):
    """An answer after which the server closes the connection."""


@dataclass
class Scripted:
    """Answers the requests it reads, on keep-alive connections, with the scripted bytes in turn
    (``None``: close the connection without answering; a :class:`Closing` answer: close after it);
    records each request's client port and head."""

    answers: list[bytes | None]
    """Closing answers are bytes too."""
    seen: list[tuple[int, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, (_, port) = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn, port), daemon=True).start()

    def _serve(self, conn: socket.socket, port: int) -> None:
        with conn:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(data) < length:
                    data += conn.recv(65536)
                data = data[length:]
                with self._lock:
                    self.seen.append((port, head))
                    answer = self.answers.pop(0)
                if answer is None:
                    return
                conn.sendall(answer)
                if isinstance(answer, Closing):
                    return

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def transport() -> Iterator[NetworkTransport]:
    network = NetworkTransport(environment=DIRECT)
    yield network
    network.close()


def _ok(body: bytes = b"ok", *extra: str) -> bytes:
    head = "".join(f"{line}\r\n" for line in extra)
    return f"HTTP/1.1 200 OK\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


def test_a_chunked_answer_with_extensions_and_trailers_then_the_connection_is_reused(
        transport: NetworkTransport) -> None:
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n")
    server = Scripted([chunked, _ok()])
    assert transport.request("GET", server.url + "/a").body == b"hello, world"
    assert transport.request("GET", server.url + "/b").body == b"ok"
    assert len({port for port, _ in server.seen}) == 1
    server.close()


@pytest.mark.parametrize("encode", [gzip.compress, zlib.compress, lambda data: zlib.compress(data)[2:-4]],
                         ids=["gzip", "deflate", "raw-deflate"])
def test_a_compressed_answer_is_decoded(transport: NetworkTransport, encode: object) -> None:
    body = b"<r>" + b"abc" * 5000 + b"</r>"
    coding = "gzip" if encode is gzip.compress else "deflate"
    server = Scripted([_ok(encode(body), f"Content-Encoding: {coding}")])  # type: ignore[operator]
    assert transport.request("GET", server.url).body == body
    server.close()


def test_a_body_that_does_not_decode_is_garbage(transport: NetworkTransport) -> None:
    server = Scripted([_ok(b"not gzip at all", "Content-Encoding: gzip")])
    with pytest.raises(TransportError) as exc:
        transport.request("GET", server.url)
    assert exc.value.context["kind"] == "garbage"
    server.close()


def test_interim_answers_are_skipped(transport: NetworkTransport) -> None:
    server = Scripted([b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + _ok(b"final")])
    result = transport.request("POST", server.url, body=b"<e/>")
    assert (result.status, result.body) == (200, b"final")
    server.close()


@pytest.mark.parametrize("answer", [
    _ok(b"one", "Connection: close"),
    b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\none",
    Closing(b"HTTP/1.1 200 OK\r\n\r\none"),  # no length: the body ends when the connection closes
], ids=["connection-close", "http-1.0", "until-close"])
def test_a_connection_the_answer_ends_is_not_reused(transport: NetworkTransport, answer: bytes) -> None:
    server = Scripted([answer, _ok()])
    assert transport.request("GET", server.url + "/1").body == b"one"
    assert transport.request("GET", server.url + "/2").body == b"ok"
    assert len({port for port, _ in server.seen}) == 2
    server.close()


def test_http_1_0_with_keep_alive_is_reused(transport: NetworkTransport) -> None:
    server = Scripted([b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n1", _ok()])
    transport.request("GET", server.url + "/1")
    transport.request("GET", server.url + "/2")
    assert len({port for port, _ in server.seen}) == 1
    server.close()


def test_an_idle_connection_the_server_closed_is_not_used_again(transport: NetworkTransport) -> None:
    server = Scripted([_ok(b"first"), None, _ok(b"second")])
    assert transport.request("GET", server.url + "/1").body == b"first"
    with pytest.raises(TransportError) as exc:  # the server hangs up on the next request: nothing retried
        transport.request("GET", server.url + "/2")
    assert exc.value.context["kind"] == "empty"
    assert transport.request("GET", server.url + "/3").body == b"second"  # a new connection
    ports = [port for port, _ in server.seen]
    assert ports[0] == ports[1] != ports[2]
    server.close()


def test_an_idle_connection_the_server_closed_while_idle_is_replaced_before_sending(
        transport: NetworkTransport) -> None:
    server = Scripted([Closing(_ok(b"first")), _ok(b"second")])  # keep-alive announced, then closed
    transport.request("GET", server.url + "/1")
    deadline = time.monotonic() + 5
    while not next(iter(transport._pools.values()))._idle[0].dropped():  # the server's FIN has arrived
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert transport.request("GET", server.url + "/2").body == b"second"  # sent once, on a new connection
    assert len({port for port, _ in server.seen}) == 2 and len(server.seen) == 2
    server.close()


def test_headers_are_case_insensitive_and_repeated_ones_joined(transport: NetworkTransport) -> None:
    server = Scripted([_ok(b"x", "X-A: 1", "x-a: 2", "Content-Type: text/xml")])
    result = transport.request("GET", server.url)
    assert result.headers["x-a"] == "1, 2" and result.content_type == "text/xml"
    assert "content-length" in result.headers
    assert dict(result.headers)["X-A"] == "1, 2"
    server.close()


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nthis is not a header\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd",
    b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n",
    b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"not HTTP at all\r\n\r\n",
], ids=["no-colon", "two-lengths", "length-not-a-number", "chunk-size", "status", "long-line", "many-headers",
        "obsolete-fold", "bare-lf", "length-and-chunked", "not-http"])
def test_a_malformed_head_or_framing_is_refused(transport: NetworkTransport, answer: bytes) -> None:
    server = Scripted([answer])
    with pytest.raises(TransportError) as exc:
        transport.request("GET", server.url, timeout=Timeouts(2, 2, 5))
    assert exc.value.context["kind"] == "garbage"
    server.close()


def test_head_answers_have_no_body_and_keep_the_connection(transport: NetworkTransport) -> None:
    server = Scripted([b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", b"HTTP/1.1 204 No Content\r\n\r\n",
                       _ok()])
    assert transport.request("HEAD", server.url).body == b""
    assert transport.request("DELETE", server.url).status == 204
    assert transport.request("GET", server.url).body == b"ok"
    assert len({port for port, _ in server.seen}) == 1
    server.close()


def test_what_a_request_carries_by_default(transport: NetworkTransport) -> None:
    server = Scripted([_ok(), _ok(), _ok()])
    transport.request("POST", server.url + "/p")
    transport.request("GET", server.url + "/g", headers={"User-Agent": "mine/1", "Accept-Encoding": "gzip"})
    transport.request("PUT", server.url + "/u", body=b"abc", headers={"host": "elsewhere"})
    port = server.url.rsplit(":", 1)[1]
    post, get, put = (head.decode().split("\r\n") for _, head in server.seen)
    assert post == ["POST /p HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept-Encoding: identity", "Content-Length: 0",
                    "User-Agent: egov-adapters"]
    assert get == ["GET /g HTTP/1.1", f"Host: 127.0.0.1:{port}", "User-Agent: mine/1", "Accept-Encoding: gzip"]
    assert put[1:] == ["Accept-Encoding: identity", "Content-Length: 3", "User-Agent: egov-adapters",
                       "host: elsewhere"]
    server.close()


@pytest.mark.parametrize("headers", [{"X-A": "1\r\nX-Injected: 2"}, {"X:A": "1"}, {" X": "1"}])
def test_a_header_that_could_split_the_head_is_refused(transport: NetworkTransport, headers: dict[str, str]) -> None:
    server = Scripted([_ok()])
    with pytest.raises(ValueError, match="invalid header"):
        transport.request("GET", server.url, headers=headers)
    assert server.seen == []
    server.close()


def test_an_https_target_through_an_https_proxy_is_refused() -> None:
    network = NetworkTransport(environment=NetworkEnvironment(proxies={"https": "https://proxy.example:3129"},
                                                              proxy_sources={"https": "HTTPS_PROXY"}))
    with pytest.raises(ConfigurationError, match="TLS inside TLS") as exc:
        network.request("GET", "https://example.org/soap")
    assert exc.value.context["setting"] == "HTTPS_PROXY"
    network.close()


class _TunnelProxy:
    """A CONNECT proxy on 127.0.0.1 that opens the tunnel to one origin and pipes bytes both ways;
    records the CONNECT heads it read."""

    def __init__(self, origin: tuple[str, int]) -> None:
        self.origin = origin
        self.heads: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096)
        self.heads.append(head)
        upstream = socket.create_connection(self.origin)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(source: socket.socket, sink: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    sink.sendall(data)
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def close(self) -> None:
        self._listener.close()


def test_https_through_a_proxy_tunnel_is_verified_and_reused(tmp_path: Path) -> None:
    ca_file, context = _issue_tls(tmp_path)
    with RecordingServer(tls=context) as origin:
        proxy = _TunnelProxy(("127.0.0.1", origin.port))
        network = NetworkTransport(environment=NetworkEnvironment(
            proxies={"https": f"http://agent:s%40cret@127.0.0.1:{proxy.port}"}, proxy_sources={"https": "HTTPS_PROXY"},
            ca_file=str(ca_file)))
        try:
            for path in ("/a", "/b"):
                result = network.request("POST", f"https://127.0.0.1:{origin.port}{path}", body=b"<e/>")
                assert (result.status, result.body) == (200, ANSWER)
        finally:
            network.close()
            proxy.close()
    [head] = proxy.heads  # one tunnel, reused by the second call
    assert head.startswith(f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1\r\n".encode())
    assert b"Proxy-Authorization: Basic YWdlbnQ6c0BjcmV0\r\n" in head  # agent:s@cret
    assert [r.target for r in origin.received] == ["/a", "/b"]  # the origin's own request form, over TLS
