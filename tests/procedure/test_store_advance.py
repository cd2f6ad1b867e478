"""The store's fast path (``FlowStore.advance``): one transaction per step boundary, records built
from what was written, and the same guards and crash contract as the general path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from adapters.core.clock import FrozenClock
from adapters.core.errors import ConflictError
from procedure.diagrams import DIAGRAM_PORTAL, StepKind
from procedure.machine import FlowContext, FlowRunner, Outcome, StepFn
from procedure.models import FlowStatus, NormVerdict
from procedure.store import FlowStore, NextStep

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FlowStore]:
    s = FlowStore.from_url(f"sqlite:///{tmp_path / 'flows.db'}")
    yield s
    s.engine.dispose()


def _count_commits(engine: Engine) -> list[str]:
    commits: list[str] = []
    event.listen(engine, "commit", lambda conn: commits.append("commit"))
    return commits


def steps(seen: list[tuple[str, int, dict[str, Any]]]) -> dict[str, StepFn]:
    def make(step_id: str, kind: StepKind) -> StepFn:
        def impl(ctx: FlowContext) -> Outcome | bool:
            seen.append((step_id, ctx.attempt, dict(ctx.data)))
            # a tuple and an int key: what the JSON column gives back is what the next step sees
            return Outcome(data={f"did_{step_id}": (1, 2), "n": {3: "x"}})
        return impl
    return {s.id: make(s.id, s.kind) for s in DIAGRAM_PORTAL if s.kind in (StepKind.ACTION, StepKind.CONDITION)}


def test_runner_commits_once_per_step_boundary_and_records_match_a_fresh_read(store: FlowStore) -> None:
    seen: list[tuple[str, int, dict[str, Any]]] = []
    commits = _count_commits(store.engine)
    result = FlowRunner(DIAGRAM_PORTAL, steps(seen), store, clock=FrozenClock(T0)).start(
        service="school", operation="issue", data={"bin": "120240012345"}, flow_id="F")
    assert result.status is FlowStatus.COMPLETED
    path = [r.step for r in result.history]
    # create + first start, then one commit per finished step (the last one starts nothing)
    assert len(commits) == 2 + len(path)
    assert result.history == tuple(store.history("F"))
    assert dict(result.data) == store.get_flow("F").data
    assert all(r.attempts == 1 and r.finished for r in result.history)
    # every step saw the data as stored (JSON: lists, string keys), never Python-only values
    assert seen[1][2]["did_1"] == [1, 2] and seen[1][2]["n"] == {"3": "x"}


def test_advance_starts_the_next_step_in_the_same_transaction(store: FlowStore) -> None:
    flow = store.create_flow(flow_id="a", service="school", operation="issue", diagram="portal",
                             start_step="1", data={"bin": "1"}, now=T0)
    store.step_started(flow_id="a", step_id="1", now=T0, norm_min=None, norm_max=None)
    commits = _count_commits(store.engine)
    moved, started = store.advance(flow=flow, step_id="1", finished_at=T0, duration_seconds=0,
                                   verdict=NormVerdict.NO_NORM, outcome="done", detail="",
                                   data_update={"x": 1}, next_step="C1", status=FlowStatus.RUNNING,
                                   start_next=NextStep("C1", 10, 15))
    assert len(commits) == 1
    assert moved == store.get_flow("a")
    assert started is not None and started == store.step("a", "C1")
    assert started.attempts == 1 and not started.finished and started.norm_max_seconds == 15


def test_a_crash_after_the_boundary_resumes_the_next_step_with_the_same_key(store: FlowStore) -> None:
    """Killed right after the merged commit: the next step is open (attempt 1), its key stable."""
    flow = store.create_flow(flow_id="k", service="school", operation="issue", diagram="portal",
                             start_step="1", data={}, now=T0)
    store.step_started(flow_id="k", step_id="1", now=T0, norm_min=None, norm_max=None)
    store.advance(flow=flow, step_id="1", finished_at=T0, duration_seconds=0, verdict=NormVerdict.NO_NORM,
                  outcome="done", detail="", data_update={}, next_step="C1", status=FlowStatus.RUNNING,
                  start_next=NextStep("C1"))
    seen: list[tuple[str, int, dict[str, Any]]] = []
    result = FlowRunner(DIAGRAM_PORTAL, steps(seen), store, clock=FrozenClock(T0)).resume("k")
    assert result.status is FlowStatus.COMPLETED
    assert seen[0][:2] == ("C1", 2)  # the same step again, one more attempt, same idempotency key
    assert store.step("k", "C1").idempotency_key == "k/C1"


def test_a_stale_record_cannot_finish_a_step_twice(store: FlowStore) -> None:
    flow = store.create_flow(flow_id="s", service="school", operation="issue", diagram="portal",
                             start_step="1", data={}, now=T0)
    store.step_started(flow_id="s", step_id="1", now=T0, norm_min=None, norm_max=None)
    kwargs: dict[str, Any] = {"step_id": "1", "finished_at": T0, "duration_seconds": 0,
                              "verdict": NormVerdict.NO_NORM, "outcome": "done", "detail": "",
                              "data_update": {"first": True}, "next_step": "C1", "status": FlowStatus.RUNNING}
    store.advance(flow=flow, start_next=NextStep("C1"), **kwargs)
    with pytest.raises(ConflictError, match="cannot finish step 1"):
        store.advance(flow=flow, **{**kwargs, "data_update": {"second": True}})
    assert store.get_flow("s").data == {"first": True}
    assert [r.step for r in store.history("s")] == ["1", "C1"]


def test_a_step_row_that_is_not_open_rolls_the_move_back(store: FlowStore) -> None:
    flow = store.create_flow(flow_id="o", service="school", operation="issue", diagram="portal",
                             start_step="1", data={}, now=T0)
    with pytest.raises(ConflictError, match="step 1 was not open"):  # never started
        store.advance(flow=flow, step_id="1", finished_at=T0, duration_seconds=0, verdict=NormVerdict.NO_NORM,
                      outcome="done", detail="", data_update={"x": 1}, next_step="C1",
                      status=FlowStatus.RUNNING, start_next=NextStep("C1"))
    again = store.get_flow("o")
    assert again.current_step == "1" and again.data == {} and store.history("o") == []


def test_an_existing_row_for_the_next_step_takes_the_general_path(store: FlowStore) -> None:
    flow = store.create_flow(flow_id="e", service="school", operation="issue", diagram="portal",
                             start_step="1", data={}, now=T0)
    store.step_started(flow_id="e", step_id="1", now=T0, norm_min=None, norm_max=None)
    store.step_started(flow_id="e", step_id="C1", now=T0, norm_min=None, norm_max=None)  # left open earlier
    moved, started = store.advance(flow=flow, step_id="1", finished_at=T0, duration_seconds=0,
                                   verdict=NormVerdict.NO_NORM, outcome="done", detail="", data_update={},
                                   next_step="C1", status=FlowStatus.RUNNING, start_next=NextStep("C1"))
    assert moved.current_step == "C1" and started is not None and started.attempts == 2
