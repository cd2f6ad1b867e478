"""Serving the app with uvicorn on a socket bound here, in the foreground or on a background thread.

The socket is bound before uvicorn starts, so a taken port is a clear
:class:`~adapters.core.errors.ConfigurationError` (and port 0 gives a free port whose number is
known at once). uvicorn is told not to configure logging (the project's JSON logs stay) and not to
write its own access log (:mod:`service.request_context` writes one line per request, with the
request id).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from adapters.core.errors import ConfigurationError

STARTUP_TIMEOUT = 15.0
HTTP = "httptools"
"""uvicorn's HTTP/1.1 parser: httptools (llhttp, in C) costs a fraction of h11's pure-Python state
machine per request (bench f, bench/README.md)."""
LOOP = "uvloop"
"""The event loop: uvloop (libuv) wakes the loop from the thread pool and writes answers for less
than asyncio's selector loop."""


def uvicorn_config(app: Any, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for the service (one process here, each of several in
    :mod:`service.processes`)."""
    return uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", http=HTTP, loop=LOOP,
                          timeout_graceful_shutdown=5, server_header=False, **options)


def bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket on ``host:port``; a taken port or a bad address is a ConfigurationError.

    ``reuse_port``: ``SO_REUSEPORT``, so that several sockets (one per process) listen on the port and
    the kernel spreads new connections over them evenly (:mod:`service.processes`)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigurationError(f"cannot listen on {host}:{port}: unknown address ({exc.strerror})",
                                 setting="service_host") from exc
    family, kind, proto, _, address = infos[0]
    # the protocol must be IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on such sockets, and
    # without it every answer (headers, then body) waits ~40 ms for the client's delayed ACK
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = "the port is taken" if exc.errno in (98, 48) else exc.strerror or str(exc)
        raise ConfigurationError(f"cannot listen on {host}:{port}: {reason}", setting="service_port") from exc
    sock.set_inheritable(True)
    return sock


class ServiceServer:
    """uvicorn serving ``app`` on ``host:port``. ``run()`` blocks (Ctrl-C/SIGTERM stop it);
    ``start()``/``stop()`` run it on a thread (tests, embedding)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, *,
                 listening: socket.socket | None = None) -> None:
        """``listening``: a socket from :func:`bind` (e.g. bound before the runtime was built)."""
        self.socket = listening if listening is not None else bind(host, port)
        self.host = host
        self.port = int(self.socket.getsockname()[1])
        self.server = uvicorn.Server(uvicorn_config(app))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def start(self) -> ServiceServer:
        self._thread = threading.Thread(target=self.run, name=f"service-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ConfigurationError(f"the service did not start on {self.url}", setting="service_port")
            time.sleep(0.01)
        return self

    def ask_to_stop(self) -> None:
        """Stop as soon as the server can (safe in a signal handler): before uvicorn is started it
        skips serving and shuts down at once; while it serves, it finishes the requests under way."""
        self.server.should_exit = True

    def stop(self) -> None:
        self.ask_to_stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> ServiceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

