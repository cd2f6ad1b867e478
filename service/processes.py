"""Several service processes on one port (``egov serve --workers N``), each with a socket of its own.

uvicorn's own ``--workers`` hands one listening socket to every process; whichever process wakes
first accepts a new connection, so the connections of keep-alive callers can end up all in one
process (bench f saw 64 of 64 in one of two). Here each process listens on its own socket bound
with ``SO_REUSEPORT`` to the same port, and the kernel spreads new connections over the sockets by
a hash of the client's address and port, evenly on average.

The supervisor (this process) binds the sockets (a taken port is a ConfigurationError before any
process starts), spawns one process per socket, each running uvicorn over
:data:`APP_FACTORY` (its own runtime from the ``EGOV_*`` settings), replaces a process that dies,
and on SIGINT or SIGTERM asks every process to stop (uvicorn finishes the requests under way) and
waits for them. ``/metrics`` of any process adds up the counters of all: the processes share a
prometheus_client multiprocess directory (:func:`metrics_directory`, :mod:`service.metrics`).

A caveat of ``SO_REUSEPORT``: another program of the same user that also sets it may bind the same
port beside the service; the port is not taken in the usual sense.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path

import uvicorn

from adapters.core.errors import ConfigurationError
from service.metrics import MULTIPROC_ENV, forget_process
from service.server import bind, uvicorn_config

__all__ = ["APP_FACTORY", "bind_processes", "metrics_directory", "serve_processes"]

APP_FACTORY = "service.main:app_from_settings"
"""What each process imports and calls: its own runtime and app from the settings."""
EARLY_EXIT_SECONDS = 10.0
"""A process that ends sooner than this after its start is not replaced: the service stops (a
process that cannot start would otherwise be restarted for ever)."""
STOP_SECONDS = 15.0
_METRIC_FILES = ("counter_*.db", "gauge_*.db", "histogram_*.db", "summary_*.db")

log = logging.getLogger("service.processes")


def bind_processes(host: str, port: int, workers: int) -> list[socket.socket]:
    """``workers`` sockets listening on one port with ``SO_REUSEPORT`` (port 0: a free one, shared)."""
    first = bind(host, port, reuse_port=True)
    sockets = [first]
    try:
        for _ in range(workers - 1):
            sockets.append(bind(host, int(first.getsockname()[1]), reuse_port=True))
    except ConfigurationError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


@contextlib.contextmanager
def metrics_directory() -> Iterator[Path]:
    """The multiprocess metrics directory of the processes about to start.

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


def _serve_one(listening: socket.socket) -> None:
    """A service process: uvicorn over :data:`APP_FACTORY` on its own socket until SIGTERM."""
    uvicorn.Server(uvicorn_config(APP_FACTORY, factory=True)).run(sockets=[listening])


class _Supervisor:
    def __init__(self, sockets: list[socket.socket]) -> None:
        self.sockets = sockets
        self.context = multiprocessing.get_context("spawn")
        self.processes: list[BaseProcess] = []
        self.started: list[float] = []
        self.stop = threading.Event()

    def _spawn(self, index: int) -> BaseProcess:
        process = self.context.Process(target=_serve_one, args=(self.sockets[index],), name=f"egov-serve-{index}")
        process.start()
        return process

    def run(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop.set())
        for index in range(len(self.sockets)):
            self.processes.append(self._spawn(index))
            self.started.append(time.monotonic())
        try:
            while not self.stop.wait(0.5):
                self._replace_dead()
        finally:
            self._stop_all()

    def _replace_dead(self) -> None:
        for index, process in enumerate(self.processes):
            if process.is_alive():
                continue
            if time.monotonic() - self.started[index] < EARLY_EXIT_SECONDS:
                raise ConfigurationError(f"a service process ended at its start (exit code {process.exitcode}): "
                                         f"its log says why", setting="service_workers")
            log.warning("service process %s ended (exit code %s); starting another", process.pid, process.exitcode)
            forget_process(process.pid)
            self.processes[index] = self._spawn(index)
            self.started[index] = time.monotonic()

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests under way
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def serve_processes(sockets: list[socket.socket]) -> None:
    """One service process per socket of :func:`bind_processes`, until SIGINT or SIGTERM (blocks)."""
    with metrics_directory():
        try:
            _Supervisor(sockets).run()
        finally:
            for sock in sockets:
                sock.close()
