"""A small, concurrent HTTP/1.1 server that every simulator runs on.

Built on the standard library's ``ThreadingHTTPServer`` on purpose: fault injection needs raw
control of the socket (reset a connection, drip a body, send garbage and close), which
frameworks hide. A simulator supplies a :class:`Router`; the server runs it in a daemon thread on
127.0.0.1 and a free port, and stops cleanly.

Handlers receive a :class:`Request` and return a :class:`Response`, or take over the socket with
``request.raw`` (a :class:`RawConnection`) to misbehave on purpose.

The request head is parsed here, not by ``BaseHTTPRequestHandler.parse_request``: the standard
library hands every header block to ``email.feedparser`` and formats every response through
several buffered ``send_header`` calls and an eager log line, which together cost more CPU per
request than everything else the server does. The lean parser keeps the same limits and answers
(414, 431, 400, 413, 501, 505) and refuses what it does not implement (folded header lines,
``Transfer-Encoding``) instead of misreading it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, TypeVar, overload
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024  # 30 MB of attachments in base64 plus the envelope
MAX_LINE_BYTES = 65536
"""Longest request line (else 414) or header line (else 431), as the standard library's server."""
MAX_HEADERS = 100
"""Most header lines in one request (else 431), as the standard library's server."""
_COALESCE_BYTES = 256 * 1024
"""Bodies up to this size are sent in the same write as the headers (larger ones are not copied)."""

_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "HEAD"})
_REASONS = {int(status): status.phrase for status in HTTPStatus}
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
"""An RFC 9110 token: what a header name must be (no spaces, no separators)."""
_VERSION = re.compile(r"HTTP/(\d{1,10})\.(\d{1,10})")
_END_OF_HEAD = frozenset({b"\r\n", b"\n", b""})
_T = TypeVar("_T")


class Headers(dict[str, str]):
    """Request headers under the names the client spelled, looked up case-insensitively.

    Otherwise a plain ``dict`` (iteration, ``len``, JSON); ``dict(headers)`` or ``copy()`` gives a
    plain one. One header per name whatever its case: a repeated header keeps its last value.
    """

    __slots__ = ("_names",)

    def __init__(self, pairs: Iterable[tuple[str, str]] | Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._names: dict[str, str] = {}
        if pairs is not None:
            for name, value in (pairs.items() if isinstance(pairs, Mapping) else pairs):
                self[name] = value

    @classmethod
    def _distinct(cls, pairs: list[tuple[str, str]]) -> Headers | None:
        """Built without a lookup per header, when no name repeats (in any case); else ``None``."""
        headers = cls()
        dict.update(headers, pairs)
        names = {name.lower(): name for name in dict.keys(headers)}
        if len(names) != len(pairs):
            return None
        headers._names = names
        return headers

    def _stored(self, name: str) -> str:
        return self._names.get(name.lower(), name)

    def __setitem__(self, name: str, value: str) -> None:
        lower = name.lower()
        old = self._names.get(lower)
        if old is not None and old != name:
            super().__delitem__(old)
        self._names[lower] = name
        super().__setitem__(name, value)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(self._names.get(name.lower(), name))

    def __delitem__(self, name: str) -> None:
        super().__delitem__(self._stored(name))
        del self._names[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._names

    @overload
    def get(self, name: str, default: None = None, /) -> str | None: ...
    @overload
    def get(self, name: str, default: str, /) -> str: ...
    @overload
    def get(self, name: str, default: _T, /) -> str | _T: ...
    def get(self, name: str, default: object = None, /) -> object:
        stored = self._names.get(name.lower())
        return default if stored is None else super().__getitem__(stored)

    @overload
    def pop(self, name: str, /) -> str: ...
    @overload
    def pop(self, name: str, default: str, /) -> str: ...
    @overload
    def pop(self, name: str, default: _T, /) -> str | _T: ...
    def pop(self, name: str, *default: object) -> object:
        stored = self._names.pop(name.lower(), None)
        if stored is None:
            if default:
                return default[0]
            raise KeyError(name)
        return super().pop(stored)

    def setdefault(self, name: str, default: str, /) -> str:
        if name not in self:
            self[name] = default
        return self[name]

    def update(self, *args: Any, **kwargs: str) -> None:
        for name, value in dict(*args, **kwargs).items():
            self[name] = value

    def clear(self) -> None:
        super().clear()
        self._names.clear()

    def popitem(self) -> tuple[str, str]:
        name, value = super().popitem()
        del self._names[name.lower()]
        return name, value

    def copy(self) -> dict[str, str]:
        return dict(self)


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def xml(cls, body: bytes, status: int = 200) -> Response:
        return cls(status, body, {"Content-Type": "text/xml; charset=utf-8"})

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(data, ensure_ascii=False, default=str).encode(),
                   {"Content-Type": "application/json; charset=utf-8"})

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})


class RawConnection:
    """Direct access to the client socket, for deliberate faults. Once used, no Response is sent."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self._h = handler
        self.taken = False

    def write(self, data: bytes) -> None:
        self.taken = True
        self._h.wfile.write(data)
        self._h.wfile.flush()

    def reset(self) -> None:
        """Close with RST instead of FIN (SO_LINGER 0, no shutdown first, which would send a FIN):
        the client sees 'connection reset'."""
        self.taken = True
        self._h.close_connection = True
        sock: socket.socket = self._h.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def close(self) -> None:
        self.taken = True
        self._h.close_connection = True
        with contextlib.suppress(OSError):
            self._h.wfile.flush()
        with contextlib.suppress(OSError):
            self._h.connection.shutdown(socket.SHUT_RDWR)
        self._h.connection.close()


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    raw: RawConnection
    client: str

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


Handler = Callable[[Request], Response | None]


class Router:
    """Maps (method, path prefix) to handlers; the longest matching prefix wins."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, str, Handler]] = []

    def add(self, method: str, prefix: str, handler: Handler) -> None:
        self._routes.append((method.upper(), prefix, handler))
        self._routes.sort(key=lambda r: len(r[1]), reverse=True)

    def route(self, methods: Iterable[str], prefix: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            for m in methods:
                self.add(m, prefix, fn)
            return fn
        return deco

    def resolve(self, method: str, path: str) -> Handler | None:
        for m, prefix, handler in self._routes:
            if m == method and (path == prefix or path.startswith(prefix.rstrip("/") + "/")
                                or prefix == "/"):
                return handler
        return None


class _Refusal(Exception):
    """A request the server answers with an error status and then closes (never leaves this module)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Head(NamedTuple):
    """What the server itself needs from a request head."""

    headers: Headers
    content_length: int
    keep_alive: bool
    expect_continue: bool


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The ``Date`` header value, formatted once per second rather than once per response."""
    global _date_cache
    second = int(time.time())
    cached = _date_cache
    if cached[0] != second:
        cached = _date_cache = (second, formatdate(second, usegmt=True))
    return cached[1]


def _is_http11(version: str) -> bool:
    """Whether ``HTTP/x.y`` is 1.1 or later (keeps the connection open by default); refuses what
    is not HTTP/1.x (or 0.x)."""
    if version == "HTTP/1.1":
        return True
    if version == "HTTP/1.0":
        return False
    match = _VERSION.fullmatch(version)
    if match is None:
        raise _Refusal(400, f"Bad request version ({version!r})")
    number = int(match[1]), int(match[2])
    if number >= (2, 0):
        raise _Refusal(505, f"Invalid HTTP version ({match[1]}.{match[2]})")
    return number >= (1, 1)


def _read_head(rfile: Any, *, http11: bool) -> _Head:
    """Read the header lines after the request line up to the empty line, within the limits.

    ``rfile`` is the connection's ``io.BufferedReader``; ``http11``: the request is HTTP/1.1 or
    later (keep-alive by default, ``Expect: 100-continue`` honoured).
    """
    keep_alive = http11
    headers, lengths = _read_headers(rfile)
    if "Transfer-Encoding" in headers:
        raise _Refusal(501, "Transfer-Encoding is not supported: send a Content-Length")
    content_length = 0
    if lengths:
        if len(set(lengths)) > 1 or not (lengths[0].isascii() and lengths[0].isdigit()):
            raise _Refusal(400, f"Bad Content-Length ({', '.join(lengths)[:80]!r})")
        content_length = int(lengths[0])
    connection = headers.get("Connection")
    if connection:
        options = {option.strip().lower() for option in connection.split(",")}
        if "close" in options:
            keep_alive = False
        elif "keep-alive" in options:
            keep_alive = True
    expect = headers.get("Expect")
    return _Head(headers, content_length, keep_alive,
                 http11 and expect is not None and expect.lower() == "100-continue")


def _read_headers(rfile: Any) -> tuple[Headers, list[str]]:
    """The header lines, refused on the first bad one; and every ``Content-Length`` value given.

    A line is ``name: value`` (CRLF or a bare LF); values lose their surrounding blanks (RFC 9110
    5.5). A line that starts with a blank (obsolete folding) is refused rather than misread.
    """
    readline = rfile.readline
    pairs: list[tuple[str, str]] = []
    lengths: list[str] = []
    while True:
        line = readline(MAX_LINE_BYTES + 1)
        if len(line) > MAX_LINE_BYTES:
            raise _Refusal(431, "Line too long")
        if line in _END_OF_HEAD:
            break
        if len(pairs) == MAX_HEADERS:
            raise _Refusal(431, "Too many headers")
        if line[0] in b" \t":
            raise _Refusal(400, "Folded header line (obsolete line folding is not accepted)")
        raw_name, colon, raw_value = line.partition(b":")
        if not colon or _TOKEN.fullmatch(raw_name) is None:
            raise _Refusal(400, f"Bad header line ({line[:80]!r})")
        name = raw_name.decode("ascii")
        value = raw_value.strip(b" \t\r\n").decode("latin-1")
        if len(name) == 14 and name.lower() == "content-length":
            lengths.append(value)
        pairs.append((name, value))
    headers = Headers._distinct(pairs)
    return (Headers(pairs) if headers is None else headers), lengths


def _split_target(target: str) -> tuple[str, dict[str, list[str]]]:
    """The path and the query parameters of a request target."""
    if target.startswith("//"):
        # as the standard library's server (gh-87389): '//host/x' is not taken for an authority
        target = "/" + target.lstrip("/")
    if target.startswith("/"):
        target = target.partition("#")[0]
        path, _, query = target.partition("?")
    else:  # absolute form (http://host/path) or '*'
        url = urlsplit(target)
        path, query = url.path, url.query
    return path, (parse_qs(query) if query else {})


def _make_handler_class(router: Router, name: str) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"egov-sim-{name}/1.0"
        # without TCP_NODELAY, Nagle's algorithm would hold a response's second write (a large
        # body sent after its headers) until the client's delayed ACK (~40 ms on Linux)
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s %s", name, format % args)

        def handle_one_request(self) -> None:
            """One request on this connection: parse, dispatch, answer (or refuse and close)."""
            self.command = ""
            self.request_version = ""
            self.requestline = ""
            try:
                self._serve_one()
            except _Refusal as refusal:
                self.send_error(refusal.status, refusal.message)  # with Connection: close
            except TimeoutError as exc:
                self.log_error("Request timed out: %r", exc)
                self.close_connection = True
            except ConnectionError as exc:  # the client went away: nobody to answer
                log.debug("%s: connection lost: %r", name, exc)
                self.close_connection = True

        def _serve_one(self) -> None:
            line = self.rfile.readline(MAX_LINE_BYTES + 1)
            if len(line) > MAX_LINE_BYTES:
                raise _Refusal(414, "Request-URI Too Long")
            self.requestline = requestline = line.decode("latin-1").rstrip("\r\n")
            words = requestline.split()
            if not words:  # end of stream (or a bare empty line, which the stdlib closes on too)
                self.close_connection = True
                return
            if len(words) != 3:
                raise _Refusal(400, f"Bad request syntax ({requestline[:200]!r})")
            method, target, version = words
            self.command = method
            http11 = _is_http11(version)
            self.request_version = version
            head = _read_head(self.rfile, http11=http11)
            self.close_connection = not head.keep_alive
            if method not in _METHODS:
                raise _Refusal(501, f"Unsupported method ({method!r})")
            if head.content_length > MAX_BODY_BYTES:
                raise _Refusal(413, "request body too large")
            if head.expect_continue:
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = self.rfile.read(head.content_length) if head.content_length else b""
            if len(body) < head.content_length:  # the client closed before sending it all
                self.close_connection = True
                return
            path, query = _split_target(target)
            self._dispatch(Request(method, path, query, head.headers, body, RawConnection(self),
                                   self.client_address[0]))

        def _dispatch(self, req: Request) -> None:
            handler = router.resolve(req.method, req.path)
            if handler is None:
                resp: Response | None = Response.text(f"no route for {req.method} {req.path}", 404)
            else:
                try:
                    resp = handler(req)
                except Exception as exc:  # a simulator bug must not kill the server thread
                    log.exception("%s handler failed", name)
                    resp = Response.text(f"internal simulator error: {exc}", 500)
            if req.raw.taken or resp is None:
                self.close_connection = True
                return
            self._answer(resp)

        def _answer(self, resp: Response) -> None:
            """Status line, headers and (small) body in one write: one syscall, one TCP segment."""
            status = resp.status
            if log.isEnabledFor(logging.DEBUG):
                log.debug('%s "%s" %s %s', name, self.requestline, status, len(resp.body))
            lines = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nServer: {version_string}\r\n"
                     f"Date: {_http_date()}\r\n"]
            for key, value in resp.headers.items():
                lines.append(f"{key}: {value}\r\n")
                if len(key) == 10 and key.lower() == "connection" and value.lower() == "close":
                    self.close_connection = True
            lines.append(f"Content-Length: {len(resp.body)}\r\n\r\n")
            head = "".join(lines).encode("latin-1")
            if self.command == "HEAD":
                self.wfile.write(head)
            elif len(resp.body) <= _COALESCE_BYTES:
                self.wfile.write(head + resp.body)
            else:
                self.wfile.write(head)
                self.wfile.write(resp.body)

    version_string = f"{_Handler.server_version} {_Handler.sys_version}"  # as BaseHTTPRequestHandler's
    return _Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class SimServer:
    """Runs a router on 127.0.0.1 in a background thread. Use as a context manager or start/stop."""

    def __init__(self, router: Router, *, name: str = "sim", host: str = "127.0.0.1", port: int = 0,
                 listen_socket: socket.socket | None = None) -> None:
        """``listen_socket``: serve on a listening socket shared with other processes (worker
        processes of a load test, each with its own state) instead of binding ``host:port``.

        The workers then take connections with a *blocking* ``accept``: the kernel wakes the
        acceptor that has waited longest (an exclusive, first-in-first-out wait), so connections
        alternate between the workers. ``SO_REUSEPORT`` spreads them by a hash of the addresses
        instead, which left one of two workers with 37 of 64 connections and its requests waiting
        longer than the other's (bench e's p99 90 → 111 ms). A worker stopped alone leaves the
        shared socket to the others; its accept thread (a daemon) closes whatever it takes after.
        """
        self.name = name
        handler = _make_handler_class(router, name)
        self._shared = listen_socket is not None
        self._stopping = threading.Event()
        if listen_socket is None:
            self._httpd = _Server((host, port), handler)
        else:
            self._httpd = _Server(listen_socket.getsockname()[:2], handler, bind_and_activate=False)
            self._httpd.socket.close()  # the unbound socket the constructor made
            self._httpd.socket = listen_socket
            self._httpd.server_address = listen_socket.getsockname()[:2]
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SimServer:
        if self._shared:
            self._thread = threading.Thread(target=self._accept_shared, name=f"sim-{self.name}", daemon=True)
        else:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"sim-{self.name}", daemon=True)
        self._thread.start()
        return self

    def _accept_shared(self) -> None:
        listener = self._httpd.socket
        while True:
            try:
                conn, address = listener.accept()
            except OSError:
                if self._stopping.is_set():
                    return
                log.exception("%s: accept on the shared socket failed", self.name)
                self._stopping.wait(0.1)
                continue
            if self._stopping.is_set():
                conn.close()
                return
            self._httpd.process_request(conn, address)

    def stop(self) -> None:
        self._stopping.set()
        if self._shared:
            # the listening socket is every worker's: it stays open, and the accept thread stays
            # blocked in accept until the process ends (or closes the next connection it takes)
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
