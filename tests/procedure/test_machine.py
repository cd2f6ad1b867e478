"""The two diagrams as state machines: every branch, norms, outcomes, inspection."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from adapters.core.clock import FrozenClock
from adapters.core.errors import ConfigurationError
from procedure.diagrams import (
    DIAGRAM_PORTAL,
    DIAGRAM_PROVIDER,
    REFUSAL_AUTH_APPLICANT,
    REFUSAL_AUTH_EMPLOYEE,
    REFUSAL_DATA_FAULTS,
    REFUSAL_EDS_NOT_CONFIRMED,
    REFUSAL_NO_LE_DATA,
    REFUSAL_NOT_PAID,
    Actor,
    Diagram,
    Step,
    StepKind,
    get_diagram,
)
from procedure.machine import FlowContext, FlowRunner, Outcome, StepFn, StepPhase, describe, to_mermaid
from procedure.models import FlowStatus, NormVerdict, Text
from procedure.store import FlowStore

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def store() -> Iterator[FlowStore]:
    s = FlowStore.in_memory()
    yield s
    s.engine.dispose()


def fake_steps(diagram: Diagram, clock: FrozenClock, *, fail: frozenset[str] = frozenset(),
               durations: Mapping[str, float] | None = None,
               calls: list[FlowContext] | None = None) -> dict[str, StepFn]:
    """One fake implementation per action/condition: records the call, takes time, decides."""
    durations = durations or {}

    def make(step: Step) -> StepFn:
        def impl(ctx: FlowContext) -> Outcome:
            if calls is not None:
                calls.append(ctx)
            clock.advance(dt.timedelta(seconds=durations.get(step.id, 1)))
            if step.kind is StepKind.CONDITION:
                ok = step.id not in fail
                return Outcome(ok=ok, detail="" if ok else f"{step.id} rejected the applicant")
            return Outcome(data={f"did_{step.id}": True})
        return impl

    return {s.id: make(s) for s in diagram if s.kind in (StepKind.ACTION, StepKind.CONDITION)}


def failing_conditions(diagram: Diagram, path: tuple[str, ...]) -> frozenset[str]:
    out: set[str] = set()
    for here, there in itertools.pairwise(path):
        step = diagram.step(here)
        if step.kind is StepKind.CONDITION and step.on_fail == there:
            out.add(here)
    return frozenset(out)


@pytest.mark.parametrize(("diagram", "path"), [
    (d, p) for d in (DIAGRAM_PORTAL, DIAGRAM_PROVIDER) for p in d.paths()
], ids=lambda v: v.id if isinstance(v, Diagram) else "-".join(v))
def test_every_branch_is_walked(diagram: Diagram, path: tuple[str, ...], clock: FrozenClock,
                                store: FlowStore) -> None:
    runner = FlowRunner(diagram, fake_steps(diagram, clock, fail=failing_conditions(diagram, path)),
                        store, clock=clock)
    result = runner.start(service="higher-postgraduate", operation="issue")
    assert result.path == path
    end = diagram.step(path[-1])
    assert result.step == end.id
    if end.kind is StepKind.REFUSAL:
        assert result.status is FlowStatus.REFUSED
        assert result.refusal == end.message
        assert result.detail.endswith("rejected the applicant")
    else:
        assert result.status is FlowStatus.COMPLETED
        assert result.refusal is None
    assert all(r.finished for r in result.history)


@pytest.mark.parametrize(("diagram", "condition", "refusal_step", "message"), [
    (DIAGRAM_PORTAL, "C1", "2", REFUSAL_AUTH_APPLICANT),
    (DIAGRAM_PORTAL, "C2", "5", REFUSAL_NOT_PAID),
    (DIAGRAM_PORTAL, "C3", "7", REFUSAL_EDS_NOT_CONFIRMED),
    (DIAGRAM_PORTAL, "C4", "10", REFUSAL_DATA_FAULTS),
    (DIAGRAM_PROVIDER, "C1", "2", REFUSAL_AUTH_EMPLOYEE),
    (DIAGRAM_PROVIDER, "C2", "5", REFUSAL_NO_LE_DATA),
    (DIAGRAM_PROVIDER, "C3", "8", REFUSAL_DATA_FAULTS),
])
def test_condition_failure_goes_to_its_refusal(diagram: Diagram, condition: str, refusal_step: str,
                                               message: Text, clock: FrozenClock, store: FlowStore) -> None:
    runner = FlowRunner(diagram, fake_steps(diagram, clock, fail=frozenset({condition})), store, clock=clock)
    result = runner.start(service="school", operation="issue")
    assert result.status is FlowStatus.REFUSED
    assert result.step == refusal_step
    assert result.path[-2:] == (condition, refusal_step)
    assert result.refusal == message
    assert result.detail == f"{condition} rejected the applicant"
    cond = next(r for r in result.history if r.step == condition)
    assert cond.outcome == "fail"


def test_refusal_messages_are_in_three_languages() -> None:
    assert "авторизациядан бас тарту" in REFUSAL_AUTH_APPLICANT.kk
    assert "төлемнің жоқтығына" in REFUSAL_NOT_PAID.kk
    assert "ЭЦҚ" in REFUSAL_EDS_NOT_CONFIRMED.kk
    assert "ЗТ МДҚ" in REFUSAL_NO_LE_DATA.kk
    for diagram in (DIAGRAM_PORTAL, DIAGRAM_PROVIDER):
        for step in diagram.of_kind(StepKind.REFUSAL):
            assert step.message is not None
            assert step.message.kk and step.message.ru and step.message.en


def test_success_path_of_diagram_1_runs_in_regulation_order(clock: FrozenClock, store: FlowStore) -> None:
    calls: list[FlowContext] = []
    runner = FlowRunner(DIAGRAM_PORTAL, fake_steps(DIAGRAM_PORTAL, clock, calls=calls), store, clock=clock)
    result = runner.start(service="religious", operation="reissue", data={"bin": "120240012345"},
                          flow_id="flow-ok")
    assert result.status is FlowStatus.COMPLETED
    assert result.step == "11"
    assert [c.step.id for c in calls] == ["1", "C1", "3", "4", "C2", "6", "C3", "8", "9", "C4"]
    assert [c.idempotency_key for c in calls][:2] == ["flow-ok/1", "flow-ok/C1"]
    assert all(c.attempt == 1 for c in calls)
    # every step sees the data produced before it, never after
    assert "did_3" in calls[-1].data and "did_9" in calls[-1].data
    assert "did_4" not in calls[2].data
    assert calls[0].data["bin"] == "120240012345"
    assert result.data["did_9"] is True
    assert calls[0].service == "religious" and calls[0].operation == "reissue"


def test_steps_are_timed_against_their_norms(clock: FrozenClock, store: FlowStore) -> None:
    durations = {"1": 12, "3": 91, "4": 90, "6": 16, "8": 600}
    runner = FlowRunner(DIAGRAM_PORTAL, fake_steps(DIAGRAM_PORTAL, clock, durations=durations), store,
                        clock=clock)
    result = runner.start(service="higher-postgraduate", operation="issue")
    by_step = {r.step: r for r in result.history}
    assert by_step["1"].duration_seconds == 12
    assert by_step["1"].norm_verdict is NormVerdict.WITHIN
    assert by_step["3"].norm_verdict is NormVerdict.OVER          # 91 s against 1.5 min
    assert by_step["4"].norm_verdict is NormVerdict.WITHIN        # exactly 1.5 min
    assert by_step["6"].norm_verdict is NormVerdict.OVER          # 16 s against 10–15 s
    assert by_step["8"].norm_verdict is NormVerdict.NO_NORM       # the regulation gives none
    assert (by_step["3"].norm_min_seconds, by_step["3"].norm_max_seconds) == (90, 90)
    assert [r.step for r in result.over_norm()] == ["3", "6"]
    assert by_step["1"].started_at == T0
    assert by_step["1"].finished_at == T0 + dt.timedelta(seconds=12)


def test_refusal_step_has_its_norm_and_optional_implementation(clock: FrozenClock, store: FlowStore) -> None:
    steps = fake_steps(DIAGRAM_PORTAL, clock, fail=frozenset({"C1"}))
    formed: list[str] = []

    def form_refusal(ctx: FlowContext) -> Outcome:
        formed.append(ctx.idempotency_key)
        clock.advance(dt.timedelta(seconds=25))
        return Outcome(data={"notice": "sent"})

    steps["2"] = form_refusal
    result = FlowRunner(DIAGRAM_PORTAL, steps, store, clock=clock).start(
        service="school", operation="issue", flow_id="f-refused")
    assert formed == ["f-refused/2"]
    last = result.history[-1]
    assert last.step == "2" and last.outcome == "refused"
    assert last.norm_verdict is NormVerdict.OVER                  # 25 s against 20 s
    assert result.data["notice"] == "sent"


@pytest.mark.parametrize(("diagram", "norms"), [
    (DIAGRAM_PORTAL, {"1": (10, 15), "2": (20, 20), "3": (90, 90), "4": (90, 90), "5": (10, 15),
                      "6": (10, 15)}),
    (DIAGRAM_PROVIDER, {"1": (10, 15), "2": (10, 10), "3": (90, 90), "4": (90, 90), "5": (90, 90),
                        "6": (10, 15)}),
])
def test_norms_are_the_regulations(diagram: Diagram, norms: dict[str, tuple[int, int]]) -> None:
    for step in diagram:
        if step.id in norms:
            assert step.norm is not None
            assert (step.norm.min_seconds, step.norm.max_seconds) == norms[step.id]
        else:
            assert step.norm is None, step.id


def test_diagram_actors_and_structure() -> None:
    assert DIAGRAM_PORTAL.step("4").actor is Actor.EGPG
    assert DIAGRAM_PORTAL.step("C2").actor is Actor.ELICENSING
    assert DIAGRAM_PORTAL.step("C4").actor is Actor.PROVIDER
    assert DIAGRAM_PROVIDER.step("4").actor is Actor.LE_SDB_VIA_EGG
    assert DIAGRAM_PROVIDER.step("C2").actor is Actor.LE_SDB
    assert [s.id for s in DIAGRAM_PORTAL.of_kind(StepKind.CONDITION)] == ["C1", "C2", "C3", "C4"]
    assert [s.id for s in DIAGRAM_PROVIDER.of_kind(StepKind.CONDITION)] == ["C1", "C2", "C3"]
    assert DIAGRAM_PORTAL.step("9").number == 9 and DIAGRAM_PORTAL.step("C1").number is None
    assert len(DIAGRAM_PORTAL.paths()) == 5 and len(DIAGRAM_PROVIDER.paths()) == 4
    assert get_diagram("provider") is DIAGRAM_PROVIDER
    with pytest.raises(ConfigurationError, match="unknown diagram 'kiosk'"):
        get_diagram("kiosk")


def test_invalid_diagrams_are_refused_when_built() -> None:
    desc = Text(kk="қ", ru="р", en="e")
    with pytest.raises(ConfigurationError, match="cycle through step"):
        Diagram(id="loop", number=9, title=desc, start="1", steps=(
            Step("1", StepKind.ACTION, Actor.APPLICANT, desc, next="C1"),
            Step("C1", StepKind.CONDITION, Actor.EGP, desc, on_ok="1", on_fail="2"),
            Step("2", StepKind.REFUSAL, Actor.EGP, desc, message=desc),
        ))
    with pytest.raises(ConfigurationError, match="needs ok and fail branches"):
        Diagram(id="bad", number=9, title=desc, start="C1", steps=(
            Step("C1", StepKind.CONDITION, Actor.EGP, desc, on_ok="2"),
            Step("2", StepKind.RESULT, Actor.EGP, desc),
        ))
    with pytest.raises(ConfigurationError, match="unknown successor 7"):
        Diagram(id="bad", number=9, title=desc, start="1", steps=(
            Step("1", StepKind.ACTION, Actor.APPLICANT, desc, next="7"),
        ))
    with pytest.raises(ConfigurationError, match="a refusal needs its message"):
        Diagram(id="bad", number=9, title=desc, start="1", steps=(
            Step("1", StepKind.REFUSAL, Actor.APPLICANT, desc),
        ))


def test_runner_requires_an_implementation_for_every_action_and_condition(
        clock: FrozenClock, store: FlowStore) -> None:
    steps = fake_steps(DIAGRAM_PORTAL, clock)
    del steps["C3"]
    with pytest.raises(ConfigurationError, match=r"no implementation for steps \['C3'\]"):
        FlowRunner(DIAGRAM_PORTAL, steps, store, clock=clock)
    steps = fake_steps(DIAGRAM_PORTAL, clock)
    steps["C9"] = steps["C1"]
    with pytest.raises(ConfigurationError, match="unknown steps"):
        FlowRunner(DIAGRAM_PORTAL, steps, store, clock=clock)


def test_condition_must_decide(clock: FrozenClock, store: FlowStore) -> None:
    steps = fake_steps(DIAGRAM_PROVIDER, clock)
    steps["C1"] = lambda ctx: None
    runner = FlowRunner(DIAGRAM_PROVIDER, steps, store, clock=clock)
    with pytest.raises(ConfigurationError, match="step C1: implementation returned None"):
        runner.start(service="school", operation="issue", flow_id="undecided")
    flow = store.get_flow("undecided")
    assert flow.status is FlowStatus.FAILED
    assert flow.current_step == "C1"
    assert "ConfigurationError" in (flow.error or "")


def test_action_cannot_fail_by_outcome(clock: FrozenClock, store: FlowStore) -> None:
    steps = fake_steps(DIAGRAM_PROVIDER, clock)
    steps["3"] = lambda ctx: Outcome(ok=False, detail="form incomplete")
    runner = FlowRunner(DIAGRAM_PROVIDER, steps, store, clock=clock)
    with pytest.raises(ConfigurationError, match="only a condition may fail by its outcome"):
        runner.start(service="school", operation="issue")


def test_bool_results_pick_branches(clock: FrozenClock, store: FlowStore) -> None:
    steps = fake_steps(DIAGRAM_PROVIDER, clock)
    steps["C1"] = lambda ctx: True
    steps["C2"] = lambda ctx: False
    result = FlowRunner(DIAGRAM_PROVIDER, steps, store, clock=clock).start(service="school",
                                                                           operation="issue")
    assert result.path == ("1", "C1", "3", "4", "C2", "5")
    assert result.refusal == REFUSAL_NO_LE_DATA


def test_failed_step_is_resumed_with_the_same_key(clock: FrozenClock, store: FlowStore) -> None:
    keys: list[tuple[str, int]] = []
    state = {"down": True}

    def register(ctx: FlowContext) -> Outcome:
        keys.append((ctx.idempotency_key, ctx.attempt))
        if state["down"]:
            raise RuntimeError("E-licensing unavailable")
        return Outcome(data={"registration": "REG-1"})

    steps = fake_steps(DIAGRAM_PROVIDER, clock)
    steps["7"] = register
    runner = FlowRunner(DIAGRAM_PROVIDER, steps, store, clock=clock)
    with pytest.raises(RuntimeError, match="E-licensing unavailable"):
        runner.start(service="technical-vocational", operation="issue", flow_id="f1")
    failed = runner.inspect("f1")
    assert failed.status is FlowStatus.FAILED
    assert failed.step == "7"
    assert "E-licensing unavailable" in failed.detail
    assert store.step("f1", "7").error == "RuntimeError: E-licensing unavailable"
    state["down"] = False
    done = runner.resume("f1")
    assert done.status is FlowStatus.COMPLETED
    assert keys == [("f1/7", 1), ("f1/7", 2)]
    assert store.step("f1", "7").attempts == 2 and store.step("f1", "7").error is None
    assert done.data["registration"] == "REG-1"


def test_resuming_a_finished_flow_runs_nothing(clock: FrozenClock, store: FlowStore) -> None:
    calls: list[FlowContext] = []
    runner = FlowRunner(DIAGRAM_PORTAL, fake_steps(DIAGRAM_PORTAL, clock, calls=calls), store, clock=clock)
    first = runner.start(service="school", operation="issue", flow_id="done")
    n = len(calls)
    again = runner.resume("done")
    assert len(calls) == n
    assert again.status is FlowStatus.COMPLETED and again.path == first.path


def test_runner_refuses_a_flow_of_another_diagram(clock: FrozenClock, store: FlowStore) -> None:
    FlowRunner(DIAGRAM_PORTAL, fake_steps(DIAGRAM_PORTAL, clock), store, clock=clock).start(
        service="school", operation="issue", flow_id="portal-flow")
    other = FlowRunner(DIAGRAM_PROVIDER, fake_steps(DIAGRAM_PROVIDER, clock), store, clock=clock)
    with pytest.raises(ConfigurationError, match="follows diagram portal"):
        other.resume("portal-flow")


def test_describe_and_mermaid_render_the_diagram(clock: FrozenClock, store: FlowStore) -> None:
    text = describe(DIAGRAM_PORTAL)
    assert "ok → 3, fail → 2" in text
    assert "1.5 min" in text
    assert "төлемнің жоқтығына" in text
    mermaid = to_mermaid(DIAGRAM_PROVIDER)
    assert mermaid.startswith("flowchart TD")
    assert "sC2 -->|fail| s5" in mermaid and "sC2 -->|ok| s6" in mermaid
    assert "s4 --> sC2" in mermaid
    assert 'sC1{"C1. e-licensing' in mermaid
    steps = fake_steps(DIAGRAM_PORTAL, clock)
    runner_text = FlowRunner(DIAGRAM_PORTAL, steps, store, clock=clock).describe()
    line_11 = next(line for line in runner_text.splitlines() if line.strip().startswith("11 "))
    assert "[----]" in line_11                                    # result step left to the default
    line_c4 = next(line for line in runner_text.splitlines() if line.strip().startswith("C4 "))
    assert "[impl]" in line_c4


# --------------------------------------------------------------------------- observers

def test_observers_are_called_around_every_step(clock: FrozenClock, store: FlowStore) -> None:
    seen: list[tuple[str, StepPhase, bool]] = []

    def observe(ctx: FlowContext, phase: StepPhase) -> None:
        # before: the step's start is committed; after: its end is not recorded yet
        seen.append((ctx.step.id, phase, store.step(ctx.flow_id, ctx.step.id).finished))

    calls: list[FlowContext] = []
    runner = FlowRunner(DIAGRAM_PORTAL, fake_steps(DIAGRAM_PORTAL, clock, fail=frozenset({"C2"}), calls=calls),
                        store, clock=clock, observers=[observe])
    result = runner.start(service="school", operation="issue", flow_id="watched")
    assert result.path == ("1", "C1", "3", "4", "C2", "5")
    # every step, the refusal without an implementation too; never a finished one
    assert seen == [(step, phase, False) for step in result.path for phase in ("before", "after")]
    assert [c.step.id for c in calls] == list(result.path[:-1])


def test_an_observer_that_raises_fails_the_step(clock: FrozenClock, store: FlowStore) -> None:
    class Stop(Exception):
        pass

    def stop_after_4(ctx: FlowContext, phase: StepPhase) -> None:
        if (ctx.step.id, phase) == ("4", "after"):
            raise Stop("after step 4")

    calls: list[FlowContext] = []
    runner = FlowRunner(DIAGRAM_PORTAL, fake_steps(DIAGRAM_PORTAL, clock, calls=calls), store, clock=clock,
                        observers=[stop_after_4])
    with pytest.raises(Stop):
        runner.start(service="school", operation="issue", flow_id="stopped")
    flow = store.get_flow("stopped")
    assert (flow.status, flow.current_step) == (FlowStatus.FAILED, "4")
    step = store.step("stopped", "4")
    assert not step.finished and step.error is not None and "after step 4" in step.error
    assert "did_4" not in flow.data  # the step's data is not kept: it runs again on resume
    resumed = FlowRunner(DIAGRAM_PORTAL, fake_steps(DIAGRAM_PORTAL, clock, calls=calls), store,
                         clock=clock).resume("stopped")
    assert resumed.status is FlowStatus.COMPLETED
    assert [c.step.id for c in calls].count("4") == 2
    assert store.step("stopped", "4").attempts == 2


# --------------------------------------------------------------------------- the step scope (journal batches)

def test_a_steps_journal_rows_are_written_before_its_end_is_recorded(
        clock: FrozenClock, store: FlowStore, tmp_path: Path) -> None:
    import sqlite3

    from adapters.core.journal import AttemptRecord, ExchangeJournal

    journal = ExchangeJournal.open(f"sqlite:///{tmp_path / 'journal.db'}")

    def stored() -> list[str]:
        with sqlite3.connect(str(journal.engine.url.database)) as conn:
            return [r[0] for r in conn.execute("SELECT message_id FROM exchange_attempts ORDER BY id")]

    def exchange(ctx: FlowContext) -> None:
        for attempt in (1, 2):  # two attempts of one call, as a retried exchange journals them
            journal.record(AttemptRecord(at=T0, system="elicense", service="E-LICENSE", operation=ctx.step.id,
                                         message_id=ctx.idempotency_key, attempt=attempt,
                                         outcome="retry" if attempt == 1 else "ok", latency_ms=1.0))
        assert stored().count(ctx.idempotency_key) == 0  # held in the step's batch

    seen: list[tuple[str, int, bool]] = []

    def observe(ctx: FlowContext, phase: StepPhase) -> None:
        if phase == "after":  # the rows are in; the step's end is not recorded yet
            seen.append((ctx.step.id, stored().count(ctx.idempotency_key),
                         store.step(ctx.flow_id, ctx.step.id).finished))

    steps = fake_steps(DIAGRAM_PROVIDER, clock)
    for step_id in ("1", "4"):
        inner = steps[step_id]
        steps[step_id] = lambda ctx, inner=inner: (exchange(ctx), inner(ctx))[1]

    def register_then_fail(ctx: FlowContext) -> Outcome:
        exchange(ctx)
        raise RuntimeError("E-licensing answered with garbage")

    steps["7"] = register_then_fail
    runner = FlowRunner(DIAGRAM_PROVIDER, steps, store, clock=clock, observers=[observe],
                        step_scope=journal.batch)
    try:
        with pytest.raises(RuntimeError, match="garbage"):
            runner.start(service="school", operation="issue", flow_id="j")
        assert [s for s in seen if s[0] in ("1", "4")] == [("1", 2, False), ("4", 2, False)]
        assert stored().count("j/7") == 2  # a failed step's attempts are journalled too
        assert store.step("j", "7").error is not None
    finally:
        journal.close()
