"""SimServer on a listening socket shared by several workers (bench e's worker processes).

Two servers in one process stand in for two processes: the kernel's accept wait is the same.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections import Counter
from pathlib import Path

from simulators.common.httpserver import Request, Response, Router, SimServer


def _router(name: str) -> Router:
    router = Router()

    def who(req: Request) -> Response:
        return Response.text(name)

    router.add("GET", "/who", who)
    return router


def _waiting_in_accept(thread: threading.Thread | None) -> bool:
    """Whether the thread is asleep in the kernel's accept (Linux: its wchan)."""
    assert thread is not None and thread.native_id is not None
    try:
        return Path(f"/proc/self/task/{thread.native_id}/wchan").read_text().startswith("inet_csk")
    except OSError:
        return False


def _until_both_wait(workers: list[SimServer]) -> None:
    deadline = time.monotonic() + 10
    while not all(_waiting_in_accept(w._thread) for w in workers):
        if time.monotonic() > deadline:
            raise AssertionError("the workers' accept threads did not get back to accept")
        time.sleep(0.001)


def test_connections_opened_one_at_a_time_alternate_between_the_workers() -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        workers = [SimServer(_router(name), name=name, listen_socket=listener).start() for name in ("a", "b")]
        try:
            assert {w.port for w in workers} == {listener.getsockname()[1]}
            served: Counter[str] = Counter()
            connections = []
            for _ in range(8):
                # as in bench e: the next connection is opened once both workers wait in accept
                _until_both_wait(workers)
                conn = http.client.HTTPConnection("127.0.0.1", workers[0].port, timeout=10)
                conn.request("GET", "/who")
                resp = conn.getresponse()
                assert resp.status == 200
                served[resp.read().decode()] += 1
                connections.append(conn)
            # keep-alive: each connection stays with the worker that accepted it
            for conn in connections:
                conn.request("GET", "/who")
                assert conn.getresponse().read().decode() in served
                conn.close()
        finally:
            for w in workers:
                w.stop()
    assert served == Counter({"a": 4, "b": 4}), served


def test_a_stopped_worker_leaves_the_shared_socket_to_the_others() -> None:
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        first = SimServer(_router("a"), name="a", listen_socket=listener).start()
        first.stop()  # returns at once; the socket stays open
        second = SimServer(_router("b"), name="b", listen_socket=listener).start()
        try:
            answers = set()
            for _ in range(4):  # the stopped worker may take (and close) one connection
                conn = http.client.HTTPConnection("127.0.0.1", second.port, timeout=10)
                try:
                    conn.request("GET", "/who")
                    answers.add(conn.getresponse().read().decode())
                except (ConnectionError, http.client.HTTPException):
                    answers.add("closed")
                finally:
                    conn.close()
            assert "b" in answers
            assert "a" not in answers
        finally:
            second.stop()
