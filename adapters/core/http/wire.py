"""HTTP/1.1 on one client connection: the request written, the answer's head and body read.

The network transport's wire format, on the standard library's sockets and TLS and httptools'
answer parser (llhttp, the C parser of Node.js; already uvicorn's parser for ``egov serve``):
http.client parses an answer's headers with the ``email`` package and urllib3 adds its own layers
on top; together they were most of the transport's CPU per request in a profile of the flows.

- :class:`Connection` is one socket (TCP, optionally TLS, optionally a tunnel through a proxy)
  with a buffered reader; ``sock`` is what the deadline watchdog shuts down
  (:mod:`adapters.core.http.deadline`). Connecting is bounded by the connect timeout (TCP, the
  proxy's ``CONNECT``, the TLS handshake); every later read and write by the read timeout.
- :func:`request_head` writes the request line and headers; names and values that could split the
  head (a CR or LF, a colon in a name) are refused (``ValueError``, as http.client does).
- :meth:`Connection.read_answer` has the parser read the status line and headers (at most
  :data:`MAX_HEAD_BYTES` of head, :data:`MAX_HEADERS` headers), skips interim (1xx) answers, and
  says how the body is framed (RFC 9112 section 6.3): none (HEAD, 1xx, 204, 304), chunked, a
  ``Content-Length``, or until the connection closes; and whether the connection may be reused (the
  parser's keep-alive rule). The parser is strict: an obsolete folded header line, a bare LF, two
  different lengths, a length that is not a number, a chunk size that is not hexadecimal are refused.
- The body: :meth:`Connection.read_into` reads a ``Content-Length`` body straight into the caller's
  buffer (the length frames it); :meth:`Connection.pieces` has the parser de-frame any other
  (chunked, until close, or one to decode) as it arrives.
- Failures are the standard library's public exception types, which
  :mod:`adapters.core.http.failures` turns into a ``kind``: no answer at all is
  ``http.client.RemoteDisconnected``, an answer that is not HTTP ``BadStatusLine``, a body cut short
  ``IncompleteRead``, and head or framing the parser refuses :class:`MalformedAnswer`.
"""


from __future__ import annotations

import http.client
import io
import re
import select
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import httptools

MAX_HEAD_BYTES = 64 * 1024
"""Most bytes of an answer's head (status line and headers) read before it must have ended."""

MAX_HEADERS = 100
"""Most header lines in one answer (http.client's limit)."""

CHUNK = 16 * 1024
"""Most bytes asked of the socket per read the parser reads (what it de-frames is copied once more:
small reads keep the two copies small; a SOAP answer's head and body mostly come in one)."""

_LEGAL_NAME = re.compile(r"[^:\s][^:\r\n]*").fullmatch
_ILLEGAL_VALUE = re.compile(r"\n(?![ \t])|\r(?![ \t\n])").search
_NO_BODY_STATUSES = frozenset((204, 304))


class MalformedAnswer(http.client.HTTPException):
    """An answer whose head or body framing cannot be read as HTTP/1.1 (the parser's reason: a
    header line without a name, more than :data:`MAX_HEADERS` headers or :data:`MAX_HEAD_BYTES` of
    head, a ``Content-Length`` that is not one number, a chunk size that is not hexadecimal...)."""


class ProxyTunnelError(OSError):
    """The proxy did not open the tunnel (its ``CONNECT`` answer was not 200): nothing was sent."""


class Headers(Mapping[str, str]):
    """An answer's headers, looked up case-insensitively; a repeated header's values joined with ", "."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, str]] = {}

    def add(self, name: str, value: str) -> None:
        key = name.lower()
        old = self._items.get(key)
        self._items[key] = (name, value) if old is None else (old[0], f"{old[1]}, {value}")

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self._items.values())!r})"


def tokens(value: str | None) -> set[str]:
    """The comma-separated tokens of a header value, lower case."""
    return {part.strip().lower() for part in value.split(",")} if value else set()


def request_head(method: str, target: str, headers: Mapping[str, str]) -> bytes:
    """The request line and headers, ended by the empty line (latin-1, as HTTP/1.1 allows)."""
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    for name, value in headers.items():
        if not _LEGAL_NAME(name):
            raise ValueError(f"invalid header name {name!r}")
        if _ILLEGAL_VALUE(value):
            raise ValueError(f"invalid header value {value!r}")
        lines.append(f"{name}: {value}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


@dataclass(slots=True)
class Answer:
    """An answer's status and headers, and how its body is framed (read by :mod:`adapters.core.http.reader`)."""

    status: int
    headers: Headers
    length: int | None
    """Bytes of body announced (0 when the answer has none); ``None``: chunked or until close."""
    chunked: bool
    keep_alive: bool
    """The connection may carry another request once this body is read to its end."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a connection goes: the TCP peer, TLS to it, and a tunnel through it (a proxy)."""

    host: str
    port: int
    tls: ssl.SSLContext | None = None
    """TLS with the TCP peer (the server, or an https proxy)."""
    tls_name: str | None = None
    """The name the peer's certificate must carry."""
    tunnel: tuple[str, int, ssl.SSLContext, bytes] | None = None
    """Through the peer (a proxy) to ``(host, port)`` with TLS, after a ``CONNECT`` sending these
    extra header lines (a Proxy-Authorization)."""


class _Parse:
    """httptools' callbacks for one answer on a connection: the head of the final answer (interim
    1xx answers forgotten), the body pieces as the parser de-frames them, and whether it ended."""

    __slots__ = ("complete", "error", "head_done", "headers", "interim", "keep_alive", "lines", "parser", "pieces",
                 "status", "until_close")

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers = Headers()
        self.pieces: list[bytes] = []
        self.status = self.lines = 0
        self.head_done = self.complete = self.keep_alive = self.interim = self.until_close = False
        self.error: MalformedAnswer | None = None
        """A refusal raised inside a callback (the parser hands on only that a callback failed)."""

    def on_message_begin(self) -> None:
        if self.complete:  # bytes after the answer: the server wrote out of turn
            self.error = MalformedAnswer("the server sent more than one answer")
            raise self.error

    def on_header(self, name: bytes, value: bytes) -> None:
        self.lines += 1
        if self.lines > MAX_HEADERS:
            self.error = MalformedAnswer(f"got more than {MAX_HEADERS} headers")
            raise self.error
        self.headers.add(name.decode("latin-1"), value.decode("latin-1").strip())

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # an interim answer: its headers are not the answer's
            self.headers, self.lines, self.interim = Headers(), 0, True
            return
        self.status, self.head_done = status, True
        self.keep_alive = self.parser.should_keep_alive()  # the rule holds only until the message ends

    def on_body(self, body: bytes) -> None:
        self.pieces.append(body)

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
        else:
            self.complete = True

    def feed(self, data: bytes) -> None:
        """``data`` to the parser; its refusals as the standard library's exception types."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            assert self.error is not None
            raise self.error from None
        except httptools.HttpParserInvalidStatusError as exc:
            raise http.client.BadStatusLine(f"{exc}: {data[:80]!r}") from None
        except httptools.HttpParserError as exc:
            if not self.head_done and not self.lines:  # the status line itself
                raise http.client.BadStatusLine(f"{exc}: {data[:80]!r}") from None
            raise MalformedAnswer(str(exc)) from None

    def take(self) -> list[bytes]:
        pieces, self.pieces = self.pieces, []
        return pieces


class Connection:
    """One client connection (see the module docstring). Not thread-safe: one exchange at a time."""

    __slots__ = ("_parse", "_reader", "sock")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        """The socket, once connected (the deadline watchdog shuts it down)."""
        self._reader: io.BufferedReader | None = None
        self._parse: _Parse | None = None
        """The parser of the answer being read."""

    def connect(self, endpoint: Endpoint, connect_timeout: float, read_timeout: float) -> None:
        """Open the connection; every phase within ``connect_timeout``, later reads within ``read_timeout``."""
        sock = socket.create_connection((endpoint.host, endpoint.port), timeout=connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if endpoint.tls is not None:
                sock = endpoint.tls.wrap_socket(sock, server_hostname=endpoint.tls_name)
            if endpoint.tunnel is not None:
                host, port, context, extra = endpoint.tunnel
                self._open_tunnel(sock, host, port, extra)
                sock = context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        sock.settimeout(read_timeout)
        self.sock = sock
        self._reader = sock.makefile("rb")

    @staticmethod
    def _open_tunnel(sock: socket.socket, host: str, port: int, extra: bytes) -> None:
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n".encode("latin-1") + extra + b"\r\n")
        parse = _Parse()  # the proxy says nothing more until the TLS handshake, which the client begins
        received = 0
        while not parse.head_done:
            data = sock.recv(CHUNK)
            if not data:
                raise http.client.RemoteDisconnected("the proxy closed the connection without answering CONNECT")
            received += len(data)
            if received > MAX_HEAD_BYTES:
                raise MalformedAnswer(f"the proxy's answer to CONNECT has more than {MAX_HEAD_BYTES} bytes of head")
            parse.feed(data)
        if parse.status != 200:
            raise ProxyTunnelError(f"Tunnel connection failed: {parse.status}")

    def send(self, data: bytes) -> None:
        assert self.sock is not None
        self.sock.sendall(data)

    def dropped(self) -> bool:
        """An idle connection the peer closed (or wrote to out of turn): not to be used again."""
        sock = self.sock
        if sock is None:
            return True
        try:
            if hasattr(select, "poll"):  # no limit on descriptor numbers, unlike select()
                poller = select.poll()
                poller.register(sock, select.POLLIN)
                return bool(poller.poll(0))
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def read_answer(self, method: str) -> Answer:
        """The final answer's head (interim 1xx answers skipped), framed for a request of ``method``."""
        reader = self._reader
        assert reader is not None
        parse = self._parse = _Parse()
        received = 0
        while not parse.head_done:
            data = reader.read1(CHUNK)
            if not data:
                if received == 0:
                    raise http.client.RemoteDisconnected("Remote end closed connection without response")
                raise http.client.IncompleteRead(b"")
            parse.feed(data)
            # the head's bytes: all so far but the body's that came with its end (and the chunks'
            # framing, at most: a bound from above)
            received += len(data) - (sum(map(len, parse.pieces)) if parse.head_done else 0)
            if received > MAX_HEAD_BYTES:
                raise MalformedAnswer(f"an answer's head of more than {MAX_HEAD_BYTES} bytes")
        status, headers, keep_alive = parse.status, parse.headers, parse.keep_alive
        if method == "HEAD" or status in _NO_BODY_STATUSES:
            stray = bool(parse.take())  # a body where there is none: the connection is not to be trusted
            return Answer(status, headers, 0, False, keep_alive and not stray)
        if "Transfer-Encoding" in headers:
            chunked = "chunked" in tokens(headers["Transfer-Encoding"])
            parse.until_close = not chunked
            return Answer(status, headers, None, chunked, keep_alive and chunked)
        if "Content-Length" in headers:  # one number: the parser refused any other
            return Answer(status, headers, int(headers["Content-Length"]), False, keep_alive)
        parse.until_close = True
        return Answer(status, headers, None, False, False)  # the body ends when the connection closes

    def read_into(self, view: memoryview) -> None:
        """Fill ``view`` with the body of an answer framed by its ``Content-Length`` (of that many
        bytes): what came with the head, then the rest read straight into it (fewer bytes than
        announced is ``http.client.IncompleteRead``)."""
        assert self._reader is not None and self._parse is not None
        filled = 0
        for piece in self._parse.take():
            view[filled:filled + len(piece)] = piece
            filled += len(piece)
        while filled < len(view):
            got = self._reader.readinto(view[filled:])
            if not got:
                raise http.client.IncompleteRead(bytes(view[:filled]), len(view) - filled)
            filled += got

    def pieces(self, most: Callable[[], int]) -> Iterator[bytes]:
        """The body as the parser de-frames it (chunked: the data, trailers dropped; until close: as
        it comes), at most ``most()`` bytes read a time; cut short is ``http.client.IncompleteRead``."""
        reader, parse = self._reader, self._parse
        assert reader is not None and parse is not None
        yield from parse.take()
        while not parse.complete:
            data = reader.read1(min(most(), CHUNK))
            if not data:
                if parse.until_close:
                    return  # no framing: the connection's end is the body's
                raise http.client.IncompleteRead(b"")
            parse.feed(data)
            yield from parse.take()

    def close(self) -> None:
        reader, sock = self._reader, self.sock
        self._reader = None
        if reader is not None:
            reader.close()
        if sock is not None:
            sock.close()
