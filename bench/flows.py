"""Bench b: complete Diagram-1 flows per second on two cores against the simulators.

The simulator landscape (test PKI with OCSP/CRL, gateway + Legal Entities, payment gateway,
E-licensing) runs in a **subprocess** (``python -m bench.flows --serve DIR``: ``Landscape.start`` +
``write_manifest``); this process attaches to it (``procedure_env(manifest=...)``) and runs complete
Diagram-1 issue flows through :class:`~procedure.steps.ProcedureSteps` from N client
threads, closed loop, for a bounded time. The simulators stand for other organisations'
systems and get their own process (their own GIL), as they would in production.
``--in-process`` runs the landscape in this process instead (one GIL for both sides), for
comparison.

``--processes N`` (default 2 in the main figures; 1 is the single client process above): the
client side runs as N **worker processes**, as a ministry system runs several workers, each with
its own GIL. ``--threads`` is the *total* number of flow threads, split between the processes
(8 threads in 2 processes = 4 each), so that runs with 1 and 2 processes compare at the same
concurrency. The workers are fresh interpreters (``python -m bench.flows --worker``, started
with ``subprocess``, never forked from this threaded process); they attach to the SAME landscape
(manifest) and use the SAME flow-state/journal database (one SQLite file, WAL, busy timeout).
Each worker gets its own copy of the manifest in its own directory, because ``Landscape.attach``
writes the PKCS#12 files of the applicants' and officers' keys, their password files and the
scans next to the manifest, and two workers would otherwise overwrite each other's officer key
files (same name, other password).
The workers attach one after another (the tables are created by the first), then prepare their
applicants and warm up concurrently; the timed window is a barrier: each worker prints
``ready`` and waits, the parent writes ``go`` to every worker's stdin at once, and each worker
answers with its flows, errors, latencies, process CPU and category timers as one JSON line.
The parent adds them up: flows/s = all flows / the longest worker's window, client CPU per flow
= the workers' process CPU / flows, the simulators' CPU from ``/proc`` as for one process.

Setup, outside the timed window: the landscape, the applicants (fresh BIN, Legal Entities record,
two NCA keys issued by the test PKI and loaded from their PKCS#12, as the applicant's own signing
tool would hold them, a portal account: every flow logs in, none registers, so that two flows of
one applicant never race to register it), their requests (scans and password files written), one
warm-up flow per client thread. Each applicant applies for every service it has a licensor for
(one issue flow per service), so one prepared applicant serves several flows.

Shares of client CPU time are measured with per-thread CPU timers (``time.thread_time``) around
the entry points of each category, the innermost category winning (time in a nested category is
subtracted from the outer one): signing = ``SigningService`` (c14n, digests, RSA), verification =
``VerificationService`` and ``CertificateValidator`` (chain, revocation decisions), XML = the
hardened parser, schema checks, SOAP envelopes, lxml serialisation, the message builders and
readers (each adapter's ``messages.py`` and ``answers.py``, ``adapters/contracts/elicense.py``), HTTP =
the network transport's ``request`` (``adapters.core.http.NetworkTransport``: every SOAP call, the
OCSP/CRL fetches, the bank's payments and the landscape's control calls), PDF = licence rendering,
state = the flow store and exchange journal (SQLite); other = the rest of the worker threads' CPU
(flow machine, pydantic models, adapters' own logic, garbage collection).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import Row, percentile
from bench import documents as documents_bench

TARGET_FLOWS_PER_SECOND = 50.0
PDF_RATE_SHARE_TARGET = 80.0
"""The rate with the licence PDF, in % of the rate without it (a one-page document is cheap)."""
SERVICES = ("higher-postgraduate", "religious", "technical-vocational", "school", "republican-budget")
CATEGORIES = ("signing", "verification", "XML", "HTTP", "PDF", "state (SQLite)")


@dataclass(frozen=True)
class FlowBenchConfig:
    """One measurement: how many client threads, for how long, PDFs or not, where the simulators run."""

    threads: int = 8
    duration: float = 10.0
    """Seconds of the timed window (closed loop: each thread starts its next flow when one ends)."""
    render_pdf: bool = True
    """``False``: the licence PDF is not rendered (the artefact of the demo, not of the exchange)."""
    in_process: bool = False
    """``True``: the simulators run in this process (one GIL for clients and simulators)."""
    processes: int = 1
    """Client processes; ``threads`` is the total, split between them (1: the flows run in this process)."""

    def threads_of(self, index: int) -> int:
        """Flow threads of client process ``index`` (the remainder goes to the first ones)."""
        return self.threads // self.processes + (1 if index < self.threads % self.processes else 0)


@dataclass
class Measurement:
    config: FlowBenchConfig
    flows: int
    errors: int
    elapsed: float
    latencies: list[float]
    shares: dict[str, float]
    """Category -> seconds of worker-thread CPU."""
    worker_cpu: float
    client_cpu: float
    """Whole client process CPU in the window (with the simulators' threads when in-process; the sum
    of the workers' when several client processes)."""
    server_cpu: float | None
    """The simulator process's CPU in the window (subprocess mode)."""
    pool_exhausted: bool = False
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.flows / self.elapsed if self.elapsed > 0 else 0.0


# --------------------------------------------------------------------------- CPU timers by category

@dataclass
class _Frame:
    since: float
    """Thread CPU time when this category last resumed."""
    spent: float = 0.0


class CategoryTimers:
    """Thread CPU time by category; the innermost active category of a thread is charged."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.totals: dict[str, float] = dict.fromkeys(CATEGORIES, 0.0)
        self.enabled = False

    def _stack(self) -> list[_Frame]:
        stack: list[_Frame] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def wrap(self, category: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        if getattr(fn, "__bench_category__", None):
            return fn

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.enabled:
                return fn(*args, **kwargs)
            stack = self._stack()
            now = time.thread_time()
            if stack:  # pause the outer category
                outer = stack[-1]
                outer.spent += now - outer.since
            frame = _Frame(now)
            stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                end = time.thread_time()
                stack.pop()
                spent = frame.spent + end - frame.since
                with self._lock:
                    self.totals[category] += spent
                if stack:
                    stack[-1].since = end

        timed.__bench_category__ = category  # type: ignore[attr-defined]
        return timed

    def reset(self) -> None:
        with self._lock:
            self.totals = dict.fromkeys(CATEGORIES, 0.0)


def _replace_everywhere(original: Any, replacement: Any, undo: list[Callable[[], None]]) -> None:
    """Replace a module-level function in every loaded module that imported it by name."""
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for name, value in list(namespace.items()):
            if value is original:
                namespace[name] = replacement
                undo.append(functools.partial(namespace.__setitem__, name, original))


def _functions_of(module: Any) -> list[str]:
    return [n for n, v in vars(module).items()
            if isinstance(v, types.FunctionType) and getattr(v, "__module__", None) == module.__name__]


@contextlib.contextmanager
def instrumented(timers: CategoryTimers) -> Iterator[None]:
    """Wrap the categories' entry points (this process only; undone on exit)."""
    import lxml.etree

    from adapters import contracts
    from adapters.contracts import elicense as el_contract
    from adapters.core import soap, xmlparse
    from adapters.core.http import NetworkTransport
    from adapters.core.journal import ExchangeJournal
    from adapters.core.trust.validator import CertificateValidator
    from adapters.core.xmlsig import SigningService, VerificationService
    from adapters.egov_gateway import answers as gw_answers
    from adapters.egov_gateway import messages as gw_messages
    from adapters.elicense import answers as el_answers
    from adapters.elicense import messages as el_messages
    from adapters.legal_entities import answers as le_answers
    from adapters.legal_entities import messages as le_messages
    from adapters.payment_gateway import answers as pg_answers
    from adapters.payment_gateway import messages as pg_messages
    from procedure import documents
    from procedure.store import FlowStore

    undo: list[Callable[[], None]] = []
    methods: list[tuple[str, type, str]] = [
        ("signing", SigningService, "sign_envelope"), ("signing", SigningService, "sign_document"),
        ("verification", VerificationService, "verify_envelope"),
        ("verification", VerificationService, "verify_document"),
        ("verification", CertificateValidator, "validate"),
        ("HTTP", NetworkTransport, "request"),
    ]
    methods += [("state (SQLite)", FlowStore, n) for n, v in vars(FlowStore).items()
                if isinstance(v, types.FunctionType) and not n.startswith("__")]
    methods += [("state (SQLite)", ExchangeJournal, n) for n in ("record",)]
    for category, cls, name in methods:
        original = cls.__dict__[name]
        if isinstance(original, staticmethod):
            setattr(cls, name, staticmethod(timers.wrap(category, original.__func__)))
        else:
            setattr(cls, name, timers.wrap(category, original))
        undo.append(functools.partial(setattr, cls, name, original))
    functions: list[tuple[str, Any, str]] = [
        ("XML", xmlparse, "parse_xml"), ("XML", contracts, "schema_errors"), ("XML", contracts, "load_schema"),
        ("XML", soap, "serialize"), ("XML", soap, "build_envelope"), ("XML", lxml.etree, "tostring"),
        ("PDF", documents, "render_licence_pdf"), ("PDF", documents, "render_refusal_letter_pdf"),
    ]
    for module in (el_messages, el_answers, el_contract, le_messages, le_answers, pg_messages, pg_answers,
                   gw_messages, gw_answers):
        functions += [("XML", module, n) for n in _functions_of(module)]
    for category, module, name in functions:
        original = getattr(module, name)
        wrapped = timers.wrap(category, original)
        setattr(module, name, wrapped)
        undo.append(functools.partial(setattr, module, name, original))
        _replace_everywhere(original, wrapped, undo)
    try:
        yield
    finally:
        for step in reversed(undo):
            step()


@contextlib.contextmanager
def without_licence_pdf() -> Iterator[None]:
    """Licence PDFs not rendered (an empty file is written): the exchange's cost alone."""
    from procedure import artefacts

    name = "render_licence_pdf"
    original = getattr(artefacts, name)
    setattr(artefacts, name, lambda view, **kwargs: b"")
    try:
        yield
    finally:
        setattr(artefacts, name, original)


# --------------------------------------------------------------------------- the landscape

def serve(workdir: Path) -> None:
    """Run the landscape until stdin closes; print the manifest's path when ready."""
    from harness.landscape import Landscape

    with Landscape.start(workdir) as land:
        path = land.write_manifest()
        print(path, flush=True)
        sys.stdin.read()


@dataclass
class LandscapeProcess:
    process: subprocess.Popen[str]
    manifest: Path

    def cpu_seconds(self) -> float | None:
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def landscape_process(workdir: Path) -> Iterator[LandscapeProcess]:
    process = subprocess.Popen([sys.executable, "-m", "bench.flows", "--serve", str(workdir)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parent.parent)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"the landscape subprocess ended before it was ready (exit {process.wait()})")
        yield LandscapeProcess(process, Path(line))
    finally:
        _stop(process)


# --------------------------------------------------------------------------- the flows' requests

@dataclass
class Pool:
    """Prepared requests (the flows' applications), handed out in order (service-major, so
    concurrent flows rarely share an applicant)."""

    env: Any
    steps: Any
    applications: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    prepared: int = 0

    def add_applicants(self, count: int) -> None:
        from harness.scenario import Fault, Scenario
        from procedure.application import SERVICE_CODES
        from procedure.models import Operation, Service

        land = self.env.landscape
        applicants = [land.new_applicant(fault=Fault.NONE) for _ in range(count)]
        for applicant in applicants:
            land.register_on_portal(applicant)
        for service in SERVICES:
            for applicant in applicants:
                try:
                    licensor = land.licensor_for(SERVICE_CODES[Service(service)], applicant.city_kato)
                except Exception:  # no licensor for that region and service: not a flow of this applicant
                    continue
                officer = land.officer(licensor.code)
                application = self.env.application(Scenario(service=Service(service), operation=Operation.ISSUE,
                                                            diagram=1, applicant=applicant, officer=officer))
                # The applicant's keys, loaded as its signing tool holds them (setup, not the flow).
                for ref in (applicant.auth_key, applicant.sign_key, officer.key):
                    self.steps.logins.key(ref)
                self.applications.put(application)
                self.prepared += 1

    def take(self) -> Any | None:
        try:
            return self.applications.get_nowait()
        except queue.Empty:
            return None


def _run_one(env: Any, steps: Any, application: Any) -> tuple[bool, str]:
    from procedure.models import FlowStatus

    result = steps.start(application, env.store)
    if result.status is FlowStatus.COMPLETED and result.step == "11":
        return True, ""
    return False, f"{result.status.value} at step {result.step}: {result.detail}"


def _process_cpu() -> float:
    t = os.times()
    return t.user + t.system


def measure(env: Any, steps: Any, pool: Pool, config: FlowBenchConfig, timers: CategoryTimers,
            server_cpu: Callable[[], float | None]) -> Measurement:
    """Closed loop: ``config.threads`` threads run flows until the window ends or the pool is empty."""
    latencies: list[float] = []
    errors: list[str] = []
    worker_cpu = [0.0]
    lock = threading.Lock()
    exhausted = threading.Event()
    start_gate = threading.Barrier(config.threads + 1)
    deadline = [0.0]

    def worker() -> None:
        start_gate.wait()
        cpu0 = time.thread_time()
        while time.perf_counter() < deadline[0]:
            application = pool.take()
            if application is None:
                exhausted.set()
                break
            began = time.perf_counter()
            try:
                ok, why = _run_one(env, steps, application)
            except Exception as exc:  # counted, and the first one is shown
                ok, why = False, f"{type(exc).__name__}: {exc}"
            took = time.perf_counter() - began
            with lock:
                if ok:
                    latencies.append(took)
                else:
                    errors.append(why)
        with lock:
            worker_cpu[0] += time.thread_time() - cpu0

    threads = [threading.Thread(target=worker, name=f"flow-client-{i}") for i in range(config.threads)]
    for t in threads:
        t.start()
    timers.reset()
    timers.enabled = True
    server0 = server_cpu()
    client0 = _process_cpu()
    started = time.perf_counter()
    deadline[0] = started + config.duration
    start_gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    client = _process_cpu() - client0
    server1 = server_cpu()
    timers.enabled = False
    return Measurement(config=config, flows=len(latencies), errors=len(errors), elapsed=elapsed,
                       latencies=latencies, shares=dict(timers.totals), worker_cpu=worker_cpu[0],
                       client_cpu=client, server_cpu=None if server0 is None or server1 is None else server1 - server0,
                       pool_exhausted=exhausted.is_set(), first_error=errors[0] if errors else "")


@contextlib.contextmanager
def environment(workdir: Path, in_process: bool) -> Iterator[tuple[Any, Callable[[], float | None]]]:
    from harness.env import procedure_env

    db = f"sqlite:///{workdir / 'egov.db'}"
    if in_process:
        with procedure_env(manifest=None, db=db, out_dir=workdir / "out") as env:
            yield env, lambda: None
        return
    with landscape_process(workdir / "landscape") as lp, \
            procedure_env(manifest=lp.manifest, db=db, out_dir=workdir / "out") as env:
        yield env, lp.cpu_seconds


def _top_up(pool: Pool, guess: Measurement, config: FlowBenchConfig, threads: int,
            log: Callable[[str], None]) -> None:
    """Enough prepared requests for ``config``'s window (setup, outside the window)."""
    # the warm-up's rate underestimates a warm run (first logins, imports): ask for 3×
    wanted = int(max(guess.rate, 1.0) * config.duration * 3) + 2 * threads
    missing = wanted - pool.applications.qsize()
    if missing > 0:
        started = time.perf_counter()
        pool.add_applicants(-(-missing // len(SERVICES)) + 1)
        log(f"prepared requests: {pool.applications.qsize()} in the pool ({time.perf_counter() - started:.1f} s)")


def _warm_up(env: Any, steps: Any, pool: Pool, threads: int, in_process: bool, timers: CategoryTimers,
             server_cpu: Callable[[], float | None], log: Callable[[str], None]) -> Measurement:
    """Prepare the first applicants and run one second of flows (imports, zeep/WSDL, sessions, officers'
    first logins); the rate is the guess the pool is sized by."""
    started = time.perf_counter()
    pool.add_applicants(max(2, threads // 2))
    log(f"prepared {pool.prepared} requests in {time.perf_counter() - started:.1f} s")
    guess = measure(env, steps, pool, FlowBenchConfig(threads=threads, duration=1.0, in_process=in_process),
                    timers, server_cpu)
    log(f"warm-up: {guess.flows} flows, {guess.errors} errors, {guess.rate:.1f}/s {guess.first_error}")
    return guess


def bench(configs: list[FlowBenchConfig], *, log: Callable[[str], None] = lambda _: None) -> list[Measurement]:
    """Measure each configuration (all with the same ``in_process`` and ``processes``) on one landscape."""
    if configs[0].processes > 1:
        return bench_processes(configs, log=log)
    in_process = configs[0].in_process
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="egov-bench-flows-") as tmp, \
            environment(Path(tmp), in_process) as (env, server_cpu):
        steps = env.steps
        pool = Pool(env, steps)
        threads = max(c.threads for c in configs)
        timers = CategoryTimers()
        with instrumented(timers):
            guess = _warm_up(env, steps, pool, threads, in_process, timers, server_cpu, log)
            for config in configs:
                _top_up(pool, guess, config, config.threads, log)
                with without_licence_pdf() if not config.render_pdf else contextlib.nullcontext():
                    m = measure(env, steps, pool, config, timers, server_cpu)
                log(f"{describe(m)}")
                results.append(m)
    return results


# --------------------------------------------------------------------------- several client processes

_RESULT_FIELDS = ("flows", "errors", "elapsed", "latencies", "shares", "worker_cpu", "client_cpu",
                  "pool_exhausted", "first_error")


def worker(stdin: Any, out: Any) -> None:
    """One client process (``--worker``): the job is the first line of ``stdin`` (JSON: manifest, db,
    out_dir, threads, configs); ``attached``/``ready``/``result`` lines go to ``out``; each timed window
    starts when the parent writes ``go``."""

    def send(event: str, **payload: Any) -> None:
        out.write(json.dumps({"event": event, **payload}) + "\n")
        out.flush()

    def log(text: str) -> None:
        print(f"    [worker {job['index']}] {text}", file=sys.stderr, flush=True)

    from harness.env import procedure_env

    job = json.loads(stdin.readline())
    threads = int(job["threads"])
    configs = [FlowBenchConfig(threads=threads, duration=float(c["duration"]), render_pdf=bool(c["render_pdf"]))
               for c in job["configs"]]
    with procedure_env(manifest=Path(job["manifest"]), db=job["db"], out_dir=Path(job["out_dir"])) as env:
        steps = env.steps
        send("attached")
        pool = Pool(env, steps)
        timers = CategoryTimers()
        with instrumented(timers):
            guess = _warm_up(env, steps, pool, threads, False, timers, lambda: None, log)
            for config in configs:
                _top_up(pool, guess, config, threads, log)
                send("ready")
                if stdin.readline().strip() != "go":
                    return  # the parent gave up
                with without_licence_pdf() if not config.render_pdf else contextlib.nullcontext():
                    m = measure(env, steps, pool, config, timers, lambda: None)
                send("result", **{name: getattr(m, name) for name in _RESULT_FIELDS})


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[str]

    def expect(self, event: str) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"client process {self.index} ended while the bench waited for {event!r} "
                               f"(exit {self.process.wait()}; its errors are above)")
        message: dict[str, Any] = json.loads(line)
        if message.get("event") != event:
            raise RuntimeError(f"client process {self.index} sent {message.get('event')!r}, expected {event!r}")
        return message

    def tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()


def _aggregate(config: FlowBenchConfig, parts: list[dict[str, Any]], server_cpu: float | None) -> Measurement:
    shares = dict.fromkeys(CATEGORIES, 0.0)
    for part in parts:
        for category, spent in part["shares"].items():
            shares[category] = shares.get(category, 0.0) + spent
    first_errors = [p["first_error"] for p in parts if p["first_error"]]
    return Measurement(config=config, flows=sum(p["flows"] for p in parts), errors=sum(p["errors"] for p in parts),
                       elapsed=max(p["elapsed"] for p in parts),
                       latencies=[lat for p in parts for lat in p["latencies"]], shares=shares,
                       worker_cpu=sum(p["worker_cpu"] for p in parts), client_cpu=sum(p["client_cpu"] for p in parts),
                       server_cpu=server_cpu, pool_exhausted=any(p["pool_exhausted"] for p in parts),
                       first_error=first_errors[0] if first_errors else "")


def bench_processes(configs: list[FlowBenchConfig], *,
                    log: Callable[[str], None] = lambda _: None) -> list[Measurement]:
    """Each configuration measured with ``processes`` client processes against one landscape subprocess."""
    processes = configs[0].processes
    threads = max(c.threads for c in configs)
    if any(c.in_process for c in configs):
        raise ValueError("several client processes need the simulators in their own process (not --in-process)")
    if threads < processes:
        raise ValueError(f"{threads} threads cannot be split between {processes} client processes")
    shape = FlowBenchConfig(threads=threads, processes=processes)
    root = Path(__file__).resolve().parent.parent
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="egov-bench-flows-") as tmp, \
            landscape_process(Path(tmp) / "landscape") as lp, contextlib.ExitStack() as stack:
        db = f"sqlite:///{Path(tmp) / 'egov.db'}"
        workers: list[_Worker] = []
        for index in range(processes):
            own = Path(tmp) / f"client-{index}"  # its keys' PKCS#12 files are written next to its manifest
            own.mkdir()
            manifest = own / lp.manifest.name
            manifest.write_bytes(lp.manifest.read_bytes())
            process = subprocess.Popen([sys.executable, "-m", "bench.flows", "--worker"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root)
            stack.callback(_stop, process)
            w = _Worker(index, process)
            workers.append(w)
            w.tell(json.dumps({"index": index, "manifest": str(manifest), "db": db, "out_dir": str(own / "out"),
                               "threads": shape.threads_of(index),
                               "configs": [{"duration": c.duration, "render_pdf": c.render_pdf} for c in configs]}))
            w.expect("attached")  # one after another: the first creates the database's tables
        log(f"{processes} client processes attached ({', '.join(str(shape.threads_of(i)) for i in range(processes))}"
            " flow threads)")
        for config in configs:
            for w in workers:
                w.expect("ready")
            server0 = lp.cpu_seconds()
            for w in workers:
                w.tell("go")
            parts = [w.expect("result") for w in workers]
            server1 = lp.cpu_seconds()
            m = _aggregate(config, parts, None if server0 is None or server1 is None else server1 - server0)
            log(describe(m))
            results.append(m)
    return results


def _stop(process: subprocess.Popen[str]) -> None:
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def describe(m: Measurement) -> str:
    c = m.config
    lat = (f"p50 {percentile(m.latencies, 50) * 1000:.0f} ms, p95 {percentile(m.latencies, 95) * 1000:.0f} ms"
           if m.latencies else "no flow completed")
    server = f", simulators {m.server_cpu / max(m.flows, 1) * 1000:.0f} ms" if m.server_cpu is not None else ""
    shape = f"{c.threads} threads" + (f" in {c.processes} client processes" if c.processes > 1 else "")
    return (f"{'with' if c.render_pdf else 'without'} licence PDF, {shape}, "
            f"{'in-process' if c.in_process else 'simulators in a subprocess'}: {m.flows} flows in "
            f"{m.elapsed:.1f} s = {m.rate:.2f}/s, {m.errors} errors, {lat}; CPU per flow: client "
            f"{m.client_cpu / max(m.flows, 1) * 1000:.0f} ms{server}"
            + (" (pool of prepared applicants ran out)" if m.pool_exhausted else "")
            + (f"; first error: {m.first_error[:200]}" if m.first_error else ""))


def share_text(m: Measurement) -> tuple[dict[str, float], str]:
    """Percentages of worker-thread CPU by category (and "other")."""
    total = m.worker_cpu or 1.0
    pct = {k: 100 * v / total for k, v in m.shares.items()}
    pct["other"] = max(0.0, 100 - sum(pct.values()))
    text = ", ".join(f"{k} {v:.0f} %" for k, v in pct.items())
    return pct, text


DEFAULT_PROCESSES = 2
"""Client processes of the main figures (a ministry system runs several workers)."""


def run(quick: bool = False, processes: int = DEFAULT_PROCESSES) -> list[Row]:
    duration = 2.0 if quick else 10.0
    threads = 4 if quick else 8
    with_pdf, without_pdf = bench([FlowBenchConfig(threads=threads, duration=duration, render_pdf=pdf,
                                                   processes=processes) for pdf in (True, False)],
                                  log=lambda s: print(f"  [b] {s}", file=sys.stderr, flush=True))
    rows: list[Row] = []
    target = f"≥ {TARGET_FLOWS_PER_SECOND:g}/s"
    for m in (with_pdf, without_pdf):
        label = "with licence PDF" if m.config.render_pdf else "without licence PDF"
        rows.append(Row(bench="b", figure=f"Diagram-1 flows per second (2 cores, simulators), {label}",
                        value=m.rate, unit="flows/s", target=target, met=m.rate >= TARGET_FLOWS_PER_SECOND,
                        note=describe(m)))
    m = with_pdf
    if m.latencies:
        rows.append(Row(bench="b", figure="flow latency p50 / p95 (with PDF)",
                        value=percentile(m.latencies, 50) * 1000, unit="ms",
                        note=f"p95 {percentile(m.latencies, 95) * 1000:.0f} ms, {m.config.threads} concurrent flows"
                             f" in {m.config.processes} client process{'es' if m.config.processes > 1 else ''}"))
    if without_pdf.rate > 0:
        ratio = 100 * with_pdf.rate / without_pdf.rate
        rows.append(Row(bench="b", figure="flows per second with the licence PDF / without it", value=ratio,
                        unit="%", target=f"≥ {PDF_RATE_SHARE_TARGET:g} %", met=ratio >= PDF_RATE_SHARE_TARGET))
    rows.append(Row(bench="b", figure="flow errors", value=float(with_pdf.errors + without_pdf.errors),
                    target="0", met=with_pdf.errors + without_pdf.errors == 0,
                    note=with_pdf.first_error or without_pdf.first_error))
    for m in (with_pdf, without_pdf):
        pct, text = share_text(m)
        label = "with PDF" if m.config.render_pdf else "without PDF"
        core = pct["signing"], pct["verification"], pct["XML"], pct["HTTP"]
        rows.append(Row(bench="b", figure=f"share of client CPU: signing / verification / XML / HTTP ({label})",
                        value=sum(core), unit="%",
                        note=f"{' / '.join(f'{v:.0f}' for v in core)} %; all: {text}; "
                             f"worker CPU {m.worker_cpu / max(m.flows, 1) * 1000:.0f} ms per flow"))
    rows += documents_bench.run(quick=quick)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flows", description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=8, help="flow threads in all (split between the processes)")
    parser.add_argument("--processes", type=int, default=None,
                        help=f"client processes (default {DEFAULT_PROCESSES}; 1 with --in-process)")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--in-process", action="store_true", help="simulators in this process (one GIL)")
    parser.add_argument("--no-pdf", action="store_true", help="only the run without licence PDFs")
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return 0
    if args.worker:
        # the protocol gets its own descriptor; stray prints of libraries go to stderr
        protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
        os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        sys.stdout = sys.stderr
        with protocol:
            worker(sys.stdin, protocol)
        return 0
    processes = args.processes if args.processes is not None else (1 if args.in_process else DEFAULT_PROCESSES)
    if processes < 1 or (args.in_process and processes > 1) or args.threads < processes:
        parser.error("--processes: at least 1, at most --threads, and 1 with --in-process")
    if args.quick or (args.threads == 8 and args.duration == 10.0 and not args.in_process and not args.no_pdf):
        from bench import print_rows

        print_rows(run(quick=args.quick, processes=processes))
        return 0
    configs = [FlowBenchConfig(threads=args.threads, duration=args.duration, render_pdf=pdf,
                               in_process=args.in_process, processes=processes)
               for pdf in ((False,) if args.no_pdf else (True, False))]
    for m in bench(configs, log=lambda s: print(f"  {s}", file=sys.stderr, flush=True)):
        print(describe(m))
        print("  shares of worker CPU:", share_text(m)[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
