"""A small, concurrent HTTP/1.1 server that every simulator runs on.

Built on the standard library's ``ThreadingHTTPServer`` on purpose: fault injection needs raw
control of the socket (reset a connection, drip a body, send garbage and close), which
frameworks hide. A simulator supplies a :class:`Router`; the server runs it in a daemon thread on
127.0.0.1 and a free port, and stops cleanly.

Handlers receive a :class:`Request` and return a :class:`Response`, or take over the socket with
``request.raw`` (a :class:`RawConnection`) to misbehave on purpose.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024  # 30 MB of attachments in base64 plus the envelope
_COALESCE_BYTES = 256 * 1024
"""Bodies up to this size are sent in the same write as the headers (larger ones are not copied)."""


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
        """Close with RST instead of FIN (SO_LINGER 0): the client sees 'connection reset'."""
        self.taken = True
        sock: socket.socket = self._h.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

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


def _make_handler_class(router: Router, name: str) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"egov-sim-{name}/1.0"
        # headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm holds the
        # body until the client's delayed ACK (~40 ms on Linux) on every keep-alive response
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", name, format % args)

        def _dispatch(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self.send_error(413, "request body too large")
                return
            body = self.rfile.read(length) if length else b""
            raw = RawConnection(self)
            req = Request(self.command, url.path, parse_qs(url.query), dict(self.headers.items()),
                          body, raw, self.client_address[0])
            handler = router.resolve(self.command, url.path)
            if handler is None:
                resp: Response | None = Response.text(f"no route for {self.command} {url.path}", 404)
            else:
                try:
                    resp = handler(req)
                except Exception as exc:  # a simulator bug must not kill the server thread
                    log.exception("%s handler failed", name)
                    resp = Response.text(f"internal simulator error: {exc}", 500)
            if raw.taken or resp is None:
                self.close_connection = True
                return
            self.send_response(resp.status)
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(resp.body)))
            if self.command != "HEAD" and len(resp.body) <= _COALESCE_BYTES:
                # headers and body in one write: what end_headers + write would send, in one
                # syscall and one TCP segment instead of two
                self._headers_buffer.append(b"\r\n")  # type: ignore[attr-defined]
                self._headers_buffer.append(resp.body)  # type: ignore[attr-defined]
                self.flush_headers()
                return
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _dispatch

    return _Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _SharedPortServer(_Server):
    """Binds with ``SO_REUSEPORT``: several processes may listen on one port, the kernel spreads
    the connections over them (worker processes of a load test)."""

    allow_reuse_port = True


class SimServer:
    """Runs a router on 127.0.0.1 in a background thread. Use as a context manager or start/stop."""

    def __init__(self, router: Router, *, name: str = "sim", host: str = "127.0.0.1", port: int = 0,
                 reuse_port: bool = False) -> None:
        """``reuse_port`` lets other processes listen on the same port (``SO_REUSEPORT``, Linux);
        each process then has its own state."""
        self.name = name
        server_class = _SharedPortServer if reuse_port else _Server
        self._httpd = server_class((host, port), _make_handler_class(router, name))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SimServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"sim-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
