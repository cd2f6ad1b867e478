"""The flow_step task over a real flow store and claims table, with steps that succeed or fail as
told: the next step queued after the claim is released, retryable failures due again with a
growing delay, other failures and used-up retries left for an operator, a held flow skipped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, cast

import pytest

from adapters.core.clock import FrozenClock
from adapters.core.errors import ConfigurationError, DeadlineExceededError, TransportError
from adapters.core.metrics import Metrics
from adapters.core.settings import load_settings
from procedure.machine import StepRun
from procedure.models import FlowStatus, NormVerdict
from procedure.store import FlowStore
from workers.claims import FlowClaims
from workers.metrics import FlowMetrics
from workers.queue import FLOW_STEP
from workers.runtime import WorkerRuntime
from workers.tasks import Tasks, worth_waiting_for

T0 = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


class SentTasks:
    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...], float]] = []

    def send(self, task: str, *args: Any, delay: float = 0.0) -> None:
        self.sent.append((task, args, delay))


class ScriptedSteps:
    """Plays the next outcome of ``script`` for each step run: an exception, or the flow's status after."""

    def __init__(self, script: list[BaseException | FlowStatus], claims: FlowClaims) -> None:
        self.script = script
        self.claims = claims
        self.held_during_step: list[bool] = []

    def run_step(self, flow_id: str, store: FlowStore) -> StepRun:
        state = self.claims.state(flow_id)
        self.held_during_step.append(state is not None and state.owner is not None)
        outcome = self.script.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        flow = store.get_flow(flow_id).model_copy(update={"status": outcome})
        return StepRun(flow=flow, step="1", duration_seconds=0.5, verdict=NormVerdict.WITHIN, outcome="done")


def _tasks(tmp_path: Path, script: list[BaseException | FlowStatus], **settings: Any) -> tuple[Tasks, SentTasks]:
    store = FlowStore.from_url(f"sqlite:///{tmp_path / 'flows.db'}")
    store.create_flow(flow_id="f", service="school", operation="issue", diagram="provider", start_step="1",
                      data={}, now=T0)
    claims = FlowClaims(store.engine)
    queue = SentTasks()
    runtime = WorkerRuntime(
        settings=load_settings(worker_retry_seconds=2.0, worker_max_retries=2, **settings), clients=cast(Any, None),
        store=store, claims=claims, inbox=cast(Any, None), steps=cast(Any, ScriptedSteps(script, claims)),
        metrics=FlowMetrics(Metrics()), queue=queue, clock=FrozenClock(T0))
    return Tasks(runtime), queue


def _outcomes(tasks: Tasks) -> dict[str, float]:
    metrics = tasks.rt.metrics.tasks
    return {s.labels["outcome"]: s.value for m in metrics.collect() for s in m.samples
            if s.name.endswith("_total") and s.value}


def test_a_step_done_queues_the_next_once_the_flow_is_released(tmp_path: Path) -> None:
    tasks, queue = _tasks(tmp_path, [FlowStatus.RUNNING, FlowStatus.COMPLETED])
    tasks.flow_step("f")
    steps = cast(ScriptedSteps, tasks.rt.steps)
    assert steps.held_during_step == [True]
    state = tasks.rt.claims.state("f")
    assert state is not None and state.owner is None  # released before the next message went out
    assert queue.sent == [(FLOW_STEP, ("f",), 0.0)]
    tasks.flow_step("f")  # the last step: nothing more to queue
    assert queue.sent == [(FLOW_STEP, ("f",), 0.0)]
    assert _outcomes(tasks) == {"done": 2.0}
    assert tasks.rt.metrics.steps.labels("provider", "1", "done", "within")._value.get() == 2.0


def test_a_held_flow_is_skipped(tmp_path: Path) -> None:
    tasks, queue = _tasks(tmp_path, [FlowStatus.RUNNING])
    assert tasks.rt.claims.claim("f", "another-worker", now=T0, lease_seconds=30)
    tasks.flow_step("f")
    assert queue.sent == [] and cast(ScriptedSteps, tasks.rt.steps).held_during_step == []
    assert _outcomes(tasks) == {"skipped": 1.0}


def test_failures_worth_waiting_for_are_retried_with_a_growing_delay_then_left(tmp_path: Path) -> None:
    waiting = DeadlineExceededError("payment of order 1 not final after 10 s")
    tasks, queue = _tasks(tmp_path, [waiting, TransportError("reset", kind="reset"), waiting])
    for _ in range(3):
        tasks.flow_step("f")
    assert [(task, delay) for task, _, delay in queue.sent] == [(FLOW_STEP, 2.0), (FLOW_STEP, 4.0)]
    state = tasks.rt.claims.state("f")
    assert state is not None and state.failures == 3 and state.retry_at is None  # left for an operator
    assert _outcomes(tasks) == {"retry": 2.0, "failed": 1.0}


def test_a_failure_waiting_will_not_mend_is_left_at_once(tmp_path: Path) -> None:
    tasks, queue = _tasks(tmp_path, [ConfigurationError("secret file /x: cannot read")])
    tasks.flow_step("f")
    assert queue.sent == []
    state = tasks.rt.claims.state("f")
    assert state is not None and (state.failures, state.retry_at) == (1, None)


@pytest.mark.parametrize(("error", "wait"), [
    (DeadlineExceededError("late"), True), (TransportError("reset", kind="reset"), True),
    (ConfigurationError("no key"), False), (ValueError("a bug"), False)])
def test_what_is_worth_waiting_for(error: BaseException, wait: bool) -> None:
    assert worth_waiting_for(error) is wait
