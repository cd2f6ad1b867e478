"""Where the simulators' CPU goes during Diagram-1 flows of fresh applicants.

``python -m bench.simulators_profile N``: the
landscape runs in a subprocess, as in bench b (``python -m bench.simulators_profile --serve DIR``),
and this process runs Diagram-1 flows one at a time, each a fresh applicant (bench b's
:class:`~bench.flows.Pool`: the applicants, their certificates and portal accounts are prepared
before any window, so their issuance and the accounts' password hashing are not counted, as in
bench b). Three windows of ``N`` flows each, the subprocess told over its stdin when each begins
and ends:

1. **plain**: the landscape process's CPU per flow from ``/proc`` with nothing instrumented (bench
   b's figure);
2. **categories**: per-thread CPU timers (``time.thread_time``) around the simulators' entry points
   by category, the innermost winning (:data:`CATEGORIES`); what no timer covers is "outside the
   connections" (the servers' accept loops, garbage collection of other threads);
3. **cProfile**: every connection thread profiles itself (a ``cProfile.Profile`` on thread CPU time,
   switched on by the thread at its next request once asked), merged at the end: the functions by
   own time, and the own time summed by source file.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import load_average

CATEGORIES = ("HTTP server stack", "handlers (other)", "XML parse/schema/serialise", "signing", "verification",
              "SQL", "PBKDF2", "OCSP responder", "PKI issuance", "HTTP client (simulator to simulator)")
"""What the landscape's threads spend CPU on, innermost wins: the HTTP server stack = a connection's
thread serving a request, outside the router's dispatch (the parse, socket reads and writes, the answer head); handlers
(other) = inside the dispatch but in no category below (the simulators' own logic, metrics, the
request journal, faults); XML = the hardened parser, schema checks, lxml serialisation and parsing;
signing = ``SigningService``; verification = ``VerificationService`` and ``CertificateValidator``;
SQL = SQLAlchemy's statements and transactions and the ``sqlite3`` cursors of the PKI's index and the
payment gateway; PBKDF2 = the E-licensing accounts' password hashing and checks; OCSP responder =
building and signing an OCSP answer; PKI issuance = certificates issued by the test PKI; HTTP client =
a simulator's own calls to another (E-licensing's status notices to the gateway, its payment
questions to the payment gateway), the sending side only."""


# --------------------------------------------------------------------------- in the landscape process

class _Timers:
    """Thread CPU by category, innermost wins (bench b's client timers, with the simulators' categories)."""

    def __init__(self) -> None:
        from bench.flows import CategoryTimers

        self.timers = CategoryTimers()
        self.reset()

    def reset(self) -> None:
        self.timers.reset()
        self.timers.totals = dict.fromkeys(CATEGORIES, 0.0)


class _ThreadProfiles:
    """One ``cProfile.Profile`` per connection thread, switched on by the thread itself (a profiler
    can only be enabled by its own thread) at its next request once :attr:`wanted`."""

    def __init__(self) -> None:
        self.wanted = False
        self._local = threading.local()
        self._lock = threading.Lock()
        self.profiles: list[cProfile.Profile] = []

    def on_request(self) -> None:
        profile: cProfile.Profile | None = getattr(self._local, "profile", None)
        if self.wanted and profile is None:
            profile = self._local.profile = cProfile.Profile(time.thread_time)
            with self._lock:
                self.profiles.append(profile)
            profile.enable()
        elif not self.wanted and profile is not None:
            profile.disable()
            self._local.profile = None

    def stats(self) -> pstats.Stats | None:
        """The profiles merged (snapshots: the threads' profilers stop at their next request)."""
        self.wanted = False
        merged: pstats.Stats | None = None
        with self._lock:
            profiles, self.profiles = self.profiles, []
        for profile in profiles:
            profile.snapshot_stats()
            holder = types.SimpleNamespace(stats=profile.stats, create_stats=lambda: None)  # type: ignore[attr-defined]
            if not holder.stats:
                continue
            if merged is None:
                merged = pstats.Stats(holder)  # type: ignore[arg-type]
            else:
                merged.add(holder)  # type: ignore[arg-type]
        return merged


def _instrument(timers: Any) -> list[Callable[[], None]]:
    """Wrap the simulators' entry points by category; the steps that undo the timers' wrappers (so
    that the cProfile window sees the callers, not the wrappers)."""
    import sqlite3

    import lxml.etree
    from sqlalchemy.engine import Connection

    from adapters import contracts
    from adapters.core import xmlparse
    from adapters.core.http import NetworkTransport
    from adapters.core.trust.validator import CertificateValidator
    from adapters.core.xmlsig import SigningService, VerificationService
    from bench.flows import _replace_everywhere
    from simulators.common.connection import HttpConnection
    from simulators.common.router import Router
    from simulators.elicense import passwords
    from simulators.pki import issuance
    from simulators.pki.ocsp_responder import OcspResponder

    methods: list[tuple[str, type, str]] = [
        ("HTTP server stack", HttpConnection, "_serve_one"), ("handlers (other)", Router, "dispatch"),
        ("signing", SigningService, "sign_envelope"), ("signing", SigningService, "sign_document"),
        ("verification", VerificationService, "verify_envelope"),
        ("verification", VerificationService, "verify_document"),
        ("verification", CertificateValidator, "validate"),
        ("SQL", Connection, "execute"), ("SQL", Connection, "_begin_impl"), ("SQL", Connection, "_commit_impl"),
        ("SQL", Connection, "_rollback_impl"),
        ("OCSP responder", OcspResponder, "respond"),
        ("HTTP client (simulator to simulator)", NetworkTransport, "request"),
    ]
    undo: list[Callable[[], None]] = []
    for category, cls, name in methods:
        original = cls.__dict__[name]
        setattr(cls, name, timers.wrap(category, original))
        undo.append(functools.partial(setattr, cls, name, original))
    functions: list[tuple[str, Any, str]] = [
        ("XML", xmlparse, "parse_xml"), ("XML", contracts, "schema_errors"), ("XML", lxml.etree, "tostring"),
        ("XML", lxml.etree, "fromstring"), ("PBKDF2", passwords, "hash_password"),
        ("PBKDF2", passwords, "check_password"), ("PKI issuance", issuance, "build_certificate"),
        ("PKI issuance", issuance, "generate_key"),
    ]
    for category, module, name in functions:
        original = getattr(module, name)
        wrapped = timers.wrap("XML parse/schema/serialise" if category == "XML" else category, original)
        setattr(module, name, wrapped)
        undo.append(functools.partial(setattr, module, name, original))
        _replace_everywhere(original, wrapped, undo)
    # the sqlite3 cursors of the PKI's index and the payment gateway: their connections' execute
    connect = sqlite3.connect

    class _TimedConnection(sqlite3.Connection):
        execute = timers.wrap("SQL", sqlite3.Connection.execute)  # type: ignore[assignment]
        executemany = timers.wrap("SQL", sqlite3.Connection.executemany)  # type: ignore[assignment]
        commit = timers.wrap("SQL", sqlite3.Connection.commit)  # type: ignore[assignment]

    def timed_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        if "factory" in kwargs:
            return connect(*args, **kwargs)
        return connect(*args, factory=_TimedConnection, **kwargs)

    sqlite3.connect = timed_connect  # type: ignore[assignment]
    # the connections made stay timed (their class is theirs), but the timers are off by then
    return undo


def _hook_profiles(profiles: _ThreadProfiles) -> None:
    """Each request lets its thread switch its profiler on or off (:meth:`_ThreadProfiles.on_request`)."""
    from simulators.common.router import Router

    dispatch = Router.__dict__["dispatch"]

    def dispatch_profiled(self: Router, request: Any) -> Any:
        profiles.on_request()
        return dispatch(self, request)

    Router.dispatch = dispatch_profiled  # type: ignore[method-assign]


def _process_cpu() -> float:
    t = os.times()
    return t.user + t.system


def serve(workdir: Path) -> None:
    """The landscape with its entry points instrumented; commands on stdin, one per line:
    ``plain`` / ``timers`` / ``profile`` start a window, ``stop`` ends it and prints its result as
    one JSON line (process CPU, the categories' CPU, the path of the merged cProfile stats)."""
    from harness.landscape import Landscape

    holder = _Timers()
    profiles = _ThreadProfiles()
    undo = _instrument(holder.timers)
    _hook_profiles(profiles)
    with Landscape.start(workdir) as land:
        print(land.write_manifest(), flush=True)
        mode, cpu0 = "plain", 0.0
        for line in sys.stdin:
            command = line.strip()
            if command in ("plain", "timers", "profile"):
                mode = command
                if mode == "profile":
                    for step in reversed(undo):
                        step()
                    undo.clear()
                    _hook_profiles(profiles)
                holder.reset()
                holder.timers.enabled = mode == "timers"
                profiles.wanted = mode == "profile"
                cpu0 = _process_cpu()
            elif command == "stop":
                cpu = _process_cpu() - cpu0
                holder.timers.enabled = False
                result: dict[str, Any] = {"mode": mode, "cpu": cpu}
                if mode == "timers":
                    result["categories"] = dict(holder.timers.totals)
                if mode == "profile":
                    stats = profiles.stats()
                    if stats is not None:
                        path = workdir / "simulators.pstats"
                        stats.dump_stats(path)
                        result["pstats"] = str(path)
                print(json.dumps(result), flush=True)


# --------------------------------------------------------------------------- in the bench's process

class _Landscape:
    def __init__(self, workdir: Path, checkout: Path | None = None) -> None:
        """The landscape of this checkout, or of ``checkout`` (its simulators, on its ``PYTHONPATH``)."""
        root = checkout or Path(__file__).resolve().parent.parent
        env = {**os.environ, "PYTHONPATH": str(root)} if checkout is not None else None
        self.process = subprocess.Popen([sys.executable, "-m", "bench.simulators_profile", "--serve", str(workdir)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root, env=env)
        self.manifest = Path(self._line())

    def cpu_seconds(self) -> float:
        """The process's CPU so far, from ``/proc`` (clock ticks)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"the landscape subprocess ended (exit {self.process.wait()})")
        return line

    def tell(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def stop_window(self) -> dict[str, Any]:
        self.tell("stop")
        result: dict[str, Any] = json.loads(self._line())
        return result


@contextlib.contextmanager
def _landscape(workdir: Path, checkout: Path | None = None) -> Iterator[_Landscape]:
    from bench.flows import _stop

    land = _Landscape(workdir, checkout)
    try:
        yield land
    finally:
        _stop(land.process)


def _by_file(stats: pstats.Stats, top: int) -> str:
    """Own time summed by source file (the builtins by their name), largest first."""
    totals: dict[str, float] = {}
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    for (file, _, name), (_, _, tottime, _, _) in raw.items():
        key = name if file == "~" else _short(file)
        totals[key] = totals.get(key, 0.0) + tottime
    whole = sum(totals.values()) or 1.0
    rows = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return "\n".join(f"{100 * t / whole:5.1f} %  {t:7.3f} s  {k}" for k, t in rows)


def _short(file: str) -> str:
    for marker in ("/site-packages/", "/lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    root = str(Path(__file__).resolve().parent.parent) + "/"
    return file.removeprefix(root)


def profile_simulators(flows: int, top: int = 40, *, save: Path | None = None) -> str:
    """The three windows (see the module's docstring) of ``flows`` flows each; the report as text."""
    from bench.flows import Pool, _run_one, without_licence_pdf
    from harness.env import procedure_env

    out = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="egov-bench-simprofile-") as tmp, \
            _landscape(Path(tmp) / "landscape") as land, \
            procedure_env(manifest=land.manifest, db=f"sqlite:///{Path(tmp) / 'egov.db'}",
                          out_dir=Path(tmp) / "out") as env, without_licence_pdf():
        steps = env.steps
        pool = Pool(env, steps)
        pool.add_requests(3 * flows + 3)
        for _ in range(3):  # warm: imports, officers' first logins, the systems' certificates checked
            _run_one(env, steps, pool.take())
        results: dict[str, dict[str, Any]] = {}
        for mode in ("plain", "timers", "profile"):
            land.tell(mode)
            for _ in range(flows):
                ok, why = _run_one(env, steps, pool.take())
                if not ok:
                    raise RuntimeError(f"a profiled flow failed: {why}")
            results[mode] = land.stop_window()
        plain = results["plain"]["cpu"] / flows * 1000
        timed = results["timers"]["cpu"] / flows * 1000
        out.write(f"{flows} flows per window, each a fresh applicant, one at a time; load average {load_average()}\n")
        out.write(f"simulators' process CPU per flow: {plain:.1f} ms (nothing instrumented), "
                  f"{timed:.1f} ms with the category timers, "
                  f"{results['profile']['cpu'] / flows * 1000:.1f} ms under cProfile\n\n")
        categories: dict[str, float] = results["timers"]["categories"]
        covered = sum(categories.values())
        out.write("CPU per flow by category (timers' window; innermost wins):\n")
        for name, spent in sorted(categories.items(), key=lambda kv: -kv[1]):
            out.write(f"  {spent / flows * 1000:6.2f} ms  {100 * spent / results['timers']['cpu']:5.1f} %  {name}\n")
        rest = results["timers"]["cpu"] - covered
        out.write(f"  {rest / flows * 1000:6.2f} ms  {100 * rest / results['timers']['cpu']:5.1f} %  "
                  "outside the connections (accept loops, other threads)\n\n")
        path = results["profile"].get("pstats")
        if path:
            stats = pstats.Stats(path, stream=out)
            if save is not None:
                stats.dump_stats(save)
            out.write("cProfile of the connection threads (thread CPU), own time by file:\n")
            out.write(_by_file(stats, top) + "\n\n")
            stats.strip_dirs().sort_stats("tottime").print_stats(top)
            stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def compare_checkouts(flows: int, other: Path) -> str:
    """``flows`` flows against each of two landscapes, this checkout's simulators and ``other``'s
    (a checkout of another commit with this module in it), taking turns flow by flow, one at a time,
    each a fresh applicant, nothing instrumented: each landscape process's CPU per flow (``/proc``,
    the mean: clock ticks are too coarse for single flows), so that both see the same load."""
    from bench.flows import Pool, _run_one, without_licence_pdf
    from harness.env import procedure_env

    with tempfile.TemporaryDirectory(prefix="egov-bench-simprofile-") as tmp, \
            contextlib.ExitStack() as stack:
        stack.enter_context(without_licence_pdf())
        sides: list[tuple[str, _Landscape, Any, Pool, list[float]]] = []
        for name, checkout in (("this checkout", None), (f"{other}", other)):
            work = Path(tmp) / str(len(sides))
            land = stack.enter_context(_landscape(work / "landscape", checkout))
            env = stack.enter_context(procedure_env(manifest=land.manifest, db=f"sqlite:///{work / 'egov.db'}",
                                                    out_dir=work / "out"))
            pool = Pool(env, env.steps)
            pool.add_requests(flows + 3)
            for _ in range(3):
                _run_one(env, env.steps, pool.take())
            sides.append((name, land, env, pool, []))
        for _ in range(flows):
            for _, land, env, pool, spent in sides:
                cpu0 = land.cpu_seconds()
                ok, why = _run_one(env, env.steps, pool.take())
                if not ok:
                    raise RuntimeError(f"a flow failed: {why}")
                spent.append(land.cpu_seconds() - cpu0)
    mine, theirs = (sum(side[4]) / flows * 1000 for side in sides)
    return (f"{flows} flows each, taking turns, one at a time, fresh applicants; load average {load_average()}\n"
            f"simulators' CPU per flow: this checkout {mine:.1f} ms, {other} {theirs:.1f} ms "
            f"(this / other {mine / theirs:.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.simulators_profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("flows", type=int, nargs="?", default=40)
    parser.add_argument("--save", type=Path, help="keep the merged cProfile stats in this file (pstats)")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="instead: this checkout's simulators against CHECKOUT's, flows taking turns")
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return 0
    if args.against is not None:
        print(compare_checkouts(args.flows, args.against.resolve()))
        return 0
    print(profile_simulators(args.flows, save=args.save))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
