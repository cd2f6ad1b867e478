"""A generic, inspectable runner for the procedure's diagrams.

Wiring the procedure to real systems is supplying a mapping ``step id -> callable(FlowContext)``:

* an **action** returns ``None`` or an :class:`Outcome` carrying data to keep in the flow;
* a **condition** returns ``bool`` or an :class:`Outcome` (``ok`` picks the branch, ``detail`` says
  why, e.g. which certificate rule failed);
* a **refusal** or the **result** step may have an implementation (form the letter, the licence);
  without one the runner just records the end.

Each step is timed with the injected clock and compared with the regulation's norm. Every step is
persisted through :class:`~procedure.store.FlowStore` before and after it runs; see that
module for the crash-safety contract. Implementations MUST pass ``ctx.idempotency_key`` to any
external system they change (payment, registration): after a crash the same step is re-run with
the same key.

Observers (:data:`StepObserver`) are called around each step: ``"before"`` once the step's start
is committed, ``"after"`` once its implementation returned and before its end is recorded (progress
lines, drills).

A step scope (``step_scope``, e.g. :meth:`adapters.core.journal.ExchangeJournal.batch`) is entered
around each step's implementation and left before the ``"after"`` observers and before the step's
end is recorded, also when the implementation raises: the exchange journal writes a step's rows
in one transaction there, so a step recorded as finished never has a journal row still to write.
"""

from __future__ import annotations

import contextlib
import types
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError
from adapters.core.logs import bind_ids
from procedure.diagrams import Diagram, Step, StepKind
from procedure.models import FlowRecord, FlowStatus, NormVerdict, StepRecord, Text
from procedure.store import FlowStore, NextStep, idempotency_key


@dataclass(frozen=True)
class Outcome:
    """What a step implementation returns. ``data`` is merged into the flow's data (JSON values)."""

    ok: bool = True
    detail: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowContext:
    """What a step implementation sees. ``data`` is a read-only view of the flow's data so far."""

    flow_id: str
    service: str
    operation: str
    diagram: Diagram
    step: Step
    idempotency_key: str
    attempt: int
    data: Mapping[str, Any]
    clock: Clock


StepResult = Outcome | bool | None
StepFn = Callable[[FlowContext], StepResult]

StepPhase = Literal["before", "after"]
StepObserver = Callable[[FlowContext, StepPhase], None]
"""Called with ``"before"`` once a step's start is committed and before its implementation runs,
and with ``"after"`` once the implementation returned, before the step's end is recorded; for
every step run, implemented or not. An observer that raises fails the step as its implementation
would."""


def passed(detail: str = "", **data: Any) -> Outcome:
    """A step done, or a condition met; ``data`` is kept in the flow."""
    return Outcome(ok=True, detail=detail, data=data)


def failed(detail: str, **data: Any) -> Outcome:
    """A condition not met: the flow takes the refusal branch; ``detail`` says why."""
    return Outcome(ok=False, detail=detail, data=data)


@dataclass(frozen=True)
class FlowResult:
    """Where a flow ended (or stands): status, step, the refusal's message, data and history."""

    flow_id: str
    status: FlowStatus
    step: str
    data: Mapping[str, Any]
    history: tuple[StepRecord, ...]
    refusal: Text | None = None
    detail: str = ""

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(r.step for r in self.history)

    def over_norm(self) -> tuple[StepRecord, ...]:
        return tuple(r for r in self.history if r.norm_verdict is NormVerdict.OVER)


@dataclass(frozen=True)
class StepRun:
    """One step run by :meth:`FlowRunner.run_step`: the flow after it, and the step's measure."""

    flow: FlowRecord
    step: str
    duration_seconds: float
    verdict: NormVerdict
    outcome: str


class FlowRunner:
    """Runs flows of one diagram with given step implementations, persisting every step."""

    def __init__(self, diagram: Diagram, steps: Mapping[str, StepFn], store: FlowStore, *,
                 clock: Clock = SYSTEM_CLOCK, new_id: Callable[[], str] | None = None,
                 observers: Sequence[StepObserver] = (),
                 step_scope: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
        unknown = set(steps) - {s.id for s in diagram}
        if unknown:
            raise ConfigurationError(f"diagram {diagram.id}: implementations for unknown steps "
                                     f"{sorted(unknown)}", diagram=diagram.id)
        missing = [s.id for s in diagram if s.kind in (StepKind.ACTION, StepKind.CONDITION)
                   and s.id not in steps]
        if missing:
            raise ConfigurationError(f"diagram {diagram.id}: no implementation for steps {missing}",
                                     diagram=diagram.id)
        self.diagram = diagram
        self.steps = dict(steps)
        self.store = store
        self.clock = clock
        self.observers = tuple(observers)
        self._step_scope = step_scope or contextlib.nullcontext
        self._new_id = new_id or (lambda: uuid.uuid4().hex)

    # ------------------------------------------------------------------ public

    def start(self, *, service: str, operation: str, data: Mapping[str, Any] | None = None,
              flow_id: str | None = None) -> FlowResult:
        """Create a flow at the diagram's first step and run it to its end."""
        flow = self.store.create_flow(
            flow_id=flow_id or self._new_id(), service=service, operation=operation,
            diagram=self.diagram.id, start_step=self.diagram.start, data=data or {},
            now=self.clock.now())
        return self._run(flow)

    def resume(self, flow_id: str) -> FlowResult:
        """Continue a flow from its current step (after a crash or a failed step).

        A finished flow is returned as it is: resuming is idempotent.
        """
        flow = self.store.get_flow(flow_id)
        self._check_diagram(flow)
        if flow.status.terminal:
            return self.inspect(flow_id)
        return self._run(flow)

    def create(self, *, service: str, operation: str, data: Mapping[str, Any] | None = None,
               flow_id: str | None = None) -> FlowRecord:
        """Create a flow at the diagram's first step without running anything (a task runs it,
        one :meth:`run_step` at a time)."""
        return self.store.create_flow(
            flow_id=flow_id or self._new_id(), service=service, operation=operation,
            diagram=self.diagram.id, start_step=self.diagram.start, data=data or {},
            now=self.clock.now())

    def run_step(self, flow_id: str) -> StepRun | None:
        """Run the current step of an open flow, and only it (``None`` for an ended flow).

        The crash contract is the store's: the step's start is committed before its implementation
        runs (a step left open by a crash gets one more attempt under the same key), its end and
        the flow's move in one transaction. The next step is not started here: the next call
        starts it, so a step's ``attempts`` counts the times its implementation was entered.
        A step that raises leaves the flow ``failed`` at that step, and the error propagates.
        """
        flow = self.store.get_flow(flow_id)
        self._check_diagram(flow)
        if flow.status.terminal:
            return None
        step = self.diagram.step(flow.current_step)
        (moved, _), measure = self._execute(flow, step, None, chain=False)
        return StepRun(flow=moved, step=step.id, duration_seconds=measure[0], verdict=measure[1],
                       outcome=measure[2])

    def inspect(self, flow_id: str) -> FlowResult:
        """The flow's state and history, without running anything."""
        flow = self.store.get_flow(flow_id)
        self._check_diagram(flow)
        return self._result(flow)

    def describe(self) -> str:
        """The diagram as text, marking which steps have an implementation."""
        return describe(self.diagram, implemented=set(self.steps))

    # ------------------------------------------------------------------ loop

    def _run(self, flow: FlowRecord) -> FlowResult:
        started: StepRecord | None = None
        while not flow.status.terminal:
            flow, started = self._run_step(flow, self.diagram.step(flow.current_step), started)
        return self._result(flow)

    def _run_step(self, flow: FlowRecord, step: Step,
                  record: StepRecord | None) -> tuple[FlowRecord, StepRecord | None]:
        """Run one step; ``record``: the step's start, already committed with the previous step's end."""
        moved, _ = self._execute(flow, step, record, chain=True)
        return moved

    def _execute(self, flow: FlowRecord, step: Step, record: StepRecord | None, *,
                 chain: bool) -> tuple[tuple[FlowRecord, StepRecord | None], tuple[float, NormVerdict, str]]:
        """Run one step; with ``chain`` the next step's start is committed with this step's end."""
        if record is None or record.step != step.id:
            record = self.store.step_started(
                flow_id=flow.flow_id, step_id=step.id, now=self.clock.now(),
                norm_min=step.norm.min_seconds if step.norm else None,
                norm_max=step.norm.max_seconds if step.norm else None)
        started = record.started_at
        ctx = FlowContext(
            flow_id=flow.flow_id, service=flow.service, operation=flow.operation,
            diagram=self.diagram, step=step, idempotency_key=idempotency_key(flow.flow_id, step.id),
            attempt=record.attempts, data=types.MappingProxyType(dict(flow.data)), clock=self.clock)
        impl = self.steps.get(step.id)
        try:
            # every exchange of the step (and every log line) carries the flow's ids; the flow id is
            # its correlation id (the register's look-up sends it as correlationId)
            with bind_ids(correlation_id=flow.flow_id, flow_id=flow.flow_id, step=step.id):
                for observe in self.observers:
                    observe(ctx, "before")
                with self._step_scope():  # the step's journal rows: written before its end is recorded
                    value = impl(ctx) if impl is not None else None
                for observe in self.observers:
                    observe(ctx, "after")
            outcome = self._outcome(step, value)
        except Exception as exc:
            self.store.step_failed(flow_id=flow.flow_id, step_id=step.id,
                                   error=f"{type(exc).__name__}: {exc}", now=self.clock.now())
            raise
        finished = self.clock.now()
        duration = (finished - started).total_seconds()
        if step.norm is None:
            verdict = NormVerdict.NO_NORM
        else:
            verdict = NormVerdict.WITHIN if step.norm.allows(duration) else NormVerdict.OVER
        next_step, status, label = self._transition(step, outcome)
        start_next = None
        if chain and status is FlowStatus.RUNNING:
            norm = self.diagram.step(next_step).norm
            start_next = NextStep(next_step, norm.min_seconds if norm else None, norm.max_seconds if norm else None)
        # the step's end, the flow's move and the next step's start: one transaction
        moved = self.store.advance(
            flow=flow, step_id=step.id, finished_at=finished, duration_seconds=duration,
            verdict=verdict, outcome=label, detail=outcome.detail, data_update=outcome.data,
            next_step=next_step, status=status, start_next=start_next)
        return moved, (duration, verdict, label)

    def _outcome(self, step: Step, value: StepResult) -> Outcome:
        if isinstance(value, Outcome):
            outcome = value
        elif isinstance(value, bool):
            outcome = Outcome(ok=value)
        elif value is None and step.kind is not StepKind.CONDITION:
            outcome = Outcome()
        else:
            raise ConfigurationError(
                f"diagram {self.diagram.id}, step {step.id}: implementation returned {value!r}; "
                "a condition must return bool or Outcome, other steps None or Outcome",
                diagram=self.diagram.id, step=step.id)
        if not outcome.ok and step.kind is not StepKind.CONDITION:
            raise ConfigurationError(
                f"diagram {self.diagram.id}, step {step.id}: only a condition may fail by its outcome "
                f"(raise an error instead): {outcome.detail}", diagram=self.diagram.id, step=step.id)
        return outcome

    @staticmethod
    def _transition(step: Step, outcome: Outcome) -> tuple[str, FlowStatus, str]:
        if step.kind is StepKind.ACTION:
            assert step.next is not None  # guaranteed by Diagram validation
            return step.next, FlowStatus.RUNNING, "done"
        if step.kind is StepKind.CONDITION:
            target = step.on_ok if outcome.ok else step.on_fail
            assert target is not None
            return target, FlowStatus.RUNNING, "ok" if outcome.ok else "fail"
        if step.kind is StepKind.REFUSAL:
            return step.id, FlowStatus.REFUSED, "refused"
        return step.id, FlowStatus.COMPLETED, "result"

    def _result(self, flow: FlowRecord) -> FlowResult:
        history = tuple(self.store.history(flow.flow_id))
        step = self.diagram.step(flow.current_step)
        refusal = step.message if flow.status is FlowStatus.REFUSED else None
        detail = flow.error or ""
        if flow.status is FlowStatus.REFUSED:
            failed = [r for r in history if r.outcome == "fail"]
            detail = failed[-1].detail if failed else ""
        return FlowResult(flow_id=flow.flow_id, status=flow.status, step=flow.current_step,
                          data=types.MappingProxyType(dict(flow.data)), history=history,
                          refusal=refusal, detail=detail)

    def _check_diagram(self, flow: FlowRecord) -> None:
        if flow.diagram != self.diagram.id:
            raise ConfigurationError(f"flow {flow.flow_id} follows diagram {flow.diagram}, "
                                     f"this runner runs {self.diagram.id}", flow_id=flow.flow_id)


# --------------------------------------------------------------------------- inspection

def describe(diagram: Diagram, *, implemented: set[str] | None = None, language: str = "en") -> str:
    """A plain-text table of the diagram: step, kind, actor, norm, successors, description (in
    ``language``: ``en``, ``kk`` or ``ru``; a refusal's message in Kazakh, or in ``language`` if not English)."""
    if language not in ("en", "kk", "ru"):
        raise ValueError(f"describe in {language!r}: give en, kk or ru")
    lines = [f"{getattr(diagram.title, language)} [{diagram.id}]", f"start: {diagram.start}"]
    for step in diagram:
        if step.kind is StepKind.CONDITION:
            succ = f"ok → {step.on_ok}, fail → {step.on_fail}"
        elif step.next:
            succ = f"→ {step.next}"
        else:
            succ = "end"
        norm = step.norm.label if step.norm else "-"
        mark = ""
        if implemented is not None:
            mark = " [impl]" if step.id in implemented else " [----]"
        lines.append(f"{step.id:>3} {step.kind.value:<9} {step.actor.value:<17} {norm:<8} "
                     f"{succ:<22}{mark} {getattr(step.description, language)}")
        if step.message is not None:
            shown = "kk" if language == "en" else language
            lines.append(f"    message ({shown}): {getattr(step.message, shown)}")
    return "\n".join(lines)


def _mermaid_label(text: str) -> str:
    return text.replace('"', "'")


def to_mermaid(diagram: Diagram) -> str:
    """A Mermaid flowchart of the diagram (conditions as rhombi, refusals as end nodes)."""
    lines = ["flowchart TD"]
    for step in diagram:
        node = f"s{step.id}"
        norm = f"<br/>{step.norm.label}" if step.norm else ""
        label = _mermaid_label(f"{step.id}. {step.actor.value}: {step.description.en}{norm}")
        if step.kind is StepKind.CONDITION:
            lines.append(f'    {node}{{"{label}"}}')
        elif step.kind is StepKind.REFUSAL:
            lines.append(f'    {node}(["{label}"])')
        elif step.kind is StepKind.RESULT:
            lines.append(f'    {node}[["{label}"]]')
        else:
            lines.append(f'    {node}["{label}"]')
    for step in diagram:
        if step.kind is StepKind.CONDITION:
            lines.append(f"    s{step.id} -->|ok| s{step.on_ok}")
            lines.append(f"    s{step.id} -->|fail| s{step.on_fail}")
        elif step.next:
            lines.append(f"    s{step.id} --> s{step.next}")
    return "\n".join(lines)
