"""Benchmarks of the egov adapters (``make bench`` / ``python -m bench``).

Figures are ratios and shares taken in the same run (they hold on other machines), CPU times per
call or per flow (process time: comparable within a run), or absolute rates and wall times (this
machine under its load: the load average is recorded beside them). Each bench module has a
``run(quick=False) -> list[Row]`` function and can run alone (``python -m bench.startup``).

This module holds what the benches share: the :class:`Row` of the result table, timing helpers
(median of repeats) and the test-PKI keys (generated at run time, never stored).
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

SENDER_ID = "MINISTRY_EDU"
SENDER_PASSWORD = "s3cret"
SENDER_IIN = "871008401427"
SENDER_BIN = "940140000385"
GATEWAY_IIN = "760212350620"
GATEWAY_BIN = "950341000052"
ECHO_SERVICE = "ECHO"


class Row(BaseModel):
    """One line of the result table."""

    bench: str
    """Which part of the issue the figure answers: ``a`` … ``f``."""
    figure: str
    value: float | None
    """``None`` when the figure could not be measured (``note`` says why)."""
    unit: str = ""
    target: str = ""
    met: bool | None = None
    """``None`` when the figure has no target or was not measured."""
    note: str = ""

    def shown_value(self) -> str:
        if self.value is None:
            return "not measured"
        v = self.value
        if self.unit == "" and v.is_integer():
            return str(int(v))
        text = f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) >= 1 else f"{v:.3f}"
        return f"{text} {self.unit}".strip()

    def shown_met(self) -> str:
        return "-" if self.met is None else ("yes" if self.met else "NO")


def per_call(fn: Callable[[], Any], *, iterations: int, repeats: int = 5, warmup: int = 3) -> float:
    """Median over ``repeats`` of the mean wall time of one call (seconds), after ``warmup`` calls.

    The garbage collector is left on (a real client runs with it) but collected between repeats,
    so that one repeat does not pay for the garbage of the previous one.
    """
    for _ in range(warmup):
        fn()
    means: list[float] = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        means.append((time.perf_counter() - start) / iterations)
    return statistics.median(means)


@dataclass(frozen=True)
class Timing:
    """One call's cost: median wall time and median CPU time of this process (seconds)."""

    wall: float
    cpu: float
    """``time.process_time``: every thread of this process, not the other processes (servers) it talks to,
    nor other engineers' work on the same cores (wall time includes waiting for them)."""


def timed_interleaved(fns: Mapping[str, tuple[Callable[[], Any], int]], *, repeats: int = 5,
                      warmup: int = 3) -> dict[str, Timing]:
    """Per call of each function (name -> (function, iterations)): the medians over ``repeats`` of the
    mean wall and process-CPU time, the repeats interleaved so that a burst of load from elsewhere
    on the machine hits them alike."""
    for fn, _ in fns.values():
        for _ in range(warmup):
            fn()
    walls: dict[str, list[float]] = {name: [] for name in fns}
    cpus: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, (fn, iterations) in fns.items():
            gc.collect()
            wall0, cpu0 = time.perf_counter(), time.process_time()
            for _ in range(iterations):
                fn()
            cpus[name].append((time.process_time() - cpu0) / iterations)
            walls[name].append((time.perf_counter() - wall0) / iterations)
    return {name: Timing(statistics.median(walls[name]), statistics.median(cpus[name])) for name in fns}


def per_call_interleaved(fns: Mapping[str, tuple[Callable[[], Any], int]], *, repeats: int = 5,
                         warmup: int = 3) -> dict[str, float]:
    """Like :func:`per_call` for several functions (name -> (function, iterations)), with their
    repeats interleaved (wall time; :func:`timed_interleaved` gives CPU time too)."""
    return {name: t.wall for name, t in timed_interleaved(fns, repeats=repeats, warmup=warmup).items()}


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (other engineers share the cores: read figures with it)."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by nearest rank; ``values`` need not be sorted."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


@dataclass(frozen=True)
class BenchKeys:
    """Keys of the gateway and of our system, issued by a fresh test PKI (revocation not served)."""

    directory: Path
    pki: Any  # simulators.pki.TestPKI
    gateway: Any  # simulators.pki.IssuedKey
    client: Any  # simulators.pki.IssuedKey

    def validator(self) -> Any:
        """A certificate validator trusting the PKI's root; revocation policy "none", chain check on."""
        from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
        from adapters.core.trust.validator import CertificateValidator

        return CertificateValidator([self.pki.root_certificate], [self.pki.issuing_certificate],
                                    revocation=RevocationChecker(RevocationPolicy.NONE))

    def write_pem_files(self) -> dict[str, Path]:
        """PEM files of the keys (for tools that load keys themselves, e.g. zeep's plugin)."""
        out: dict[str, Path] = {}
        for name, issued in (("client", self.client), ("gateway", self.gateway)):
            key_path = self.directory / f"{name}-key.pem"
            cert_path = self.directory / f"{name}-cert.pem"
            key_path.write_bytes(issued.key_material.private_key_pem())
            cert_path.write_bytes(issued.key_material.certificate_pem())
            out[f"{name}_key"] = key_path
            out[f"{name}_cert"] = cert_path
        return out


def make_keys(directory: Path | None = None) -> BenchKeys:
    """A test PKI in ``directory`` (a new temporary directory by default) and two issued keys."""
    from simulators.pki import TestPKI

    where = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="egov-bench-"))
    pki = TestPKI.create(where / "pki")
    gateway = pki.issue(iin=GATEWAY_IIN, bin=GATEWAY_BIN, org="Gateway operator (bench)")
    client = pki.issue(iin=SENDER_IIN, bin=SENDER_BIN, org="Ministry of Education (bench)")
    return BenchKeys(where, pki, gateway, client)


def print_rows(rows: Sequence[Row]) -> None:
    """The result table on stdout: figure, value, target, met?"""
    headers = ("", "figure", "value", "target", "met?")
    table = [(r.bench, r.figure, r.shown_value(), r.target, r.shown_met()) for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for t in table:
        print("  ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)))
    notes = [(r.bench, r.figure, r.note) for r in rows if r.note]
    if notes:
        print()
        for bench, figure, note in notes:
            print(f"  [{bench}] {figure}: {note}")


__all__ = [
    "ECHO_SERVICE",
    "BenchKeys",
    "Row",
    "Timing",
    "load_average",
    "make_keys",
    "per_call",
    "per_call_interleaved",
    "percentile",
    "print_rows",
    "timed_interleaved",
]
