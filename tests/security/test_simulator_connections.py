"""A simulator is not held by clients that never finish (issue 11, item 10).

Over real sockets, against the gateway simulator with shortened timeouts:

- 300 half-sent request heads and 10 unfinished 20 MB bodies: meanwhile an honest signed call is
  answered, and every attack connection gets 408 and is closed once its timeout is over;
- beyond ``max_connections``, a connection is answered 503 at once and holds no thread; once the
  timeouts free the slots, honest calls are served again;
- request bytes beyond ``max_buffered_bytes`` (all connections together) are refused with 503, and
  what the server holds stays within the cap.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from lxml import etree

from adapters.core.xmlsig import VerificationService
from simulators.common.limits import ConnectionLimits
from simulators.egov_gateway import EchoBackend, GatewaySimulator
from tests.fixtures.gateway import ECHO_SERVICE, SENDER_BIN, SENDER_ID, SENDER_PASSWORD, GatewayEnv, GatewayKeys

MiB = 1024 * 1024
HEAD = b"POST /bip-sync-wss-gost/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\n"


@pytest.fixture
def gateway_with() -> Iterator[Callable[..., GatewayEnv]]:
    """A started gateway simulator with the given :class:`ConnectionLimits`, as a :class:`GatewayEnv`."""
    started: list[GatewaySimulator] = []

    def start(keys: GatewayKeys, limits: ConnectionLimits) -> GatewayEnv:
        sim = GatewaySimulator(key=keys.gateway.key_material, verification=VerificationService(keys.validator),
                               limits=limits)
        sim.add_sender(SENDER_ID, SENDER_PASSWORD, bin=SENDER_BIN)
        echo = EchoBackend()
        sim.register_backend(ECHO_SERVICE, echo)
        started.append(sim.start())
        return GatewayEnv(sim, echo, keys, faults=None)  # type: ignore[arg-type]

    yield start
    for sim in started:
        sim.stop()


def _port(env: GatewayEnv) -> int:
    return int(env.sim.url.rsplit(":", 1)[1])


def half_sent_head(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(HEAD + b"Content-Le")
    return sock


def unfinished_body(port: int, announced: int, sent: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(HEAD + b"Content-Length: %d\r\n\r\n" % announced)
    sock.sendall(b"x" * sent)
    return sock


def still_open(sock: socket.socket) -> bool:
    """Nothing to read and no end of stream: the server holds the connection."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)


def answer_then_close(sock: socket.socket, within: float) -> bytes:
    """Everything the server sends until it closes, which must be within ``within`` seconds."""
    deadline = time.monotonic() + within
    received = b""
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"still open after {within} s; received {received[:60]!r}") from None
        except ConnectionResetError:
            return received
        if not data:
            return received
        received += data


def wait_until(condition: Callable[[], bool], within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def honest_call(env: GatewayEnv) -> str:
    with env.client() as client:
        return client.send_message(ECHO_SERVICE, etree.Element("{urn:test}q")).status.code


def test_half_sent_heads_and_unfinished_bodies_do_not_keep_others_out(gateway_with: Callable[..., GatewayEnv],
                                                                      gateway_keys: GatewayKeys) -> None:
    limits = ConnectionLimits(header_timeout_seconds=4.0, body_timeout_seconds=8.0)
    env = gateway_with(gateway_keys, limits)
    port = _port(env)
    server = env.sim.server
    assert server is not None
    bodies = [unfinished_body(port, 20 * MiB, 19 * MiB) for _ in range(10)]
    heads = [half_sent_head(port) for _ in range(300)]
    try:
        assert wait_until(lambda: server.budget.held >= 10 * 19 * MiB)  # the bodies are held by the server...
        assert honest_call(env) == "SCSS001"  # ...while an honest signed call is answered
        assert all(still_open(s) for s in heads + bodies)
        for sock in heads:
            assert answer_then_close(sock, limits.header_timeout_seconds + 5).startswith(b"HTTP/1.1 408 ")
        for sock in bodies:
            assert answer_then_close(sock, limits.body_timeout_seconds + 5).startswith(b"HTTP/1.1 408 ")
    finally:
        for sock in heads + bodies:
            sock.close()
    time.sleep(0.2)
    assert server.budget.held == 0
    assert honest_call(env) == "SCSS001"


def test_connections_beyond_the_cap_are_turned_away_without_a_thread(gateway_with: Callable[..., GatewayEnv],
                                                                     gateway_keys: GatewayKeys) -> None:
    limits = ConnectionLimits(header_timeout_seconds=2.0, max_connections=40)
    env = gateway_with(gateway_keys, limits)
    port = _port(env)
    threads_before = threading.active_count()
    held = [half_sent_head(port) for _ in range(40)]
    try:
        assert wait_until(lambda: threading.active_count() >= threads_before + 40)
        extra = [half_sent_head(port) for _ in range(20)]
        for sock in extra:
            assert answer_then_close(sock, 1.5).startswith(b"HTTP/1.1 503 ")
            sock.close()
        assert threading.active_count() <= threads_before + 40
        for sock in held:
            assert answer_then_close(sock, limits.header_timeout_seconds + 5).startswith(b"HTTP/1.1 408 ")
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    assert honest_call(env) == "SCSS001"


def test_request_bytes_beyond_the_cap_are_refused(gateway_with: Callable[..., GatewayEnv],
                                                  gateway_keys: GatewayKeys) -> None:
    limits = ConnectionLimits(body_timeout_seconds=3.0, max_buffered_bytes=8 * MiB)
    env = gateway_with(gateway_keys, limits)
    port = _port(env)
    server = env.sim.server
    assert server is not None
    first = unfinished_body(port, 6 * MiB, 5 * MiB)
    assert wait_until(lambda: server.budget.held >= 5 * MiB)
    second = unfinished_body(port, 6 * MiB, 3 * MiB + MiB // 2)
    try:
        assert answer_then_close(second, 5).startswith(b"HTTP/1.1 503 ")
        assert 5 * MiB <= server.budget.held <= 8 * MiB
        assert honest_call(env) == "SCSS001"
        assert answer_then_close(first, limits.body_timeout_seconds + 5).startswith(b"HTTP/1.1 408 ")
    finally:
        first.close()
        second.close()
    time.sleep(0.2)
    assert server.budget.held == 0
