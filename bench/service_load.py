"""Bench f: ``egov serve`` and ``egov worker`` as deployed processes against the simulators.

1. **ShEP proxy cost**: one sync ``SendMessage`` (ECHO) posted unsigned to the service's
   ``/shep/sync`` on one keep-alive ``http.client`` connection, against the same call made directly
   with the ``GatewayClient`` in the bench's process; median per call of interleaved repeats, one
   caller at a time. Target ≤ 1.3×. Beside it: the same with a python-requests caller, and the CPU
   per call (the bench's process and the service's, from ``/proc``) proxied against direct, which
   a loaded machine disturbs less than wall time.
2. **JSON API under 64 callers**: ``GET /api/v1/flows/{id}`` (API key check, the flow, its history
   and claim read from the store, the JSON answer: the API's cheap route) and ``GET
   /api/v1/legal-entities/{bin}`` (a signed look-up through the gateway, the answer's signatures
   verified, every attempt journalled: what most routes do) on 64 keep-alive connections, closed
   loop, one request in flight each, driven from one thread through a selector; throughput, p50,
   p99, errors (answers other than 200). Target: p99 < 100 ms, 0 errors. Once with ``egov serve``
   (one process), once with ``egov serve --workers 2``.
3. **Flows per second with 1 and 2 workers**: Diagram-2 issue flows (the employee's path: no fee to
   wait for) started through a broker-mode ``egov serve`` and run by ``egov worker`` processes
   (4 threads each) over Redis and one SQLite database (WAL); from the first start to the last
   flow completed; CPU per flow of the workers, of the service and of the simulators (from
   ``/proc/<pid>/stat``).

The simulators run in a subprocess (``bench.flows --serve``), the service and the workers are
``egov`` subprocesses of this checkout, Redis a throwaway ``redis-server`` (part 3 is "not
measured" without it). Everything on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench import Row, per_call_interleaved, percentile
from bench.flows import landscape_process
from bench.gateway_load import _complete_reply

ROOT = Path(__file__).resolve().parent.parent
EGOV = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]
CLIENTS = 64
SYNC = "http://bip.bee.kz/SyncChannel/v10/Interfaces"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"


# --------------------------------------------------------------------------- processes

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and of its live descendants (``egov serve --workers N``
    runs its processes as children of a supervisor)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            total += cpu_seconds(current)
        pending += _children(current)
    return total


@dataclass
class Egov:
    """An ``egov`` command in the background, its output in ``workdir``."""

    args: tuple[str, ...]
    env: dict[str, str]
    workdir: Path
    name: str
    process: subprocess.Popen[bytes] | None = None
    port: int | None = None

    def start(self, ready: str) -> Egov:
        out = (self.workdir / f"{self.name}.out").open("wb")
        err = (self.workdir / f"{self.name}.err").open("wb")
        self.process = subprocess.Popen([*EGOV, *self.args], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                        env=self.env, cwd=self.workdir)
        deadline = time.monotonic() + 90
        while ready not in (self.workdir / f"{self.name}.out").read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start: "
                                   f"{(self.workdir / f'{self.name}.err').read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        """CPU seconds of the command's processes (its children included)."""
        assert self.process is not None
        return tree_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _env(settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return {**env, **settings}


def serve(workdir: Path, settings: dict[str, str], name: str = "serve", *, workers: int = 1) -> Egov:
    """``egov serve`` (``--workers``), once every process answers (each has its own start time)."""
    port = _free_port()
    proc = Egov(("serve", "--port", str(port), "--workers", str(workers)), _env(settings), workdir, name, port=port)
    proc.start("egov service listening")
    deadline = time.monotonic() + 90
    answered: set[str] = set()
    while len(answered) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(answered)} of {workers} service processes answered")
        with contextlib.suppress(requests.RequestException):
            answered.add(str(requests.get(f"{proc.url}/healthz", headers={"Connection": "close"},
                                          timeout=5).json()["started_at"]))
        time.sleep(0.02)
    return proc


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str | None]:
    """A throwaway Redis (no persistence) and its URL; None without ``redis-server``."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = _free_port()
    process = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly",
                                "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


# --------------------------------------------------------------------------- 1. the proxy's cost

def unsigned_send_message(sender_id: str) -> bytes:
    return (f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><ns2:SendMessage xmlns:ns2="{SYNC}"><request>'
            f"<requestInfo><messageId>{uuid.uuid4()}</messageId><serviceId>ECHO</serviceId>"
            f"<messageDate>2026-12-03T10:00:00Z</messageDate><sender><senderId>{sender_id}</senderId></sender>"
            "</requestInfo><requestData><data><ping xmlns=\"urn:egov-adapters:bench\">Сәлем</ping></data>"
            "</requestData></request></ns2:SendMessage></soap:Body></soap:Envelope>").encode()


def proxy_cost(manifest: Path, service: Egov, key: str, workdir: Path, *, quick: bool) -> list[Row]:
    """The proxy's cost: its caller on one keep-alive connection (``http.client``: what a lean
    client in any language does), and the same calls from python-requests (a heavier client)."""
    from lxml import etree

    from procedure.clients import ProcedureClients

    clients = ProcedureClients.from_manifest(manifest, database_url=f"sqlite:///{workdir / 'direct.db'}")
    session = requests.Session()
    sender = clients.endpoints.sender_id
    url = f"{service.url}/shep/sync"
    headers = {"X-API-Key": key, "Content-Type": "text/xml; charset=utf-8"}
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)

    def direct() -> None:
        data = etree.fromstring('<ping xmlns="urn:egov-adapters:bench">Сәлем</ping>'.encode())
        clients.gateway.send_message("ECHO", data)

    def check(status: int, body: bytes) -> None:
        if status != 200 or b"SCSS001" not in body:
            raise RuntimeError(f"proxy answered {status}: {body[:300]!r}")

    def proxied() -> None:
        body = unsigned_send_message(sender)
        try:
            connection.request("POST", "/shep/sync", body=body, headers=headers)
            answer = connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # the server closes a connection idle for 5 s (uvicorn's keep-alive timeout), which the
            # batches of direct calls can exceed on a loaded machine: reconnect, as a client does
            connection.close()
            connection.request("POST", "/shep/sync", body=body, headers=headers)
            answer = connection.getresponse()
        check(answer.status, answer.read())

    def proxied_requests() -> None:
        answer = session.post(url, data=unsigned_send_message(sender), headers=headers, timeout=30)
        check(answer.status_code, answer.content)

    def cpu_per_call(fn: Callable[[], None], calls: int) -> float:
        """CPU seconds per call of this process and the service's together (on a loaded machine
        wall time also counts the waits for a core, CPU time does not)."""
        mine, theirs = time.process_time(), service.cpu()
        for _ in range(calls):
            fn()
        return (time.process_time() - mine + service.cpu() - theirs) / calls

    try:
        n = 10 if quick else 60
        times = per_call_interleaved({"direct": (direct, n), "proxy": (proxied, n), "requests": (proxied_requests, n)},
                                     repeats=3 if quick else 5)
        cpu: dict[str, list[float]] = {"direct": [], "proxy": []}
        for _ in range(3):
            cpu["direct"].append(cpu_per_call(direct, 2 * n))
            cpu["proxy"].append(cpu_per_call(proxied, 2 * n))
    finally:
        connection.close()
        session.close()
        clients.close()
    ratio = times["proxy"] / times["direct"]
    heavy = times["requests"] / times["direct"]
    cpu_proxy, cpu_direct = statistics.median(cpu["proxy"]), statistics.median(cpu["direct"])
    return [Row(bench="f", figure="ShEP proxy call / direct adapter call (same gateway call)", value=ratio, unit="×",
                target="≤ 1.3×", met=ratio <= 1.3,
                note=f"proxy {times['proxy'] * 1000:.2f} ms per call (the caller's POST on a keep-alive connection, "
                     f"the service's HTTP, envelope and schema check, caller's key, then the same signed exchange), "
                     f"direct {times['direct'] * 1000:.2f} ms"),
            Row(bench="f", figure="the same, the caller on python-requests / direct", value=heavy, unit="×",
                note=f"{times['requests'] * 1000:.2f} ms per call: requests' own cost per call is the caller's"),
            Row(bench="f", figure="CPU per call: proxied (caller + service) / direct", value=cpu_proxy / cpu_direct,
                unit="×", note=f"{cpu_proxy * 1000:.2f} ms against {cpu_direct * 1000:.2f} ms (medians of 3 × "
                               f"{2 * n} calls; the simulators' CPU, the same for both, not counted)")]


# --------------------------------------------------------------------------- 2. the JSON API

@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU seconds spent during the run, by whom: ``service``, ``simulators``, ``load generator``."""

    def cpu_per_answer(self, who: str) -> float:
        return self.cpu[who] / max(len(self.latencies), 1)


def closed_loop_get(url: str, path: str, headers: dict[str, str], *, clients: int, duration: float) -> Load:
    """``clients`` keep-alive connections each with one GET in flight, for ``duration`` seconds."""
    host, port = "127.0.0.1", int(url.rsplit(":", 1)[1])
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    result = Load()
    selector = selectors.DefaultSelector()
    conns: list[dict[str, Any]] = []
    for _ in range(clients):
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(request)
        buffer = bytearray()
        while _complete_reply(buffer) is None:
            buffer += sock.recv(65536)
        sock.setblocking(False)
        conns.append({"sock": sock, "buffer": bytearray(), "sent": 0.0})
    began, generator_cpu = time.perf_counter(), time.thread_time()
    deadline = began + duration
    for conn in conns:
        selector.register(conn["sock"], selectors.EVENT_READ, conn)
        conn["sent"] = time.perf_counter()
        conn["sock"].sendall(request)
    active = len(conns)
    while active:
        for key, _ in selector.select(timeout=5.0):
            conn = key.data
            chunk = conn["sock"].recv(65536)
            if not chunk:
                result.errors["closed"] = result.errors.get("closed", 0) + 1
                selector.unregister(conn["sock"])
                active -= 1
                continue
            conn["buffer"] += chunk
            reply = _complete_reply(conn["buffer"])
            if reply is None:
                continue
            now = time.perf_counter()
            status, _ = reply
            if status == 200:
                result.latencies.append(now - conn["sent"])
            else:
                result.errors[f"HTTP {status}"] = result.errors.get(f"HTTP {status}", 0) + 1
            conn["buffer"] = bytearray()
            if now >= deadline:
                selector.unregister(conn["sock"])
                active -= 1
                continue
            conn["sent"] = time.perf_counter()
            conn["sock"].sendall(request)
    result.elapsed = time.perf_counter() - began
    result.cpu["load generator"] = time.thread_time() - generator_cpu
    for conn in conns:
        conn["sock"].close()
    selector.close()
    return result


CORES = os.cpu_count() or 1


def measured_load(service: Egov, landscape_cpu: Callable[[], float | None], path: str, headers: dict[str, str],
                  *, duration: float) -> Load:
    """:func:`closed_loop_get` on ``path``, with the CPU the service's processes and the simulators
    spent meanwhile (from ``/proc``) beside the load generator's own."""
    before = service.cpu(), landscape_cpu()
    load = closed_loop_get(service.url, path, headers, clients=CLIENTS, duration=duration)
    after = service.cpu(), landscape_cpu()
    load.cpu["service"] = after[0] - before[0]
    if before[1] is not None and after[1] is not None:
        load.cpu["simulators"] = after[1] - before[1]
    return load


def _cpu_note(load: Load) -> str:
    spent = ", ".join(f"{who} {load.cpu_per_answer(who) * 1000:.2f} ms" for who in load.cpu)
    generator = load.cpu["load generator"] / load.elapsed if load.elapsed else 0.0
    return (f"CPU per answer from /proc: {spent} (the load generator used {generator:.2f} of a core "
            f"of the {CORES})")


def _load_rows(label: str, what: str, load: Load, *, floor: bool = False) -> list[Row]:
    errors = sum(load.errors.values())
    if not load.latencies:
        return [Row(bench="f", figure=label, value=None, note=f"no answer: {load.errors}")]
    p50, p99 = percentile(load.latencies, 50) * 1000, percentile(load.latencies, 99) * 1000
    rate = len(load.latencies) / load.elapsed
    rows = [Row(bench="f", figure=f"{label}: throughput", value=rate, unit="req/s",
                note=f"{what}, {CLIENTS} keep-alive callers, {load.elapsed:.1f} s, {len(load.latencies)} answers"),
            Row(bench="f", figure=f"{label}: latency p50", value=p50, unit="ms"),
            Row(bench="f", figure=f"{label}: latency p99", value=p99, unit="ms", target="< 100 ms", met=p99 < 100),
            Row(bench="f", figure=f"{label}: errors", value=float(errors), target="0", met=errors == 0,
                note=str(load.errors) if errors else ""),
            Row(bench="f", figure=f"{label}: the service's CPU per answer", value=load.cpu_per_answer("service") * 1000,
                unit="ms", note=_cpu_note(load))]
    if floor:
        # every answer needs this much CPU of the machine's cores: with CLIENTS callers always
        # waiting, an answer waits on average for CLIENTS answers' CPU shared by the cores
        per_answer = load.cpu_per_answer("service") + (load.cpu_per_answer("simulators") if "simulators" in load.cpu
                                                        else 0.0)
        rows.append(Row(bench="f", figure=f"{label}: mean latency floor from the CPU per answer",
                        value=per_answer * CLIENTS / CORES * 1000, unit="ms",
                        note=f"(service + simulators) {per_answer * 1000:.2f} ms × {CLIENTS} callers / {CORES} cores: "
                             "no scheduling gets the mean under it on this machine"))
    return rows


def api_load(service: Egov, key: str, flow_id: str, bin_value: str, landscape_cpu: Callable[[], float | None], *,
             processes: int, quick: bool) -> list[Row]:
    """Two routes: a flow's state (a read of the flow store, no exchange: the API's cheap route) and
    a Legal Entities look-up (a signed request through the gateway, its signed answer verified and
    journalled: what most of the API's routes do); the floor, ``/healthz``, beside them."""
    duration = 2.0 if quick else 10.0
    floor = closed_loop_get(service.url, "/healthz", {}, clients=CLIENTS, duration=1.0 if quick else 5.0)
    flows = measured_load(service, landscape_cpu, f"/api/v1/flows/{flow_id}", {"X-API-Key": key}, duration=duration)
    lookups = measured_load(service, landscape_cpu, f"/api/v1/legal-entities/{bin_value}", {"X-API-Key": key},
                            duration=duration)
    where = f"{processes} service process{'es' if processes > 1 else ''}"
    return [*_load_rows(f"JSON API, {CLIENTS} callers, {where}", "GET /api/v1/flows/{id} (a store read)", flows),
            *_load_rows(f"JSON API, signed look-up, {CLIENTS} callers, {where}",
                        "GET /api/v1/legal-entities/{bin} (a signed exchange with the register)", lookups, floor=True),
            Row(bench="f", figure=f"the service's floor, GET /healthz, {where}: throughput",
                value=len(floor.latencies) / floor.elapsed if floor.latencies else None, unit="req/s",
                note=(f"p99 {percentile(floor.latencies, 99) * 1000:.0f} ms, errors {sum(floor.errors.values())}: "
                      "no key, no database, the same process and middleware") if floor.latencies else "")]


# --------------------------------------------------------------------------- 3. flows on workers

def _diagram2(land: Any) -> dict[str, Any]:
    from harness import play
    from harness.scenario import Scenario
    from procedure.application import SERVICE_CODES
    from procedure.models import Operation, Service

    applicant = land.new_applicant()
    service = Service.SCHOOL
    officer = land.officer(land.licensor_for(SERVICE_CODES[service], applicant.city_kato).code)
    scenario = Scenario(service=service, operation=Operation.ISSUE, diagram=2, applicant=applicant, officer=officer)
    return play.application(scenario, land).model_dump(mode="json")


def _start_all(url: str, key: str, apps: list[dict[str, Any]]) -> list[str]:
    ids = []
    with requests.Session() as session:
        for app in apps:
            answer = session.post(f"{url}/api/v1/flows", json={"application": app}, headers={"X-API-Key": key},
                                  timeout=30)
            if answer.status_code != 202:
                raise RuntimeError(f"start refused: {answer.status_code} {answer.text[:300]}")
            ids.append(answer.json()["flow_id"])
    return ids


def _wait_completed(database: str, ids: list[str], timeout: float) -> tuple[int, int]:
    from procedure.store import FlowStore

    store = FlowStore.from_url(database)
    try:
        deadline = time.monotonic() + timeout
        while True:
            flows = [store.get_flow(i) for i in ids]
            if all(f.status.terminal or f.status.value == "failed" for f in flows) or time.monotonic() > deadline:
                done = sum(1 for f in flows if f.status.value == "completed")
                return done, len(flows) - done
            time.sleep(0.05)
    finally:
        store.engine.dispose()


def flows_on_workers(land: Any, manifest: Path, landscape_cpu: Callable[[], float | None], workdir: Path,
                     key: str, callers: Path, *, quick: bool) -> list[Row]:
    rows: list[Row] = []
    rates: dict[int, float] = {}
    with redis_server(workdir) as broker:
        if broker is None:
            return [Row(bench="f", figure="flows per second on workers", value=None,
                        note="redis-server (Debian package redis-server) not installed")]
        database = f"sqlite:///{workdir / 'workers.db'}"
        settings = {"EGOV_LANDSCAPE_MANIFEST": str(manifest), "EGOV_DATABASE_URL": database,
                    "EGOV_BROKER_URL": broker, "EGOV_SERVICE_CALLERS_FILE": str(callers),
                    "EGOV_FLOW_FILES_DIR": str(land.workdir), "EGOV_ARTEFACTS_DIR": str(workdir / "artefacts"),
                    "EGOV_WORKER_THREADS": "4", "EGOV_FLOW_NOTICE_WAIT_SECONDS": "2", "EGOV_LOG_LEVEL": "WARNING",
                    "EGOV_RETRY_MAX_ATTEMPTS": "3", "EGOV_RETRY_MAX_TOTAL_SECONDS": "10"}
        service = serve(workdir, settings, "serve-broker")
        try:
            count = 4 if quick else 24
            for n_workers in (1, 2):
                workers = [Egov(("worker",), _env(settings), workdir, f"worker-{n_workers}-{i}").start("egov worker:")
                           for i in range(n_workers)]
                try:
                    warm = [_diagram2(land) for _ in range(2 * n_workers)]
                    _wait_completed(database, _start_all(service.url, key, warm), 120)
                    apps = [_diagram2(land) for _ in range(count)]
                    cpu0 = [w.cpu() for w in workers], service.cpu(), landscape_cpu()
                    began = time.perf_counter()
                    ids = _start_all(service.url, key, apps)
                    done, failed = _wait_completed(database, ids, 300)
                    took = time.perf_counter() - began
                    worker_cpu = sum(w.cpu() for w in workers) - sum(cpu0[0])
                    serve_cpu = service.cpu() - cpu0[1]
                    sims = landscape_cpu()
                    sim_cpu = (sims - cpu0[2]) if sims is not None and cpu0[2] is not None else None
                finally:
                    for w in workers:
                        w.stop()
                rate = rates[n_workers] = done / took
                per = (f"{worker_cpu / max(done, 1) * 1000:.0f} ms workers, "
                       f"{serve_cpu / max(done, 1) * 1000:.0f} ms serve")
                if sim_cpu is not None:
                    per += f", {sim_cpu / max(done, 1) * 1000:.0f} ms simulators"
                rows.append(Row(bench="f", figure=f"Diagram-2 flows per second, {n_workers} worker process(es)",
                                value=rate, unit="flows/s",
                                note=f"{done} flows in {took:.1f} s ({failed} not completed), 4 threads each; CPU per "
                                     f"flow: {per}"))
                rows.append(Row(bench="f", figure=f"CPU per flow, {n_workers} worker(s): workers + serve",
                                value=(worker_cpu + serve_cpu) / max(done, 1) * 1000, unit="ms"))
                if failed:
                    rows.append(Row(bench="f", figure=f"flows not completed, {n_workers} worker(s)",
                                    value=float(failed), target="0", met=False))
        finally:
            service.stop()
    if rates.get(1) and rates.get(2):
        rows.append(Row(bench="f", figure="flows per second, 2 workers / 1 worker", value=rates[2] / rates[1],
                        unit="×", note="the 2 cores are shared by the workers, the service and the simulators"))
    return rows


# --------------------------------------------------------------------------- the bench

def run(quick: bool = False) -> list[Row]:
    from harness.landscape import MINISTRY_BIN, Landscape
    from service.callers import add_caller

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="egov-bench-f-") as tmp:
        workdir = Path(tmp)
        with landscape_process(workdir / "landscape") as sims:
            land = Landscape.attach(sims.manifest)
            callers = workdir / "callers.json"
            key = add_caller(callers, "bench", ["*"])
            settings = {"EGOV_LANDSCAPE_MANIFEST": str(sims.manifest),
                        "EGOV_DATABASE_URL": f"sqlite:///{workdir / 'service.db'}",
                        "EGOV_SERVICE_CALLERS_FILE": str(callers), "EGOV_FLOW_FILES_DIR": str(land.workdir),
                        "EGOV_ARTEFACTS_DIR": str(workdir / "artefacts"), "EGOV_LOG_LEVEL": "WARNING",
                        "EGOV_FLOW_NOTICE_WAIT_SECONDS": "2"}
            service = serve(workdir, settings)
            try:
                rows += proxy_cost(sims.manifest, service, key, workdir, quick=quick)
                flow_id = _start_all(service.url, key, [_diagram2(land)])[0]
                _wait_completed(settings["EGOV_DATABASE_URL"], [flow_id], 120)
                rows += api_load(service, key, flow_id, MINISTRY_BIN, sims.cpu_seconds, processes=1, quick=quick)
            finally:
                service.stop()
            several = serve(workdir, settings, "serve-2", workers=2)
            try:
                rows += api_load(several, key, flow_id, MINISTRY_BIN, sims.cpu_seconds, processes=2, quick=quick)
            finally:
                several.stop()
            rows += flows_on_workers(land, sims.manifest, sims.cpu_seconds, workdir, key, callers, quick=quick)
    return rows


def main(argv: list[str] | None = None) -> int:
    from bench import print_rows

    parser = argparse.ArgumentParser(prog="python -m bench.service_load", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print_rows(run(quick=args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
