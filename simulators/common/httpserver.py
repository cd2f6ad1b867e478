"""The socket server every simulator runs on: a thread per connection, HTTP/1.1 spoken by h11.

A simulator supplies a :class:`Router` of pure handlers (a :class:`Request` in, a
:class:`Response` or a :class:`WireFault` out); :class:`SimServer` runs it in a daemon thread on
127.0.0.1 and a free port (or on a listening socket shared with other processes), and stops
cleanly. Each connection is served by :class:`~simulators.common.connection.HttpConnection`,
which parses with h11, keeps the limits of :mod:`simulators.common.limits` and plays wire faults
on the socket.

The same routers run under any ASGI server (:func:`simulators.common.asgi.asgi_app`) and in the
adapters' in-process transport (:func:`simulators.common.inprocess.router_app`).
"""

from __future__ import annotations

import logging
import platform
import socket
import socketserver
import threading

from simulators.common.connection import HttpConnection
from simulators.common.headers import Headers
from simulators.common.limits import MAX_BODY_BYTES, MAX_HEAD_BYTES, MAX_HEADERS, MAX_LINE_BYTES
from simulators.common.messages import Request, Response
from simulators.common.router import Handler, Router
from simulators.common.wire_fault import WireFault

__all__ = [
    "MAX_BODY_BYTES", "MAX_HEADERS", "MAX_HEAD_BYTES", "MAX_LINE_BYTES", "Handler", "Headers", "Request",
    "Response", "Router", "SimServer", "WireFault",
]

log = logging.getLogger(__name__)


def _handler_class(router: Router, server: str) -> type[socketserver.BaseRequestHandler]:
    class _Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            # without TCP_NODELAY, Nagle's algorithm would hold an answer's second write (a large
            # body sent after its head, a drip's next chunk) until the client's delayed ACK
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            HttpConnection(sock, str(self.client_address[0]), router, server=server).serve()

    return _Handler


class _Server(socketserver.ThreadingTCPServer):
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
        instead, which leaves one worker with more connections than another and its requests
        waiting longer. A worker stopped alone leaves the shared socket to the others; its accept
        thread (a daemon) closes whatever it takes after.
        """
        self.name = name
        handler = _handler_class(router, f"egov-sim-{name}/1.0 Python/{platform.python_version()}")
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
