"""The crash drill's observer: ``EGOV_FLOW_CRASH_AT`` parsed, the process ended at that point only."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.core.clock import FrozenClock
from adapters.core.errors import ConfigurationError
from harness.crash import CRASH_ENV, CrashAt, crash_observer, crash_point
from procedure.diagrams import DIAGRAM_PORTAL, StepKind
from procedure.machine import FlowContext, FlowRunner, Outcome, StepFn
from procedure.models import FlowStatus
from procedure.store import FlowStore


@pytest.mark.parametrize(("spec", "point"), [
    ("C4", ("C4", "before")), ("4:before", ("4", "before")), ("11:after", ("11", "after")), ("", None), (None, None),
])
def test_crash_points_are_parsed(spec: str | None, point: tuple[str, str] | None) -> None:
    assert crash_point(spec) == point


@pytest.mark.parametrize("spec", ["4:during", ":after", ":"])
def test_a_bad_crash_point_is_refused(spec: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{CRASH_ENV}=.*expected <step id>"):
        crash_point(spec)


def test_the_observer_comes_from_the_variable_only() -> None:
    assert crash_observer({}) is None
    observer = crash_observer({CRASH_ENV: "9:after"})
    assert isinstance(observer, CrashAt) and (observer.step, observer.when) == ("9", "after")


class Died(BaseException):
    """Stands for SIGKILL: nothing after it runs, no error handler records it."""


@pytest.mark.parametrize("when", ["before", "after"])
def test_the_observer_ends_the_flow_at_its_point(when: str) -> None:
    clock = FrozenClock(dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC))
    ran: list[str] = []

    def impl(step_id: str) -> StepFn:
        def run(ctx: FlowContext) -> Outcome:
            ran.append(step_id)
            return Outcome()
        return run

    def die() -> None:
        raise Died

    steps = {s.id: impl(s.id) for s in DIAGRAM_PORTAL if s.kind in (StepKind.ACTION, StepKind.CONDITION)}
    store = FlowStore.in_memory()
    runner = FlowRunner(DIAGRAM_PORTAL, steps, store, clock=clock, observers=[CrashAt("4", when, die=die)])  # type: ignore[arg-type]
    with pytest.raises(Died):
        runner.start(service="school", operation="issue", flow_id="killed")
    assert ran == (["1", "C1", "3"] if when == "before" else ["1", "C1", "3", "4"])
    flow = store.get_flow("killed")
    assert (flow.status, flow.current_step) == (FlowStatus.RUNNING, "4")  # as a killed process leaves it
    assert not store.step("killed", "4").finished
    store.engine.dispose()
