"""The socket server every simulator runs on: a thread per connection, HTTP/1.1 parsed by httptools.

A simulator supplies a :class:`Router` of pure handlers (a :class:`Request` in, a
:class:`Response` or a :class:`WireFault` out); :class:`SimServer` runs it in a daemon thread on
127.0.0.1 (or the host it is given) and a free port (or on a listening socket shared with other
processes), and stops cleanly. Each connection is served by
:class:`~simulators.common.connection.HttpConnection`, which parses with httptools (llhttp), keeps the limits of
:mod:`simulators.common.limits` and plays wire faults on the socket. The server as a whole keeps
its :class:`ConnectionLimits`: at most ``max_connections`` connections at once (the next is
answered 503 and closed by the accepting thread, no thread started for it) and at most
``max_buffered_bytes`` of request bytes held by all of them.

A server knows two URLs: the one it listens on (:attr:`SimServer.listen_url`) and the one its
clients use (:attr:`SimServer.url`): the configured public base URL, else the listening one. What
a simulator writes of its own address (a WSDL's service address, a licence's URL) is the public
one, never a request's ``Host`` header.

The same routers run under any ASGI server (:func:`simulators.common.asgi.asgi_app`) and in the
adapters' in-process transport (:func:`simulators.common.inprocess.router_app`).
"""

from __future__ import annotations

import contextlib
import logging
import platform
import socket
import socketserver
import threading
from typing import Any
from urllib.parse import urlsplit

from adapters.core.errors import ConfigurationError
from simulators.common.byte_budget import ByteBudget
from simulators.common.connection import HttpConnection
from simulators.common.headers import Headers
from simulators.common.limits import (
    DEFAULT_LIMITS,
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    MAX_HEADERS,
    MAX_LINE_BYTES,
    ConnectionLimits,
)
from simulators.common.messages import Request, Response
from simulators.common.router import Handler, Router
from simulators.common.wire_fault import WireFault

__all__ = [
    "MAX_BODY_BYTES", "MAX_HEADERS", "MAX_HEAD_BYTES", "MAX_LINE_BYTES", "ConnectionLimits", "Handler", "Headers",
    "Request", "Response", "Router", "SimServer", "WireFault", "base_url",
]

log = logging.getLogger(__name__)

_BUSY_TEXT = b"server busy: too many connections; retry later"
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
         b"Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s" % (len(_BUSY_TEXT), _BUSY_TEXT))
"""The whole answer to a connection beyond ``max_connections``."""
_TURNED_AWAY_READ = 64 * 1024


def base_url(value: str) -> str:
    """``value`` as a base URL (``http[s]://host[:port]``, no path, query or fragment), without a
    trailing slash; :class:`ConfigurationError` naming ``public_url`` otherwise."""
    text = value.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError as exc:
        raise ConfigurationError(f"public_url {value!r}: {exc}", setting="public_url") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query \
            or parts.fragment or parts.username is not None:
        raise ConfigurationError(f"public_url {value!r} is not a base URL (http[s]://host[:port])",
                                 setting="public_url")
    return text


def _handler_class(router: Router, server: str, limits: ConnectionLimits,
                   budget: ByteBudget) -> type[socketserver.BaseRequestHandler]:
    class _Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            # without TCP_NODELAY, Nagle's algorithm would hold an answer's second write (a large
            # body sent after its head, a drip's next chunk) until the client's delayed ACK
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            HttpConnection(sock, str(self.client_address[0]), router, server=server, limits=limits,
                           budget=budget).serve()

    return _Handler


class _Server(socketserver.ThreadingTCPServer):
    """A thread per connection, at most ``max_connections`` at once."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: Any, handler: type[socketserver.BaseRequestHandler], *, max_connections: int,
                 bind_and_activate: bool = True) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler, bind_and_activate=bind_and_activate)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._turn_away(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: the slot is free again
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _turn_away(self, request: socket.socket) -> None:
        """503 in one non-blocking write, then close: the accepting thread never waits on it. What
        the client has sent already is read first (one non-blocking read), so that the close is not
        a reset that could discard the 503 before the client reads it."""
        with contextlib.suppress(OSError):
            request.setblocking(False)
            request.recv(_TURNED_AWAY_READ)
        with contextlib.suppress(OSError):
            request.send(_BUSY)
        self.shutdown_request(request)


class _Server6(_Server):
    address_family = socket.AF_INET6


class SimServer:
    """Runs a router on 127.0.0.1 in a background thread. Use as a context manager or start/stop."""

    def __init__(self, router: Router, *, name: str = "sim", host: str = "127.0.0.1", port: int = 0,
                 listen_socket: socket.socket | None = None, limits: ConnectionLimits = DEFAULT_LIMITS,
                 public_url: str | None = None) -> None:
        """``host``: the address to listen on (127.0.0.1: this machine only; an IPv6 address is
        accepted). ``limits``: what clients may take of the server (:class:`ConnectionLimits`).
        ``public_url``: the base URL clients use (behind a proxy or a name), :attr:`url`; the
        listening URL when absent.

        ``listen_socket``: serve on a listening socket shared with other processes (worker
        processes of a load test, each with its own state) instead of binding ``host:port``.

        The workers then take connections with a *blocking* ``accept``: the kernel wakes the
        acceptor that has waited longest (an exclusive, first-in-first-out wait), so connections
        alternate between the workers. ``SO_REUSEPORT`` spreads them by a hash of the addresses
        instead, which leaves one worker with more connections than another and its requests
        waiting longer. A worker stopped alone leaves the shared socket to the others; its accept
        thread (a daemon) closes whatever it takes after.
        """
        self.name = name
        self.limits = limits
        self._public_url = base_url(public_url) if public_url else None
        self.budget = ByteBudget(limits.max_buffered_bytes)
        """Request bytes held by all connections (at most ``limits.max_buffered_bytes``)."""
        handler = _handler_class(router, f"egov-sim-{name}/1.0 Python/{platform.python_version()}", limits,
                                 self.budget)
        self._shared = listen_socket is not None
        self._stopping = threading.Event()
        server_class = _Server6 if ":" in host else _Server
        if listen_socket is None:
            self._httpd = server_class((host, port), handler, max_connections=limits.max_connections)
        else:
            server_class = _Server6 if listen_socket.family == socket.AF_INET6 else _Server
            self._httpd = server_class(listen_socket.getsockname()[:2], handler,
                                       max_connections=limits.max_connections, bind_and_activate=False)
            self._httpd.socket.close()  # the unbound socket the constructor made
            self._httpd.socket = listen_socket
            self._httpd.server_address = listen_socket.getsockname()[:2]
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def listen_url(self) -> str:
        """The URL of the listening socket (a wildcard address is reached at 127.0.0.1)."""
        host = str(self._httpd.server_address[0])
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """The base URL clients use: the configured public URL, else :attr:`listen_url`."""
        return self._public_url or self.listen_url

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
