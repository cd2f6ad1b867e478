"""Durable flow state: a flow killed between any two statements resumes without repeating effects."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from adapters.core.clock import FrozenClock
from adapters.core.db import make_engine
from adapters.core.errors import ConflictError, NotFoundError
from procedure.diagrams import DIAGRAM_PORTAL, DIAGRAM_PROVIDER, Diagram, StepKind
from procedure.machine import FlowContext, FlowRunner, Outcome, StepFn
from procedure.models import FlowStatus, NormVerdict
from procedure.store import FlowStore, flows_table, steps_table

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)


class Crash(BaseException):
    """Stands for the process being killed: not an Exception, so the runner records nothing."""


class ExternalSystems:
    """Payment gateway and E-licensing as seen from outside: they deduplicate by idempotency key."""

    def __init__(self) -> None:
        self.effects: Counter[str] = Counter()      # effects that really happened, per key
        self.calls: list[str] = []                  # every call received, with its key
        self.ledger: dict[str, str] = {}

    def apply(self, kind: str, key: str) -> str:
        self.calls.append(key)
        if key not in self.ledger:
            self.effects[key] += 1
            self.ledger[key] = f"{kind}-{len(self.ledger) + 1}"
        return self.ledger[key]


def steps_with_effects(diagram: Diagram, clock: FrozenClock, systems: ExternalSystems, *,
                       crash_after: str | None = None) -> dict[str, StepFn]:
    """Every action performs an external effect keyed by its idempotency key; conditions pass.

    ``crash_after``: the step whose first attempt crashes right after its effect happened.
    """
    crashed: set[str] = set()

    def make(step_id: str, kind: StepKind) -> StepFn:
        def impl(ctx: FlowContext) -> Outcome | bool:
            clock.advance(dt.timedelta(seconds=2))
            if kind is StepKind.CONDITION:
                return True
            receipt = systems.apply(f"effect{step_id}", ctx.idempotency_key)
            if step_id == crash_after and step_id not in crashed:
                crashed.add(step_id)
                raise Crash(f"killed after step {step_id}'s effect")
            return Outcome(data={f"receipt_{step_id}": receipt})
        return impl

    return {s.id: make(s.id, s.kind) for s in diagram if s.kind in (StepKind.ACTION, StepKind.CONDITION)}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'flows.db'}"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


def open_store(url: str) -> FlowStore:
    return FlowStore(make_engine(url))


@pytest.mark.parametrize(("diagram", "crash_step"), [
    (d, s.id) for d in (DIAGRAM_PORTAL, DIAGRAM_PROVIDER) for s in d.of_kind(StepKind.ACTION)
], ids=lambda v: v.id if isinstance(v, Diagram) else f"step{v}")
def test_crash_after_effect_then_resume_in_new_runner(diagram: Diagram, crash_step: str, db_url: str,
                                                      clock: FrozenClock) -> None:
    systems = ExternalSystems()
    store = open_store(db_url)
    runner = FlowRunner(diagram, steps_with_effects(diagram, clock, systems, crash_after=crash_step),
                        store, clock=clock)
    with pytest.raises(Crash):
        runner.start(service="higher-postgraduate", operation="issue", flow_id="F-1")
    store.engine.dispose()

    # a new process: new engine, new store, new runner on the same file
    store2 = open_store(db_url)
    left = store2.get_flow("F-1")
    assert left.status is FlowStatus.RUNNING
    assert left.current_step == crash_step
    open_row = store2.step("F-1", crash_step)
    assert not open_row.finished and open_row.attempts == 1
    runner2 = FlowRunner(diagram, steps_with_effects(diagram, clock, systems), store2, clock=clock)
    result = runner2.resume("F-1")

    assert result.status is FlowStatus.COMPLETED
    key = f"F-1/{crash_step}"
    assert systems.calls.count(key) == 2                     # re-run once, with the SAME key
    assert set(systems.effects.values()) == {1}               # and every effect happened once
    assert len(systems.effects) == len(diagram.of_kind(StepKind.ACTION))
    assert store2.step("F-1", crash_step).attempts == 2
    assert result.data[f"receipt_{crash_step}"] == systems.ledger[key]
    store2.engine.dispose()


def test_payment_is_not_repeated_and_finished_steps_are_not_rerun(db_url: str, clock: FrozenClock) -> None:
    systems = ExternalSystems()
    store = open_store(db_url)
    steps = steps_with_effects(DIAGRAM_PORTAL, clock, systems, crash_after="4")    # 4 = payment
    with pytest.raises(Crash):
        FlowRunner(DIAGRAM_PORTAL, steps, store, clock=clock).start(
            service="school", operation="issue", flow_id="PAY")
    assert systems.effects["PAY/4"] == 1
    calls_before = list(systems.calls)
    store.engine.dispose()

    store2 = open_store(db_url)
    FlowRunner(DIAGRAM_PORTAL, steps_with_effects(DIAGRAM_PORTAL, clock, systems), store2,
               clock=clock).resume("PAY")
    assert systems.effects["PAY/4"] == 1
    new_calls = systems.calls[len(calls_before):]
    assert new_calls[0] == "PAY/4"
    assert "PAY/1" not in new_calls and "PAY/3" not in new_calls   # done steps stay done
    store2.engine.dispose()


def _kill_on(engine: Engine, statement_prefix: str) -> Callable[[], None]:
    """Make the next statement starting with ``statement_prefix`` kill the 'process'."""
    armed = {"on": True}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if armed["on"] and statement.lstrip().upper().startswith(statement_prefix):
            armed["on"] = False
            raise Crash(f"killed before: {statement[:40]}")

    event.listen(engine, "before_cursor_execute", before)
    return lambda: event.remove(engine, "before_cursor_execute", before)


def test_kill_inside_step_finished_transaction_leaves_step_open(db_url: str, clock: FrozenClock) -> None:
    """Between 'step row updated' and 'flow moved' is inside one transaction: both or neither."""
    systems = ExternalSystems()
    store = open_store(db_url)
    _kill_on(store.engine, "UPDATE PROCEDURE_FLOWS")      # after the step row's UPDATE, same transaction
    runner = FlowRunner(DIAGRAM_PROVIDER, steps_with_effects(DIAGRAM_PROVIDER, clock, systems), store,
                        clock=clock)
    with pytest.raises(Crash):
        runner.start(service="school", operation="issue", flow_id="TX")
    store.engine.dispose()

    store2 = open_store(db_url)
    assert store2.get_flow("TX").current_step == "1"
    assert not store2.step("TX", "1").finished           # the step row's update was rolled back
    result = FlowRunner(DIAGRAM_PROVIDER, steps_with_effects(DIAGRAM_PROVIDER, clock, systems), store2,
                        clock=clock).resume("TX")
    assert result.status is FlowStatus.COMPLETED
    assert systems.calls.count("TX/1") == 2 and systems.effects["TX/1"] == 1
    store2.engine.dispose()


def test_kill_before_step_started_commit_runs_step_once(db_url: str, clock: FrozenClock) -> None:
    systems = ExternalSystems()
    store = open_store(db_url)
    _kill_on(store.engine, "INSERT INTO PROCEDURE_STEPS")
    runner = FlowRunner(DIAGRAM_PORTAL, steps_with_effects(DIAGRAM_PORTAL, clock, systems), store,
                        clock=clock)
    with pytest.raises(Crash):
        runner.start(service="school", operation="issue", flow_id="EARLY")
    assert systems.calls == []                            # nothing ran before "step started"
    store.engine.dispose()
    store2 = open_store(db_url)
    result = FlowRunner(DIAGRAM_PORTAL, steps_with_effects(DIAGRAM_PORTAL, clock, systems), store2,
                        clock=clock).resume("EARLY")
    assert result.status is FlowStatus.COMPLETED
    assert systems.calls.count("EARLY/1") == 1
    store2.engine.dispose()


def test_store_records_flows_and_history(clock: FrozenClock) -> None:
    store = FlowStore.in_memory()
    store.create_flow(flow_id="a", service="school", operation="issue", diagram="portal", start_step="1",
                      data={"bin": "123"}, now=T0)
    with pytest.raises(ConflictError, match="flow a already exists"):
        store.create_flow(flow_id="a", service="school", operation="issue", diagram="portal",
                          start_step="1", data={}, now=T0)
    with pytest.raises(NotFoundError, match="flow nope not found"):
        store.get_flow("nope")
    with pytest.raises(NotFoundError, match="step 9 has no record"):
        store.step("a", "9")

    started = store.step_started(flow_id="a", step_id="1", now=T0, norm_min=10, norm_max=15)
    assert started.idempotency_key == "a/1" and started.attempts == 1 and not started.finished
    flow = store.step_finished(flow_id="a", step_id="1", finished_at=T0 + dt.timedelta(seconds=20),
                               duration_seconds=20, verdict=NormVerdict.OVER, outcome="done", detail="",
                               data_update={"login": "ok"}, next_step="C1", status=FlowStatus.RUNNING)
    assert flow.current_step == "C1" and flow.data == {"bin": "123", "login": "ok"}
    assert flow.updated_at == T0 + dt.timedelta(seconds=20) and flow.created_at == T0
    record = store.step("a", "1")
    assert record.norm_verdict is NormVerdict.OVER and record.duration_seconds == 20
    assert record.finished_at is not None and record.finished_at.tzinfo is not None
    with pytest.raises(ConflictError, match="step 1 is already finished"):
        store.step_started(flow_id="a", step_id="1", now=T0, norm_min=None, norm_max=None)
    with pytest.raises(ConflictError, match="cannot finish step 1"):
        store.step_finished(flow_id="a", step_id="1", finished_at=T0, duration_seconds=0,
                            verdict=NormVerdict.NO_NORM, outcome="done", detail="", data_update={},
                            next_step="C1", status=FlowStatus.RUNNING)
    assert [r.step for r in store.history("a")] == ["1"]
    assert [f.flow_id for f in store.list_flows(FlowStatus.RUNNING)] == ["a"]
    assert store.list_flows(FlowStatus.COMPLETED) == []

    with store.engine.connect() as conn:
        tables = {flows_table.name, steps_table.name}
        assert conn.execute(select(steps_table.c.idempotency_key)).scalars().all() == ["a/1"]
        assert tables == {"procedure_flows", "procedure_steps"}
    store.engine.dispose()


def test_store_from_url_uses_the_project_engine(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'x.db'}"
    store = FlowStore.from_url(url)
    store.create_flow(flow_id="z", service="religious", operation="duplicate", diagram="provider",
                      start_step="1", data={}, now=T0)
    store.engine.dispose()
    again = FlowStore.from_url(url)                      # tables already there: no error, data kept
    assert again.get_flow("z").operation == "duplicate"
    again.engine.dispose()


@pytest.fixture
def memory_store() -> Iterator[FlowStore]:
    s = FlowStore.in_memory()
    yield s
    s.engine.dispose()


def test_refused_flow_history_persists(memory_store: FlowStore, clock: FrozenClock) -> None:
    systems = ExternalSystems()
    steps = steps_with_effects(DIAGRAM_PORTAL, clock, systems)
    steps["C2"] = lambda ctx: Outcome(ok=False, detail="no payment with reference PAY-1")
    result = FlowRunner(DIAGRAM_PORTAL, steps, memory_store, clock=clock).start(
        service="school", operation="issue", flow_id="R")
    assert result.status is FlowStatus.REFUSED
    flow = memory_store.get_flow("R")
    assert flow.status is FlowStatus.REFUSED and flow.current_step == "5"
    history = memory_store.history("R")
    assert [h.outcome for h in history][-2:] == ["fail", "refused"]
    assert history[-2].detail == "no payment with reference PAY-1"


def test_overdue_filter_finds_undecided_applications_past_their_deadline(memory_store: FlowStore) -> None:
    """The search filter "overdue": registered, not decided, the review deadline passed."""
    now = dt.datetime(2024, 4, 1, 10, tzinfo=dt.UTC)
    today = now.date()
    for flow_id, deadline, service in (("late", "2024-03-20", "school"), ("later", "2024-03-01", "religious"),
                                       ("due-today", "2024-04-01", "school"), ("unregistered", None, "school"),
                                       ("decided", "2024-03-01", "school")):
        data = {} if deadline is None else {"deadline": deadline}
        memory_store.create_flow(flow_id=flow_id, service=service, operation="issue", diagram="portal",
                                 start_step="C4", data=data, now=now)
    memory_store.step_started(flow_id="decided", step_id="C4", now=now, norm_min=None, norm_max=None)
    memory_store.step_finished(flow_id="decided", step_id="C4", finished_at=now, duration_seconds=1.0,
                               verdict=NormVerdict.NO_NORM, outcome="refused", detail="", data_update={},
                               next_step="10", status=FlowStatus.REFUSED)
    assert [f.flow_id for f in memory_store.overdue_flows(today)] == ["later", "late"]
    assert [f.flow_id for f in memory_store.overdue_flows(today, service="school")] == ["late"]
    assert [f.flow_id for f in memory_store.overdue_flows(today + dt.timedelta(days=1))] == [
        "later", "late", "due-today"]
