"""Bench e: the gateway simulator under 64 concurrent clients for a bounded time.

The simulator runs in **subprocesses** (``python -m bench.gateway_load --serve DIR``; two by
default, accepting on one listening socket made by the parent, each with its own state), so that the load
generator does not share a GIL with it; it verifies every request's WS-Security signature
(chain checked, revocation "none"), routes it to an :class:`EchoBackend` and signs every answer,
as in the tests.

The load generator holds 64 keep-alive HTTP/1.1 connections driven by one thread through a selector
(each with one request in flight, a closed loop, as load tools such as wrk work). The signed
``SendMessage`` requests (each with its own messageId, so the gateway's deduplication never
short-cuts one) are signed *before* the timed window: the client's signing cost is bench a's
subject, and signing inside the window would put the generator, not the simulator, on the
critical path of a 2-core machine. Replies are checked for HTTP 200 and status SCSS001, not
verified (same reason). The run stops after ``duration`` seconds or when the signed requests run
out, whichever comes first.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import selectors
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from bench import (
    ECHO_SERVICE,
    SENDER_BIN,
    SENDER_ID,
    SENDER_PASSWORD,
    BenchKeys,
    Row,
    make_keys,
    percentile,
)

CLIENTS = 64
P12_PASSWORD = "bench"
TARGET_P99_MS = 100.0


# --------------------------------------------------------------------------- server side (subprocess)

def write_server_keys(keys: BenchKeys) -> Path:
    """Files the server subprocess loads: the gateway's PKCS#12, the root and the issuing CA."""
    from cryptography.hazmat.primitives.serialization import Encoding

    where = keys.directory / "gateway-server"
    where.mkdir(exist_ok=True)
    keys.gateway.write_pkcs12(where / "gateway.p12", P12_PASSWORD)  # 0600
    (where / "ca.pem").write_bytes(keys.pki.root_certificate.public_bytes(Encoding.PEM))
    (where / "issuing.pem").write_bytes(keys.pki.issuing_certificate.public_bytes(Encoding.PEM))
    return where


def serve(directory: Path, *, listen_fd: int | None = None) -> None:
    """Run the gateway simulator until stdin closes; print its sync URL as one JSON line.

    ``listen_fd``: a listening socket inherited from the parent and shared by every worker
    process (connections alternate between them, see :class:`SimServer`); else a free port.
    """
    from adapters.core.trust.keystore import KeyMaterial
    from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
    from adapters.core.trust.validator import CertificateValidator
    from adapters.core.xmlsig import VerificationService
    from simulators.egov_gateway import EchoBackend, GatewaySimulator

    key = KeyMaterial.from_pkcs12(directory / "gateway.p12", P12_PASSWORD)
    validator = CertificateValidator.from_files([directory / "ca.pem"], [directory / "issuing.pem"],
                                                revocation=RevocationChecker(RevocationPolicy.NONE))
    sim = GatewaySimulator(key=key, verification=VerificationService(validator))
    sim.add_sender(SENDER_ID, SENDER_PASSWORD, bin=SENDER_BIN)
    sim.register_backend(ECHO_SERVICE, EchoBackend())
    shared = socket.socket(fileno=listen_fd) if listen_fd is not None else None
    sim.start(listen_socket=shared)
    try:
        print(json.dumps({"url": sim.sync_url, "port": int(urlsplit(sim.url).port or 0)}), flush=True)
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        sim.stop()


@dataclass
class ServerProcess:
    """The simulator's worker process(es), all accepting on one listening socket."""

    processes: list[subprocess.Popen[bytes]]
    url: str
    logs: list[IO[bytes]]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for log in self.logs:
            log.close()


def _spawn(directory: Path, index: int, listener: socket.socket, env: dict[str, str]) \
        -> tuple[subprocess.Popen[bytes], IO[bytes], dict[str, Any]]:
    log = (directory / f"server-{index}.log").open("wb")
    fd = listener.fileno()
    process = subprocess.Popen([sys.executable, "-m", "bench.gateway_load", "--serve", str(directory),
                                "--listen-fd", str(fd)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, pass_fds=(fd,))
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        log.close()
        raise RuntimeError(f"gateway simulator subprocess did not start; see {directory / f'server-{index}.log'}")
    return process, log, json.loads(line)


def start_server(keys: BenchKeys, workers: int = 1) -> ServerProcess:
    """The simulator in ``workers`` subprocesses sharing one listening socket made here (each
    takes connections with a blocking accept, so they alternate between the workers)."""
    directory = write_server_keys(keys)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with socket.create_server(("127.0.0.1", 0), backlog=128) as listener:
        first, log, hello = _spawn(directory, 0, listener, env)
        server = ServerProcess([first], hello["url"], [log])
        try:
            for index in range(1, workers):
                process, log, _ = _spawn(directory, index, listener, env)
                server.processes.append(process)
                server.logs.append(log)
        except BaseException:
            server.stop()
            raise
    return server


# --------------------------------------------------------------------------- load generator

def signed_requests(keys: BenchKeys, count: int) -> list[bytes]:
    """``count`` signed SendMessage envelopes, each with its own messageId."""
    import zeep

    from adapters.contracts import SYNC_WSDL, contract_path
    from adapters.core.xmlsig import SigningService
    from bench.payloads import application_data

    client = zeep.Client(str(contract_path(SYNC_WSDL)))
    template = client.create_message(client.service, "SendMessage", request={
        "requestInfo": {"messageId": str(uuid.uuid4()), "serviceId": ECHO_SERVICE,
                        "messageDate": dt.datetime.now(dt.UTC),
                        "sender": {"senderId": SENDER_ID, "password": SENDER_PASSWORD}},
        "requestData": {"data": application_data()},
    })
    signing = SigningService(keys.client.key_material)
    out: list[bytes] = []
    for _ in range(count):
        envelope = copy.deepcopy(template)
        message_id = envelope.find(".//requestInfo/messageId")
        assert message_id is not None
        message_id.text = str(uuid.uuid4())
        out.append(signing.sign_envelope(envelope))
    return out


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    exhausted: bool = False

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class _Connection:
    """One client's keep-alive connection: the request in flight and the bytes read so far."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.sock = socket.create_connection(address, timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buffer = bytearray()
        self.sent_at = 0.0

    def reopen(self) -> None:
        self.sock.close()
        self.__init__(self.address)  # type: ignore[misc]


def _complete_reply(buffer: bytearray) -> tuple[int, bytes] | None:
    """``(status, body)`` once the buffer holds a whole Content-Length-framed reply, else None.

    The simulator always frames its answers with Content-Length; anything else is an error.
    """
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).split(b"\r\n")
    status = int(head[0].split(b" ", 2)[1])
    length = None
    for line in head[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise ValueError("reply without Content-Length")
    if len(buffer) < end + 4 + length:
        return None
    body = bytes(buffer[end + 4:end + 4 + length])
    del buffer[:end + 4 + length]
    return status, body


def generate_load(url: str, requests: list[bytes], *, clients: int = CLIENTS, duration: float = 10.0) -> LoadResult:
    """``clients`` keep-alive connections, each with one request in flight at a time (closed loop).

    One thread drives every connection through a selector, as load tools such as wrk do: 64
    Python threads would spend the generator's share of the two cores on their own GIL hand-overs
    and put that wait into the latencies. The connections are opened one by one, each with one
    untimed request, before the window starts. A request's latency runs from its ``send`` to the
    last byte of its reply. A connection that fails is counted as an error and reopened; a request
    unanswered for 30 s is an error too.
    """
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    head = (f"POST {parts.path} HTTP/1.1\r\nHost: {address[0]}:{address[1]}\r\n"
            f"Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \"SendMessage\"\r\n").encode()
    cursor = iter(requests)
    result = LoadResult()
    selector = selectors.DefaultSelector()

    def error(kind: str) -> None:
        result.errors[kind] = result.errors.get(kind, 0) + 1

    def send_next(conn: _Connection) -> bool:
        """Send the next request on ``conn``; False when the run is over for it."""
        if time.perf_counter() >= deadline:
            return False
        body = next(cursor, None)
        if body is None:
            result.exhausted = True
            return False
        conn.sent_at = time.perf_counter()
        conn.sock.setblocking(True)  # the request is small: one blocking sendall
        conn.sock.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        conn.sock.setblocking(False)
        return True

    def retire(conn: _Connection) -> None:
        selector.unregister(conn.sock)
        conn.sock.close()

    # Open the connections one at a time, each with one untimed request answered before the next
    # is opened: the simulator's workers take turns at accepting, so this spreads the
    # connections evenly over them (opened in a burst, one worker would drain the whole backlog).
    connections: list[_Connection] = []
    for _ in range(clients):
        body = next(cursor, None)
        if body is None:
            break
        conn = _Connection(address)
        conn.sock.setblocking(True)
        conn.sock.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        reply = None
        while reply is None:
            chunk = conn.sock.recv(262144)
            if not chunk:
                raise RuntimeError("the simulator closed a connection while it was being opened")
            conn.buffer += chunk
            reply = _complete_reply(conn.buffer)
        conn.sock.setblocking(False)
        connections.append(conn)
    began = time.perf_counter()
    deadline = began + duration
    open_connections = 0
    for conn in connections:
        selector.register(conn.sock, selectors.EVENT_READ, conn)
        if send_next(conn):
            open_connections += 1
        else:
            retire(conn)
    while open_connections:
        ready = selector.select(timeout=1.0)
        now = time.perf_counter()
        if not ready:
            for key in list(selector.get_map().values()):
                late: _Connection = key.data
                if now - late.sent_at > 30:
                    error("timeout")
                    retire(late)
                    open_connections -= 1
            continue
        for key, _ in ready:
            conn = key.data
            try:
                chunk = conn.sock.recv(262144)
                if not chunk:
                    raise ConnectionResetError("connection closed by the simulator")
                conn.buffer += chunk
                reply = _complete_reply(conn.buffer)
            except (OSError, ValueError) as exc:
                error(type(exc).__name__)
                selector.unregister(conn.sock)
                conn.reopen()
                selector.register(conn.sock, selectors.EVENT_READ, conn)
                if not send_next(conn):
                    retire(conn)
                    open_connections -= 1
                continue
            if reply is None:
                continue
            took = time.perf_counter() - conn.sent_at
            status, body = reply
            if status != 200:
                error(f"HTTP {status}")
            elif b"SCSS001" not in body:
                error("status other than SCSS001")
            else:
                result.latencies.append(took)
            if not send_next(conn):
                retire(conn)
                open_connections -= 1
    selector.close()
    result.elapsed = time.perf_counter() - began
    return result


WORKERS = 2
"""Simulator processes sharing the port in the main figures (one per core of the 2-core machine)."""


def _load(keys: BenchKeys, bodies: list[bytes], *, workers: int, duration: float) -> LoadResult:
    server = start_server(keys, workers)
    try:
        # warm every worker (the kernel spreads connections over them): a few requests per connection
        warm = generate_load(server.url, bodies[:8 * workers], clients=4 * workers, duration=30.0)
        result = generate_load(server.url, bodies[8 * workers:], clients=CLIENTS, duration=duration)
    finally:
        server.stop()
    if warm.error_count:
        raise RuntimeError(f"gateway simulator refused the warm-up requests: {warm.errors}")
    return result


def run(quick: bool = False, keys: BenchKeys | None = None, *, duration: float = 10.0,
        max_requests: int = 18000, workers: int = WORKERS, single: bool = True) -> list[Row]:
    """The main rows with ``workers`` simulator processes; with ``single``, also the throughput
    and p99 of one process, for comparison (its own run of the same length)."""
    keys = keys or make_keys()
    if quick:
        duration, max_requests = 1.0, 80
    bodies = signed_requests(keys, max_requests + 8 * workers)
    result = _load(keys, bodies, workers=workers, duration=duration)
    rate = result.completed / result.elapsed if result.elapsed else 0.0
    lat = result.latencies
    p50 = percentile(lat, 50) * 1e3 if lat else None
    p99 = percentile(lat, 99) * 1e3 if lat else None
    why_stop = "the signed requests ran out" if result.exhausted else "the time bound"
    window = (f"{CLIENTS} clients, {workers} simulator process{'es' if workers > 1 else ''} on one port, "
              f"{result.elapsed:.1f} s (stopped by {why_stop}), {result.completed} answers")
    rows = [
        Row(bench="e", figure="gateway sim, 64 clients: throughput", value=rate, unit="req/s", note=window),
        Row(bench="e", figure="gateway sim, 64 clients: latency p50", value=p50, unit="ms"),
        Row(bench="e", figure="gateway sim, 64 clients: latency p99", value=p99, unit="ms",
            target=f"< {TARGET_P99_MS:g} ms", met=None if p99 is None else p99 < TARGET_P99_MS),
        Row(bench="e", figure="gateway sim, 64 clients: errors", value=float(result.error_count), unit="",
            target="0", met=result.error_count == 0,
            note=", ".join(f"{k}: {v}" for k, v in sorted(result.errors.items()))),
    ]
    if single and workers > 1:
        # the same requests: a fresh simulator process has no dedup memory of them
        one = _load(keys, bodies, workers=1, duration=duration)
        one_rate = one.completed / one.elapsed if one.elapsed else 0.0
        one_p99 = percentile(one.latencies, 99) * 1e3 if one.latencies else None
        rows.append(Row(bench="e", figure="gateway sim, 64 clients, 1 process: throughput", value=one_rate,
                        unit="req/s", note=f"p50 {percentile(one.latencies, 50) * 1e3:.0f} ms, "
                        f"p99 {one_p99:.0f} ms, errors {one.error_count}" if one.latencies else "no answers"))
    return rows


def profile(requests: int = 600, top: int = 30) -> str:
    """cProfile summary of the simulator's work per request (its handler called in-process, no HTTP)."""
    import cProfile
    import io
    import pstats

    from adapters.core.xmlsig import VerificationService
    from simulators.common.httpserver import Request, Response
    from simulators.egov_gateway import EchoBackend, GatewaySimulator

    keys = make_keys()
    sim = GatewaySimulator(key=keys.gateway.key_material, verification=VerificationService(keys.validator()))
    sim.add_sender(SENDER_ID, SENDER_PASSWORD, bin=SENDER_BIN)
    sim.register_backend(ECHO_SERVICE, EchoBackend())
    bodies = signed_requests(keys, requests + 20)

    def handle(body: bytes) -> None:
        req = Request("POST", GatewaySimulator.SYNC_PATH, {}, {"Content-Type": "text/xml"}, body, "127.0.0.1")
        resp = sim.front.handle_post(req)
        if not isinstance(resp, Response) or resp.status != 200:
            raise RuntimeError(f"simulator answered {resp}")

    for body in bodies[:20]:
        handle(body)
    profiler = cProfile.Profile()
    profiler.enable()
    for body in bodies[20:]:
        handle(body)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> Any:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_load")
    parser.add_argument("--serve", type=Path, help="run the simulator subprocess (internal)")
    parser.add_argument("--listen-fd", type=int, default=None,
                        help="with --serve: an inherited listening socket (internal)")
    parser.add_argument("--workers", type=int, default=WORKERS, help="simulator processes sharing the port")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile the simulator's handler in-process")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, listen_fd=args.listen_fd)
        return None
    if args.profile:
        print(profile())
        return None
    from bench import print_rows

    print_rows(run(quick=args.quick, workers=args.workers))
    return None


if __name__ == "__main__":
    main()
