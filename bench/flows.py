"""Bench b: complete Diagram-1 flows of fresh applicants against the simulators, on two cores.

The simulator landscape (test PKI with OCSP/CRL, gateway + Legal Entities, payment gateway,
E-licensing) runs in a **subprocess** (``python -m bench.flows --serve DIR``: ``Landscape.start`` +
``write_manifest``); the clients attach to it (``procedure_env(manifest=...)``) and run complete
Diagram-1 issue flows through :class:`~procedure.steps.ProcedureSteps`. The simulators stand for
other organisations' systems and get their own process (their own GIL), as they would in production.

Every flow is a **fresh applicant** (:meth:`Pool.add_requests`): a new legal entity with two new
certificates and a new portal account, so its OCSP check, login and session are new; what stays
warm is what a long-running service holds (the systems' certificates and OCSP answers, officers'
keys and sessions, schemas, connections). The licence PDF is not rendered unless asked (``--pdf``).

Two parts (:func:`run`):

1. :func:`compare`: issue 13's client changes and the code before them (:data:`VARIANTS`, put back
   by :func:`variant`) take turns flow by flow, one flow at a time in one thread: the client's
   process CPU per flow (median), the simulators' (mean of ``/proc`` deltas), the calls counted per
   flow (:data:`COUNTED`), the shares by category, and the crypto floor between the rounds.
2. :func:`bench`: a closed-loop timed window of the code as it is, ``--threads`` flow threads in
   ``--processes`` client processes (default 8 in 2), for the rate on two cores.

``--processes N``: the client side runs as N **worker processes**, as a ministry system runs several
workers, each with its own GIL. ``--threads`` is the *total* number of flow threads, split between
the processes. The workers are fresh interpreters (``python -m bench.flows --worker``, started with
``subprocess``, never forked from this threaded process); they attach to the SAME landscape
(manifest) and use the SAME flow-state/journal database (one SQLite file, WAL, busy timeout).
Each worker gets its own copy of the manifest in its own directory, because ``Landscape.attach``
writes the PKCS#12 files of the applicants' and officers' keys, their password files and the
scans next to the manifest. The workers attach one after another (the tables are created by the
first), then prepare their applicants and warm up concurrently; the timed window is a barrier: each
worker prints ``ready`` and waits, the parent writes ``go`` to every worker's stdin at once, and
each worker answers with its flows, errors, latencies, process CPU, category timers and counts as
one JSON line. The parent adds them up: flows/s = all flows / the longest worker's window, client
CPU per flow = the workers' process CPU / flows, the simulators' CPU from ``/proc``.
``--in-process`` runs the landscape in the client's process instead (one GIL for both sides).

Setup, outside any measurement: the landscape, the applicants (fresh BIN, Legal Entities record,
two NCA keys issued by the test PKI and loaded from their PKCS#12, as the applicant's own signing
tool would hold them, a portal account), their requests (scans and password files written), one
warm-up flow per client thread.

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
import statistics
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

from bench import Row, load_average, percentile
from bench import documents as documents_bench

TARGET_FLOWS_PER_SECOND = 50.0
PDF_RATE_SHARE_TARGET = 80.0
"""The rate with the licence PDF, in % of the rate without it (a one-page document is cheap)."""
SERVICES = ("higher-postgraduate", "religious", "technical-vocational", "school", "republican-budget")
CATEGORIES = ("signing", "verification", "XML", "HTTP", "PDF", "state (SQLite)")
COUNTED = ("HTTP requests", "signed exchanges", "RSA signs", "RSA verifies", "DB transactions", "OCSP requests")
"""What the bench counts per flow in the client process: HTTP requests sent (every SOAP call, OCSP/CRL
fetch, the bank's payment, control calls), signed envelope exchanges (a WS-Security signature made for
a request), RSA signature operations (XML signatures: transport and the applicant's own), RSA
verifications (XML signatures, certificate links of a chain, OCSP answers), database write
transactions (commits of the flow store and the journal), OCSP requests that went to the network."""


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
    journal_batches: bool = True
    """``False``: the code before issue 13 in this respect: every journal row its own transaction (the
    runner's step scope is not a batch)."""
    licence_once: bool = True
    """``False``: the code before issue 13 in this respect: the result step fetches and verifies the
    licence again after the decision's answer brought it verified."""

    @property
    def variant(self) -> str:
        """Which of issue 13's client changes are in: "after" (all), or what is left out."""
        missing = [name for name, on in (("journal per row", self.journal_batches),
                                         ("licence fetched twice", self.licence_once)) if not on]
        return "after" if not missing else "before: " + ", ".join(missing)

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
    counts: dict[str, int] = field(default_factory=dict)
    """Counted in the client process(es) over the window (:data:`COUNTED`)."""
    pool_exhausted: bool = False
    first_error: str = ""
    load: str = ""
    """Load average when the window ended."""

    def per_flow(self, name: str) -> float:
        return self.counts.get(name, 0) / max(self.flows, 1)

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


class CallCounters:
    """Counts of calls by name (:data:`COUNTED`), while enabled; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[str, int] = dict.fromkeys(COUNTED, 0)
        self.enabled = False

    def add(self, name: str) -> None:
        if self.enabled:
            with self._lock:
                self.counts[name] += 1

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.add(name)
            return fn(*args, **kwargs)

        return counted

    def reset(self) -> None:
        with self._lock:
            self.counts = dict.fromkeys(COUNTED, 0)


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
def instrumented(timers: CategoryTimers, counters: CallCounters | None = None) -> Iterator[None]:
    """Wrap the categories' entry points and the counted calls (this process only; undone on exit)."""
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
    methods += [("state (SQLite)", ExchangeJournal, n) for n in ("record", "_write")]  # a batch's write too
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
    if counters is not None:
        _count_calls(counters, undo)
    try:
        yield
    finally:
        for step in reversed(undo):
            step()


def _count_calls(counters: CallCounters, undo: list[Callable[[], None]]) -> None:
    """Wrap the counted calls (over the timers' wrappers, so both see every call)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from adapters.core.http import NetworkTransport
    from adapters.core.trust import revocation, validator
    from adapters.core.trust.revocation import RevocationChecker
    from adapters.core.xmlsig import SigningService, backends

    methods: list[tuple[str, type, str]] = [
        ("HTTP requests", NetworkTransport, "request"), ("signed exchanges", SigningService, "sign_envelope"),
        ("RSA signs", backends.RsaBackend, "sign"), ("OCSP requests", RevocationChecker, "_ask_ocsp"),
    ]
    for name, cls, attr in methods:
        original = cls.__dict__[attr]
        setattr(cls, attr, counters.wrap(name, original))
        undo.append(functools.partial(setattr, cls, attr, original))
    for module, attr in ((backends, "verify_value"), (validator, "_issued_by"), (revocation, "_verify_signed_by")):
        original = getattr(module, attr)
        wrapped = counters.wrap("RSA verifies", original)
        setattr(module, attr, wrapped)
        undo.append(functools.partial(setattr, module, attr, original))
        _replace_everywhere(original, wrapped, undo)

    def committed(_conn: Any) -> None:
        counters.add("DB transactions")

    event.listen(Engine, "commit", committed)
    undo.append(lambda: event.remove(Engine, "commit", committed))


@contextlib.contextmanager
def variant(config: FlowBenchConfig) -> Iterator[None]:
    """The code before issue 13's client changes, where ``config`` asks for it (undone on exit)."""
    from adapters.core.journal import ExchangeJournal
    from adapters.elicense import ElicenseClient

    with contextlib.ExitStack() as stack:
        if not config.journal_batches:
            batch = ExchangeJournal.__dict__["batch"]
            setattr(ExchangeJournal, "batch", lambda self: contextlib.nullcontext())  # noqa: B010
            stack.callback(setattr, ExchangeJournal, "batch", batch)
        if not config.licence_once:
            issue = ElicenseClient.__dict__["issue"]

            def issue_then_forget(self: Any, *args: Any, **kwargs: Any) -> Any:
                details = issue(self, *args, **kwargs)  # verified here, as before
                return details.model_copy(update={"licence": None})  # so the step fetches it again

            setattr(ElicenseClient, "issue", issue_then_forget)  # noqa: B010
            stack.callback(setattr, ElicenseClient, "issue", issue)
        yield


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
    """Prepared requests (the flows' applications), one fresh applicant each, handed out in order."""

    env: Any
    steps: Any
    applications: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    prepared: int = 0

    def add_requests(self, count: int) -> None:
        """``count`` requests, each of a NEW applicant (a fresh BIN and Legal Entities record, two new
        certificates, a new portal account), for the services in turn. The applicant's keys are loaded
        before the window, as its own signing tool holds them (the applicant signs on its side; the
        signatures themselves are in the flow); the licensors' officers' keys too (a running service
        holds its staff's keys)."""
        from harness.scenario import Fault, Scenario
        from procedure.application import SERVICE_CODES
        from procedure.models import Operation, Service

        land = self.env.landscape
        made = 0
        while made < count:
            applicant = land.new_applicant(fault=Fault.NONE)
            land.register_on_portal(applicant)
            for offset in range(len(SERVICES)):
                service = SERVICES[(self.prepared + offset) % len(SERVICES)]
                try:
                    licensor = land.licensor_for(SERVICE_CODES[Service(service)], applicant.city_kato)
                except Exception:  # no licensor for that region and service: try the next service
                    continue
                officer = land.officer(licensor.code)
                application = self.env.application(Scenario(service=Service(service), operation=Operation.ISSUE,
                                                            diagram=1, applicant=applicant, officer=officer))
                for ref in (applicant.auth_key, applicant.sign_key, officer.key):
                    self.steps.logins.key(ref)
                self.applications.put(application)
                self.prepared += 1
                made += 1
                break

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
            server_cpu: Callable[[], float | None], counters: CallCounters | None = None) -> Measurement:
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
    if counters is not None:
        counters.reset()
        counters.enabled = True
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
    counts: dict[str, int] = {}
    if counters is not None:
        counters.enabled = False
        counts = dict(counters.counts)
    return Measurement(config=config, flows=len(latencies), errors=len(errors), elapsed=elapsed,
                       latencies=latencies, shares=dict(timers.totals), worker_cpu=worker_cpu[0],
                       client_cpu=client, server_cpu=None if server0 is None or server1 is None else server1 - server0,
                       counts=counts, pool_exhausted=exhausted.is_set(), first_error=errors[0] if errors else "",
                       load=load_average())


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
    # the warm-up's rate underestimates a warm run (first logins, imports): ask for 2×
    wanted = int(max(guess.rate, 1.0) * config.duration * 2) + 2 * threads
    missing = wanted - pool.applications.qsize()
    if missing > 0:
        started = time.perf_counter()
        pool.add_requests(missing)
        log(f"prepared requests: {pool.applications.qsize()} in the pool ({time.perf_counter() - started:.1f} s)")


def _warm_up(env: Any, steps: Any, pool: Pool, threads: int, in_process: bool, timers: CategoryTimers,
             server_cpu: Callable[[], float | None], log: Callable[[str], None]) -> Measurement:
    """Prepare the first applicants and run one second of flows (imports, zeep/WSDL, sessions, officers'
    first logins); the rate is the guess the pool is sized by."""
    started = time.perf_counter()
    pool.add_requests(max(4, threads))
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
        counters = CallCounters()
        with instrumented(timers, counters):
            guess = _warm_up(env, steps, pool, threads, in_process, timers, server_cpu, log)
            for config in configs:
                _top_up(pool, guess, config, config.threads, log)
                with without_licence_pdf() if not config.render_pdf else contextlib.nullcontext(), variant(config):
                    m = measure(env, steps, pool, config, timers, server_cpu, counters)
                log(f"{describe(m)}")
                results.append(m)
                guess = m if m.rate > guess.rate else guess  # the next pool is sized by the fastest window
    return results


# --------------------------------------------------------------------------- before/after, flow by flow

VARIANTS = (FlowBenchConfig(journal_batches=False, licence_once=False), FlowBenchConfig(licence_once=False),
            FlowBenchConfig())
"""The code before issue 13's two client changes, with the journal's batches only, and as it is."""


@dataclass
class Sequential:
    """Flows of one variant, run one at a time: CPU per flow (medians) and counts per flow."""

    config: FlowBenchConfig
    client_ms: list[float] = field(default_factory=list)
    """Process CPU of the client per flow (``time.process_time``; the median is reported)."""
    simulators_ms: list[float] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))
    errors: list[str] = field(default_factory=list)
    shares: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0.0))
    """Category -> seconds of the flow thread's CPU, over the flows."""
    thread_cpu: float = 0.0
    """The flow thread's CPU over the flows (the shares' whole)."""

    def share_text(self) -> str:
        total = self.thread_cpu or 1.0
        pct = {k: 100 * v / total for k, v in self.shares.items()}
        pct["other"] = max(0.0, 100 - sum(pct.values()))
        return ", ".join(f"{k} {v:.0f} % ({v * self.thread_cpu / 100 / max(self.flows, 1) * 1000:.1f} ms)"
                         for k, v in pct.items())

    @property
    def flows(self) -> int:
        return len(self.client_ms)

    def client(self) -> float:
        return statistics.median(self.client_ms) if self.client_ms else float("nan")

    def simulators(self) -> float:
        """The mean: ``/proc`` counts CPU in clock ticks (10 ms), too coarse for a median of single flows."""
        return statistics.fmean(self.simulators_ms) if self.simulators_ms else float("nan")

    def per_flow(self, name: str) -> float:
        return self.counts.get(name, 0) / max(self.flows, 1)


def compare(rounds: int, *, variants: tuple[FlowBenchConfig, ...] = VARIANTS,
            log: Callable[[str], None] = lambda _: None) -> tuple[list[Sequential], float]:
    """``rounds`` flows of each variant, one flow at a time in this thread, the variants taking turns
    flow by flow (a burst of load from elsewhere hits them alike), each flow a fresh applicant, no PDF,
    against a landscape subprocess: the client's process CPU and the simulators' per flow, and the
    counted calls; and the crypto floor (one RSA-2048 signature + one verification, ms of CPU) measured
    between the rounds, the unit that makes the CPU figures comparable across loads and machines."""
    from bench import crypto_floor

    sign, verify = crypto_floor.operations()
    floors: list[float] = []
    results = [Sequential(v) for v in variants]
    with tempfile.TemporaryDirectory(prefix="egov-bench-flows-") as tmp, \
            environment(Path(tmp), in_process=False) as (env, server_cpu), without_licence_pdf():
        steps = env.steps
        pool = Pool(env, steps)
        started = time.perf_counter()
        pool.add_requests(len(variants) * (rounds + 1))
        log(f"prepared {pool.prepared} requests in {time.perf_counter() - started:.1f} s")
        counters = CallCounters()
        timers = CategoryTimers()
        with instrumented(timers, counters):
            for result in results:  # warm: imports, officers' first logins, the systems' certificates
                with variant(result.config):
                    _run_one(env, steps, pool.take())
            for _ in range(rounds):
                cpu0 = time.process_time()
                for _ in range(20):
                    sign()
                    verify()
                floors.append((time.process_time() - cpu0) / 20 * 1000)
                for result in results:
                    application = pool.take()
                    with variant(result.config):
                        counters.reset()
                        timers.reset()
                        counters.enabled = timers.enabled = True
                        sims0, cpu0, thread0 = server_cpu(), time.process_time(), time.thread_time()
                        ok, why = _run_one(env, steps, application)
                        thread1, cpu1, sims1 = time.thread_time(), time.process_time(), server_cpu()
                        counters.enabled = timers.enabled = False
                    if not ok:
                        result.errors.append(why)
                        continue
                    result.client_ms.append((cpu1 - cpu0) * 1000)
                    if sims0 is not None and sims1 is not None:
                        result.simulators_ms.append((sims1 - sims0) * 1000)
                    for name, n in counters.counts.items():
                        result.counts[name] += n
                    for category, spent in timers.totals.items():
                        result.shares[category] += spent
                    result.thread_cpu += thread1 - thread0
    for result in results:
        log(f"{result.config.variant}: {result.flows} flows one at a time, median CPU per flow: client "
            f"{result.client():.1f} ms, simulators {result.simulators():.1f} ms; per flow: "
            + ", ".join(f"{result.per_flow(n):.2f} {n}" for n in COUNTED)
            + (f"; {len(result.errors)} errors, the first: {result.errors[0][:200]}" if result.errors else ""))
    floor = statistics.median(floors) if floors else float("nan")
    log(f"crypto floor between the rounds: {floor:.3f} ms of CPU (RSA-2048 sign + verify)")
    return results, floor


# --------------------------------------------------------------------------- several client processes

_RESULT_FIELDS = ("flows", "errors", "elapsed", "latencies", "shares", "worker_cpu", "client_cpu",
                  "counts", "pool_exhausted", "first_error")


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
    configs = [FlowBenchConfig(threads=threads, duration=float(c["duration"]), render_pdf=bool(c["render_pdf"]),
                               journal_batches=bool(c["journal_batches"]), licence_once=bool(c["licence_once"]))
               for c in job["configs"]]
    with procedure_env(manifest=Path(job["manifest"]), db=job["db"], out_dir=Path(job["out_dir"])) as env:
        steps = env.steps
        send("attached")
        pool = Pool(env, steps)
        timers = CategoryTimers()
        counters = CallCounters()
        with instrumented(timers, counters):
            guess = _warm_up(env, steps, pool, threads, False, timers, lambda: None, log)
            for config in configs:
                _top_up(pool, guess, config, threads, log)
                send("ready")
                if stdin.readline().strip() != "go":
                    return  # the parent gave up
                with without_licence_pdf() if not config.render_pdf else contextlib.nullcontext(), variant(config):
                    m = measure(env, steps, pool, config, timers, lambda: None, counters)
                send("result", **{name: getattr(m, name) for name in _RESULT_FIELDS})
                guess = m if m.rate > guess.rate else guess  # the next pool is sized by the fastest window


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
    counts = dict.fromkeys(COUNTED, 0)
    for part in parts:
        for name, n in part["counts"].items():
            counts[name] = counts.get(name, 0) + n
    return Measurement(config=config, flows=sum(p["flows"] for p in parts), errors=sum(p["errors"] for p in parts),
                       elapsed=max(p["elapsed"] for p in parts),
                       latencies=[lat for p in parts for lat in p["latencies"]], shares=shares,
                       worker_cpu=sum(p["worker_cpu"] for p in parts), client_cpu=sum(p["client_cpu"] for p in parts),
                       server_cpu=server_cpu, counts=counts, pool_exhausted=any(p["pool_exhausted"] for p in parts),
                       first_error=first_errors[0] if first_errors else "", load=load_average())


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
                               "configs": [{"duration": c.duration, "render_pdf": c.render_pdf,
                                            "journal_batches": c.journal_batches, "licence_once": c.licence_once}
                                           for c in configs]}))
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
    return (f"{c.variant}; {'with' if c.render_pdf else 'without'} licence PDF, {shape}, "
            f"{'in-process' if c.in_process else 'simulators in a subprocess'}: {m.flows} flows in "
            f"{m.elapsed:.1f} s = {m.rate:.2f}/s, {m.errors} errors, {lat}; CPU per flow: client "
            f"{m.client_cpu / max(m.flows, 1) * 1000:.0f} ms{server}"
            + (" (pool of prepared applicants ran out)" if m.pool_exhausted else "")
            + (f"; per flow: {counts_text(m)}" if m.counts else "")
            + (f"; load average {m.load}" if m.load else "")
            + (f"; first error: {m.first_error[:200]}" if m.first_error else ""))


def counts_text(m: Measurement) -> str:
    return ", ".join(f"{m.per_flow(name):.2f} {name}" for name in COUNTED)


def share_text(m: Measurement) -> tuple[dict[str, float], str]:
    """Percentages of worker-thread CPU by category (and "other")."""
    total = m.worker_cpu or 1.0
    pct = {k: 100 * v / total for k, v in m.shares.items()}
    pct["other"] = max(0.0, 100 - sum(pct.values()))
    text = ", ".join(f"{k} {v:.0f} %" for k, v in pct.items())
    return pct, text


DEFAULT_PROCESSES = 2
"""Client processes of the main figures (a ministry system runs several workers)."""


def cpu_per_flow(m: Measurement) -> float:
    """Client CPU per flow, ms: the client processes' CPU (every thread) over the window / flows."""
    return m.client_cpu / max(m.flows, 1) * 1000


def run(quick: bool = False, processes: int = DEFAULT_PROCESSES, *, render_pdf: bool = False,
        rounds: int | None = None) -> list[Row]:
    """Two parts, each against a landscape subprocess, fresh applicants, no PDF (unless ``render_pdf``):
    flows one at a time, issue 13's client changes taking turns with the code before them (CPU per
    flow, counts per flow, each change's ratio); then a timed closed-loop window of the code as it
    is on 2 cores (flows/s, CPU per flow under concurrency, shares by category)."""
    duration = 2.0 if quick else 10.0
    threads = 4 if quick else 8
    rounds = rounds if rounds is not None else (1 if quick else 24)

    def log(text: str) -> None:
        print(f"  [b] {text}", file=sys.stderr, flush=True)

    (before, batches_only, after), floor = compare(rounds, log=log)
    m, with_pdf = bench([FlowBenchConfig(threads=threads, duration=duration, render_pdf=pdf_on, processes=processes)
                         for pdf_on in (render_pdf, True)], log=log)
    pdf = "with licence PDF" if render_pdf else "no PDF"
    client = after.client()
    rows: list[Row] = [
        Row(bench="b", figure="client CPU per Diagram-1 flow, fresh applicant, no PDF (one flow at a time)",
            value=client, unit="ms", target="≤ 20 ms", met=client <= 20.0,
            note=f"median of {after.flows} flows run one at a time, each a fresh applicant, taking turns with the "
                 f"code before issue 13 (process CPU of the client: every step, its exchanges, journal and flow "
                 f"store; the applicant's signatures made in-process too); before: {before.client():.1f} ms"),
        Row(bench="b", figure="client CPU per flow / crypto floor (same run)", value=client / floor, unit="×",
            note=f"the floor (one RSA-2048 signature + one verification) measured between the flows' rounds: "
                 f"{floor:.3f} ms of CPU; before issue 13's changes {before.client() / floor:.1f}×; a flow makes "
                 f"{after.per_flow('RSA signs'):.0f} RSA signatures itself"),
        Row(bench="b", figure="simulators' CPU per flow, fresh applicant (one flow at a time)",
            value=after.simulators(), unit="ms", target="≤ 15 ms", met=after.simulators() <= 15.0,
            note="the landscape subprocess (gateway, Legal Entities, payment gateway, E-licensing, PKI with OCSP) "
                 f"during each flow, mean; before issue 13's client changes {before.simulators():.1f} ms"),
        Row(bench="b", figure=f"Diagram-1 flows per second on 2 cores with the simulators ({pdf})",
            value=m.rate, unit="flows/s", target=f"≥ {TARGET_FLOWS_PER_SECOND:g}/s",
            met=m.rate >= TARGET_FLOWS_PER_SECOND, note=describe(m)),
        Row(bench="b", figure="client CPU per flow in that window (concurrent flows)", value=cpu_per_flow(m),
            unit="ms", note=f"{m.config.threads} concurrent flows in {m.config.processes} client process(es); "
                            f"simulators {_sims(m)} ms per flow in the same window"),
    ]
    if m.latencies:
        rows.append(Row(bench="b", figure="flow latency p50 in that window (p95 in the note)",
                        value=percentile(m.latencies, 50) * 1000, unit="ms",
                        note=f"p95 {percentile(m.latencies, 95) * 1000:.0f} ms, {m.config.threads} concurrent flows"))
    errors = m.errors + with_pdf.errors + sum(len(r.errors) for r in (before, batches_only, after))
    first = m.first_error or with_pdf.first_error or next(
        (r.errors[0] for r in (before, batches_only, after) if r.errors), "")
    rows.append(Row(bench="b", figure="flow errors", value=float(errors), target="0", met=errors == 0, note=first))
    for name in COUNTED:
        rows.append(Row(bench="b", figure=f"per flow: {name}", value=after.per_flow(name),
                        note=f"counted in the client process over {after.flows} flows; before issue 13's changes "
                             f"{before.per_flow(name):.2f}; in the concurrent window {m.per_flow(name):.2f}"))
    total = after.thread_cpu or 1.0
    rows.append(Row(bench="b", figure="client CPU by category, one flow at a time: signing + verification",
                    value=100 * (after.shares["signing"] + after.shares["verification"]) / total, unit="%",
                    note=f"all (share, ms per flow): {after.share_text()}; of the flow thread's CPU, "
                         f"{total / max(after.flows, 1) * 1000:.1f} ms per flow"))
    pct, text = share_text(m)
    rows.append(Row(bench="b", figure="client CPU by category in the window: signing + verification",
                    value=pct["signing"] + pct["verification"], unit="%",
                    note=f"all: {text} (of the flow threads' CPU, "
                         f"{m.worker_cpu / max(m.flows, 1) * 1000:.0f} ms per flow)"))
    rows.append(Row(bench="b", figure="change: a step's journal rows in one transaction (client CPU, after / before)",
                    value=batches_only.client() / before.client(), unit="×",
                    note=f"{before.client():.1f} → {batches_only.client():.1f} ms per flow (medians of "
                         f"{before.flows} flows each, taking turns); DB transactions "
                         f"{before.per_flow('DB transactions'):.1f} → "
                         f"{batches_only.per_flow('DB transactions'):.1f} per flow; simulators "
                         f"{before.simulators():.1f} → {batches_only.simulators():.1f} ms"))
    rows.append(Row(bench="b", figure="change: the licence from the decision, not fetched again (after / before)",
                    value=after.client() / batches_only.client(), unit="×",
                    note=f"{batches_only.client():.1f} → {after.client():.1f} ms per flow; HTTP requests "
                         f"{batches_only.per_flow('HTTP requests'):.1f} → {after.per_flow('HTTP requests'):.1f}, RSA "
                         f"verifies {batches_only.per_flow('RSA verifies'):.1f} → {after.per_flow('RSA verifies'):.1f} "
                         f"per flow; simulators {batches_only.simulators():.1f} → {after.simulators():.1f} ms"))
    if m.rate > 0 and not render_pdf:
        ratio = 100 * with_pdf.rate / m.rate
        rows.append(Row(bench="b", figure="flows per second with the licence PDF / without it", value=ratio,
                        unit="%", target=f"≥ {PDF_RATE_SHARE_TARGET:g} %", met=ratio >= PDF_RATE_SHARE_TARGET,
                        note=f"the same window with the licence PDF rendered by the flow: {with_pdf.rate:.2f} "
                             f"flows/s against {m.rate:.2f}; client CPU per flow {cpu_per_flow(with_pdf):.0f} ms"))
    rows += documents_bench.run(quick=quick)
    return rows


def _sims(m: Measurement) -> str:
    return "-" if m.server_cpu is None else f"{m.server_cpu / max(m.flows, 1) * 1000:.1f}"


PROFILE_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("HTTP transport", ("adapters/core/http/", "socket.py", "'sendall'", "'recv_into'", "ssl.py", "'select'",
                        "urllib3/", "http/client.py", "email/")),
    ("state: flow store and journal (SQLite)", ("sqlalchemy/", "sqlite3", "adapters/core/db.py",
                                                "adapters/core/journal.py", "procedure/store.py")),
    ("RSA signatures and verifications", ("RSAPrivateKey", "RSAPublicKey")),
    ("X.509 and OCSP parsing (cryptography)", ("cryptography/", "Certificate' objects", "ocsp")),
    ("XML signature: c14n, digests, its parse", ("adapters/core/xmlsig/",)),
    ("certificate checks (chain, revocation)", ("adapters/core/trust/",)),
    ("pydantic models", ("pydantic",)),
    ("XML: parse, schema, SOAP, builders, readers", ("adapters/core/xmlparse.py", "adapters/contracts/", "answers.py",
                                                     "messages.py", "adapters/core/soap.py", "lxml",
                                                     "notifications.py", "upload.py")),
    ("resilient caller, metrics, logs", ("adapters/core/resilience/", "tenacity", "prometheus", "core/metrics.py",
                                         "logging/", "core/logs.py", "core/attempts.py")),
    ("adapters' clients", ("adapters/",)),
    ("procedure: steps, runner", ("procedure/",)),
    ("harness: the applicant's bank, the landscape", ("harness/",)),
)
"""Categories of :func:`profile_by_category`: the first whose pattern is in a function's
``file:line(name)`` wins."""


def profile_by_category(stats: Any, flows: int) -> str:
    """Own CPU time per flow by :data:`PROFILE_CATEGORIES` (``stats``: a ``pstats.Stats`` with full
    paths). A function of no category (a builtin, the standard library, the interpreter's glue) has
    its time charged to its callers, in proportion to what each caller spent in it, up the call graph
    until a category is reached."""
    def category(key: tuple[str, int, str]) -> str | None:
        name = f"{key[0]}:{key[1]}({key[2]})"
        return next((c for c, patterns in PROFILE_CATEGORIES if any(p in name for p in patterns)), None)

    totals: dict[str, float] = {}
    pending: dict[Any, float] = {}
    for key, (_, _, own, _, _) in stats.stats.items():
        found = category(key)
        if found is None:
            pending[key] = pending.get(key, 0.0) + own
        else:
            totals[found] = totals.get(found, 0.0) + own
    for _ in range(50):  # up the call graph, a level at a time
        upward: dict[Any, float] = {}
        for key, spent in pending.items():
            callers = stats.stats[key][4] if key in stats.stats else {}
            weights = {c: e[2] for c, e in callers.items()} if any(e[2] for e in callers.values()) else \
                {c: float(e[0]) for c, e in callers.items()}
            whole = sum(weights.values())
            if not whole:
                totals["not attributed"] = totals.get("not attributed", 0.0) + spent
                continue
            for caller, weight in weights.items():
                share = spent * weight / whole
                found = category(caller)
                if found is None:
                    upward[caller] = upward.get(caller, 0.0) + share
                else:
                    totals[found] = totals.get(found, 0.0) + share
        pending = upward
        if not pending:
            break
    if pending:
        totals["not attributed"] = totals.get("not attributed", 0.0) + sum(pending.values())
    whole = sum(totals.values()) or 1.0
    lines = [f"by category (own time, per flow, {whole / flows * 1000:.1f} ms profiled):"]
    lines += [f"  {name:<48} {spent / flows * 1000:6.1f} ms  {100 * spent / whole:4.1f} %"
              for name, spent in sorted(totals.items(), key=lambda item: -item[1])]
    return "\n".join(lines) + "\n"


def profile(flows: int, top: int = 40) -> str:
    """cProfile of ``flows`` sequential Diagram-1 flows (fresh applicants, no PDF) run in this thread
    against the landscape subprocess, in process CPU time: the CPU by category
    (:func:`profile_by_category`), then the client's functions by own time and by cumulative time."""
    import cProfile
    import io
    import pstats

    with tempfile.TemporaryDirectory(prefix="egov-bench-flows-") as tmp, \
            environment(Path(tmp), in_process=False) as (env, _), without_licence_pdf():
        steps = env.steps
        pool = Pool(env, steps)
        pool.add_requests(flows + 3)
        for _ in range(3):  # warm: imports, officers' first logins, the systems' certificates checked
            _run_one(env, steps, pool.take())
        profiler = cProfile.Profile(time.process_time)  # CPU time: waiting for the simulators is not in it
        cpu0 = _process_cpu()
        profiler.enable()
        for _ in range(flows):
            ok, why = _run_one(env, steps, pool.take())
            if not ok:
                raise RuntimeError(f"a profiled flow failed: {why}")
        profiler.disable()
        cpu = _process_cpu() - cpu0
    out = io.StringIO()
    out.write(f"{flows} flows, {cpu / flows * 1000:.1f} ms of process CPU per flow under the profiler\n")
    out.write(profile_by_category(pstats.Stats(profiler), flows))
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


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
    parser.add_argument("--pdf", action="store_true", help="render the licence PDF in the flows (default: not)")
    parser.add_argument("--no-pdf", action="store_true", help=argparse.SUPPRESS)  # the default now
    parser.add_argument("--profile", type=int, metavar="FLOWS", default=0,
                        help="cProfile of FLOWS sequential flows (fresh applicants, no PDF) in this process")
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
    if args.profile:
        print(profile(args.profile))
        return 0
    if args.quick or (args.threads == 8 and args.duration == 10.0 and not args.in_process):
        from bench import print_rows

        print_rows(run(quick=args.quick, processes=processes, render_pdf=args.pdf))
        return 0
    configs = [FlowBenchConfig(threads=args.threads, duration=args.duration, render_pdf=args.pdf,
                               in_process=args.in_process, processes=processes)]
    for m in bench(configs, log=lambda s: print(f"  {s}", file=sys.stderr, flush=True)):
        print(describe(m))
        print("  shares of worker CPU:", share_text(m)[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
