"""Crash drill helpers: crash points derived from the diagrams, the ``egov flow`` subprocesses, and
the checks of the simulators' state after a killed flow was resumed.

A crash point is ``<step id>:before`` (SIGKILL just before the step's implementation runs) or
``<step id>:after`` (just after it returned, before the step is recorded as finished), the test
hook ``EGOV_FLOW_CRASH_AT``, a step observer of :mod:`harness.crash` that ``egov flow run`` and
``egov flow resume`` add to their runners. The points are computed from
``DIAGRAM_PORTAL`` / ``DIAGRAM_PROVIDER``: a step added to a diagram is drilled automatically.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.crash import CRASH_ENV
from procedure.diagrams import DIAGRAM_PORTAL, DIAGRAM_PROVIDER, Actor, Diagram, StepKind
from tests.paths import ROOT

EGOV = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]

DIAGRAMS: dict[str, Diagram] = {"1": DIAGRAM_PORTAL, "2": DIAGRAM_PROVIDER}
"""The ``--diagram`` argument of ``egov flow run`` → the diagram it runs."""

CRASHABLE = (StepKind.ACTION, StepKind.CONDITION, StepKind.RESULT)
"""Kinds of step a successful flow passes through (refusals end other flows)."""

SYSTEM_ACTORS = (Actor.EGPG, Actor.ELICENSING, Actor.LE_SDB_VIA_EGG)
"""Actors whose action steps change (or ask) another system: the state-changing steps."""


def success_path(diagram: Diagram) -> tuple[str, ...]:
    """The steps of a successful flow, in order: actions, every condition's ok branch, the result."""
    path: list[str] = []
    step = diagram.step(diagram.start)
    while True:
        path.append(step.id)
        if step.kind is StepKind.RESULT:
            return tuple(path)
        nxt = step.on_ok if step.kind is StepKind.CONDITION else step.next
        if nxt is None:  # a refusal: not on a successful path
            raise AssertionError(f"diagram {diagram.id}: the ok path ends at {step.id} ({step.kind.value})")
        step = diagram.step(nxt)


@dataclass(frozen=True)
class CrashCase:
    """One cell of the drill: a flow of ``operation`` in Diagram ``diagram`` killed at ``step:when``."""

    diagram: str
    operation: str
    step: str
    when: str

    @property
    def spec(self) -> str:
        return f"{self.step}:{self.when}"

    @property
    def id(self) -> str:
        return f"d{self.diagram}-{self.operation}-{self.step}-{self.when}"

    @property
    def diagram_def(self) -> Diagram:
        return DIAGRAMS[self.diagram]

    def later_step(self) -> str | None:
        """The step after the crashed one on the success path (where the resume is killed again)."""
        path = success_path(self.diagram_def)
        i = path.index(self.step)
        return path[i + 1] if i + 1 < len(path) else None


def crash_points(diagram: Diagram) -> list[tuple[str, str]]:
    """Every (step, when) a successful flow of ``diagram`` can be killed at."""
    return [(sid, when) for sid in success_path(diagram) if diagram.step(sid).kind in CRASHABLE
            for when in ("before", "after")]


def full_matrix() -> list[CrashCase]:
    """Every crash point of both diagrams for an issue, and of Diagram 1 for a re-issue."""
    cases = [CrashCase(d, "issue", sid, when) for d, diagram in DIAGRAMS.items()
             for sid, when in crash_points(diagram)]
    cases += [CrashCase("1", "reissue", sid, when) for sid, when in crash_points(DIAGRAM_PORTAL)]
    return cases


def default_subset() -> list[CrashCase]:
    """The bounded run: every action step ``:after`` of both diagrams (issue), and for the re-issue
    the state-changing steps (actions of another system, and the result) ``:after``."""
    cases = [CrashCase(d, "issue", s.id, "after") for d, diagram in DIAGRAMS.items()
             for s in diagram.of_kind(StepKind.ACTION)]
    cases += [CrashCase("1", "reissue", s.id, "after") for s in DIAGRAM_PORTAL
              if (s.kind is StepKind.ACTION and s.actor in SYSTEM_ACTORS) or s.kind is StepKind.RESULT]
    return cases


# --------------------------------------------------------------------------- subprocesses

def egov(*args: str, cwd: Path, crash_at: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``egov`` in a fresh interpreter (no EGOV_* settings inherited), optionally with the crash hook."""
    env = _clean_env()
    if crash_at:
        env[CRASH_ENV] = crash_at
    return subprocess.run([*EGOV, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd,
                          check=False)


FORKSERVER = Path(__file__).with_name("forkserver.py")


class ForkServer:
    """Runs ``egov`` commands as children of a pre-imported, single-threaded server process
    (:mod:`tests.drills.forkserver`): fresh processes, SIGKILL-able, without the import cost.

    The interface is :func:`egov`'s; use it as a context manager (the server ends with it).
    """

    def __init__(self) -> None:
        self._proc = subprocess.Popen([sys.executable, str(FORKSERVER)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, env=_clean_env())
        self._seq = 0

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def egov(self, *args: str, cwd: Path, crash_at: str | None = None, timeout: float = 120,
             sabotage: str | None = None) -> subprocess.CompletedProcess[str]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._seq += 1
        out, err = cwd / f".egov-{self._seq}.out", cwd / f".egov-{self._seq}.err"
        env = _clean_env()
        if crash_at:
            env[CRASH_ENV] = crash_at
        request = {"args": list(args), "env": env, "cwd": str(cwd), "stdout": str(out), "stderr": str(err),
                   "sabotage": sabotage}
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout)
        if not ready:
            self._proc.kill()
            raise subprocess.TimeoutExpired(["egov", *args], timeout)
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server ended (rc={self._proc.poll()})")
        code = int(json.loads(line)["returncode"])
        return subprocess.CompletedProcess(["egov", *args], code, out.read_text(encoding="utf-8"),
                                           err.read_text(encoding="utf-8"))


def _clean_env() -> dict[str, str]:
    """The test's environment without EGOV_* settings, importing this checkout's packages first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def describe(proc: subprocess.CompletedProcess[str]) -> str:
    return f"rc={proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"


# --------------------------------------------------------------------------- the simulators' state

def of_applicant(rows: Sequence[dict[str, Any]], field: str, applicant: str) -> list[dict[str, Any]]:
    return [r for r in rows if r.get(field) == applicant]


def notices_by_application(notifications: Sequence[dict[str, Any]], numbers: set[str]) -> dict[str, list[str]]:
    """The statuses E-licensing published a notice for, per application number, in order."""
    out: dict[str, list[str]] = {n: [] for n in numbers}
    for row in notifications:
        number = str(row["application_number"])
        if number in out:
            out[number].append(str(row["status"]))
    return out
