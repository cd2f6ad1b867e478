"""Serving the app with uvicorn on a socket bound here, in the foreground or on a background thread.

The socket is bound before uvicorn starts, so a taken port is a clear
:class:`~adapters.core.errors.ConfigurationError` (and port 0 gives a free port whose number is
known at once). uvicorn is told not to configure logging (the project's JSON logs stay) and not to
write its own access log (:mod:`service.request_context` writes one line per request, with the
request id).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from adapters.core.errors import ConfigurationError
from service.metrics import MULTIPROC_ENV

STARTUP_TIMEOUT = 15.0
HTTP = "httptools"
"""uvicorn's HTTP/1.1 parser: httptools (llhttp, in C) costs a fraction of h11's pure-Python state
machine per request (bench f, bench/README.md)."""
LOOP = "uvloop"
"""The event loop: uvloop (libuv) wakes the loop from the thread pool and writes answers for less
than asyncio's selector loop."""


APP_FACTORY = "service.main:app_from_settings"
"""What each process of :func:`serve_processes` imports and calls: its own runtime from the settings."""
_METRIC_FILES = ("counter_*.db", "gauge_*.db", "histogram_*.db", "summary_*.db")


def _config(app: Any, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", http=HTTP, loop=LOOP,
                          timeout_graceful_shutdown=5, server_header=False, **options)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; a taken port or a bad address is a ConfigurationError."""
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
        self.server = uvicorn.Server(_config(app))
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

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> ServiceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def metrics_directory() -> Iterator[Path]:
    """The multiprocess metrics directory for the processes about to start (:mod:`service.metrics`).

    ``PROMETHEUS_MULTIPROC_DIR`` when set (its metric files of an earlier run are removed first:
    prometheus_client adds up whatever files it finds), otherwise a fresh directory removed at the
    end; the variable is set for the processes this one starts."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for pattern in _METRIC_FILES:
            for stale in directory.glob(pattern):
                stale.unlink()
        yield directory
        return
    directory = Path(tempfile.mkdtemp(prefix="egov-metrics-"))
    os.environ[MULTIPROC_ENV] = str(directory)
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def serve_processes(listening: socket.socket, workers: int) -> None:
    """``workers`` service processes on one listening socket, until SIGINT or SIGTERM (blocks).

    uvicorn's supervisor: each process is spawned, builds its own runtime from the ``EGOV_*``
    settings (:data:`APP_FACTORY`) and accepts connections from the shared socket (the kernel hands
    each connection to one of them); a process that dies is replaced. ``/metrics`` of any process
    adds up the counters of all (:func:`metrics_directory`)."""
    config = _config(APP_FACTORY, factory=True, workers=workers)
    with metrics_directory():
        try:
            Multiprocess(config, sockets=[listening]).run()
        finally:
            listening.close()
