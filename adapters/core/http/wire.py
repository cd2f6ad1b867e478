"""HTTP/1.1 on one client connection: the request written, the answer's head read, its body framed.

The network transport's wire format, on the standard library's sockets and TLS (no HTTP library):
http.client parses an answer's headers with the ``email`` package and urllib3 adds its own layers
on top; together they were most of the transport's CPU per request in a profile of the flows.

- :class:`Connection` is one socket (TCP, optionally TLS, optionally a tunnel through a proxy)
  with a buffered reader; ``sock`` is what the deadline watchdog shuts down
  (:mod:`adapters.core.http.deadline`). Connecting is bounded by the connect timeout (TCP, the
  proxy's ``CONNECT``, the TLS handshake); every later read and write by the read timeout.
- :func:`request_head` writes the request line and headers; names and values that could split the
  head (a CR or LF, a colon in a name) are refused (``ValueError``, as http.client does).
- :meth:`Connection.read_answer` reads the status line and headers within http.client's limits
  (:data:`MAX_LINE` bytes a line, :data:`MAX_HEADERS` headers), skips interim (1xx) answers, and
  says how the body is framed (RFC 9112 section 6.3): none (HEAD, 1xx, 204, 304), chunked, a
  ``Content-Length``, or until the connection closes; and whether the connection may be reused.
- Failures are the standard library's public exception types, which
  :mod:`adapters.core.http.failures` turns into a ``kind``: no answer at all is
  ``http.client.RemoteDisconnected``, a status line that is not HTTP ``BadStatusLine``, a line over
  the limit ``LineTooLong``, a body cut short ``IncompleteRead``, and head or framing that cannot
  be read :class:`MalformedAnswer`.
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
from typing import Protocol

MAX_LINE = 65536
"""Longest status, header or chunk-size line read (http.client's limit)."""

MAX_HEADERS = 100
"""Most header lines in one answer (http.client's limit)."""

_LEGAL_NAME = re.compile(r"[^:\s][^:\r\n]*").fullmatch
_ILLEGAL_VALUE = re.compile(r"\n(?![ \t])|\r(?![ \t\n])").search
_NO_BODY_STATUSES = frozenset((204, 304))


class MalformedAnswer(http.client.HTTPException):
    """An answer whose head or body framing cannot be read as HTTP/1.1 (a header line without a
    name, more than :data:`MAX_HEADERS` headers, a ``Content-Length`` that is not one number, a
    chunk size that is not hexadecimal)."""


class _LineReader(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


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

    def continue_last(self, name: str, more: str) -> None:
        """An obsolete folded line: ``more`` continues the value of ``name``."""
        key = name.lower()
        original, value = self._items[key]
        self._items[key] = (original, f"{value} {more}")

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


class Connection:
    """One client connection (see the module docstring). Not thread-safe: one exchange at a time."""

    __slots__ = ("_reader", "sock")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        """The socket, once connected (the deadline watchdog shuts it down)."""
        self._reader: io.BufferedReader | None = None

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
        reader = sock.makefile("rb", buffering=0)  # unbuffered: the TLS handshake follows on the socket
        try:
            status_line = _read_line(reader, "status line")
            status, _, _ = _status(status_line)
            while _read_line(reader, "header line") not in (b"\r\n", b"\n", b""):
                pass
        finally:
            reader.close()
        if status != 200:
            raise ProxyTunnelError(f"Tunnel connection failed: {status_line.decode('latin-1').strip()}")

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
        while True:
            line = _read_line(reader, "status line")
            if not line:
                raise http.client.RemoteDisconnected("Remote end closed connection without response")
            status, version, _ = _status(line)
            headers = _read_headers(reader)
            if not 100 <= status < 200:
                break
        connection = tokens(headers.get("Connection"))
        keep_alive = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
        if method == "HEAD" or status in _NO_BODY_STATUSES:
            return Answer(status, headers, 0, False, keep_alive)
        encoding = headers.get("Transfer-Encoding")
        if encoding is not None:
            chunked = encoding.rsplit(",", 1)[-1].strip().lower() == "chunked"
            return Answer(status, headers, None, chunked, keep_alive and chunked)
        announced = headers.get("Content-Length")
        if announced is None:
            return Answer(status, headers, None, False, False)  # the body ends when the connection closes
        values = {part.strip() for part in announced.split(",")}
        text = values.pop() if len(values) == 1 else ""
        if not text.isdigit():
            raise MalformedAnswer(f"Content-Length is not one number: {announced!r}")
        return Answer(status, headers, int(text), False, keep_alive)

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes (fewer only at the end of the stream)."""
        assert self._reader is not None
        return self._reader.read(size)

    def read_chunks(self, most: Callable[[], int]) -> Iterator[bytes]:
        """A chunked body's data, at most ``most()`` bytes a piece; the trailers are read and dropped."""
        reader = self._reader
        assert reader is not None
        while True:
            line = _read_line(reader, "chunk size")
            if not line:
                raise http.client.IncompleteRead(b"")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise MalformedAnswer(f"a chunk size that is not hexadecimal: {size_text[:40]!r}") from None
            if size == 0:
                while _read_line(reader, "trailer line") not in (b"\r\n", b"\n", b""):
                    pass
                return
            while size:
                piece = reader.read(min(size, most()))
                if not piece:
                    raise http.client.IncompleteRead(b"", size)
                size -= len(piece)
                yield piece
            if _read_line(reader, "chunk end") not in (b"\r\n", b"\n"):
                raise MalformedAnswer("a chunk not followed by CRLF")

    def read_until_close(self, most: Callable[[], int]) -> Iterator[bytes]:
        """A body that ends when the connection closes, at most ``most()`` bytes a piece."""
        assert self._reader is not None
        while piece := self._reader.read1(most()):
            yield piece

    def close(self) -> None:
        reader, sock = self._reader, self.sock
        self._reader = None
        if reader is not None:
            reader.close()
        if sock is not None:
            sock.close()


def _read_line(reader: _LineReader, what: str) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise http.client.LineTooLong(what)
    return line


def _status(line: bytes) -> tuple[int, str, str]:
    """(status, version, reason) of a status line, or ``BadStatusLine``."""
    parts = line.decode("latin-1").rstrip("\r\n").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or len(parts[1]) != 3 or not parts[1].isdigit():
        raise http.client.BadStatusLine(repr(line[:80]))
    status = int(parts[1])
    if status < 100:
        raise http.client.BadStatusLine(repr(line[:80]))
    return status, parts[0], parts[2] if len(parts) > 2 else ""


def _read_headers(reader: _LineReader) -> Headers:
    headers = Headers()
    last: str | None = None
    for _ in range(MAX_HEADERS + 1):
        line = _read_line(reader, "header line")
        if line in (b"\r\n", b"\n", b""):
            return headers
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t"):  # an obsolete folded continuation of the previous header
            if last is None:
                raise MalformedAnswer("a continuation line before any header")
            headers.continue_last(last, text.strip())
            continue
        name, colon, value = text.partition(":")
        if not colon or not _LEGAL_NAME(name):
            raise MalformedAnswer(f"not a header line: {text[:80]!r}")
        headers.add(name, value.strip())
        last = name
    raise MalformedAnswer(f"got more than {MAX_HEADERS} headers")
