"""The claims table: one holder per flow while its lease runs, taken over after; the sweep's choice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from procedure.models import FlowStatus, NormVerdict
from procedure.store import FlowStore
from workers.claims import FlowClaims

T0 = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path: Path) -> FlowStore:
    return FlowStore.from_url(f"sqlite:///{tmp_path / 'flows.db'}")


def _flow(store: FlowStore, flow_id: str, *, at: dt.datetime = T0) -> None:
    store.create_flow(flow_id=flow_id, service="school", operation="issue", diagram="provider", start_step="1",
                      data={}, now=at)


def test_one_holder_at_a_time_until_its_lease_runs_out(store: FlowStore) -> None:
    claims = FlowClaims(store.engine)
    _flow(store, "f1")
    assert claims.claim("f1", "a", now=T0, lease_seconds=10)
    assert not claims.claim("f1", "b", now=T0 + dt.timedelta(seconds=5), lease_seconds=10)
    assert claims.claim("f1", "a", now=T0 + dt.timedelta(seconds=5), lease_seconds=10)  # its own again
    assert claims.renew("f1", "a", now=T0 + dt.timedelta(seconds=9), lease_seconds=10)
    assert not claims.claim("f1", "b", now=T0 + dt.timedelta(seconds=18), lease_seconds=10)
    # "a" died: nobody renews; after the lease "b" takes the flow, and "a" can no longer renew it
    assert claims.claim("f1", "b", now=T0 + dt.timedelta(seconds=20), lease_seconds=10)
    assert not claims.renew("f1", "a", now=T0 + dt.timedelta(seconds=21), lease_seconds=10)
    claims.release("f1", "b", failures=2, retry_at=T0 + dt.timedelta(minutes=1))
    state = claims.state("f1")
    assert state is not None
    assert (state.owner, state.failures, state.retry_at) == (None, 2, T0 + dt.timedelta(minutes=1))
    assert claims.claim("f1", "c", now=T0 + dt.timedelta(seconds=22), lease_seconds=10)


def test_the_sweep_finds_flows_nobody_carries(store: FlowStore) -> None:
    claims = FlowClaims(store.engine)
    for name in ("idle", "held", "fresh", "due", "later", "left"):
        _flow(store, name)
    _flow(store, "recent", at=T0 + dt.timedelta(seconds=55))
    now = T0 + dt.timedelta(seconds=60)
    assert claims.claim("held", "w", now=now, lease_seconds=30)
    for name, retry in (("due", now - dt.timedelta(seconds=1)), ("later", now + dt.timedelta(minutes=5)),
                        ("left", None)):
        store.step_started(flow_id=name, step_id="1", now=T0, norm_min=None, norm_max=None)
        store.step_failed(flow_id=name, step_id="1", error="TransportError: reset", now=T0)
        assert claims.claim(name, "w", now=T0, lease_seconds=1)
        claims.release(name, "w", failures=1, retry_at=retry)
    store.step_started(flow_id="fresh", step_id="1", now=T0, norm_min=None, norm_max=None)
    store.step_finished(flow_id="fresh", step_id="1", finished_at=T0, duration_seconds=0.1,
                        verdict=NormVerdict.NO_NORM, outcome="done", detail="", data_update={}, next_step="C1",
                        status=FlowStatus.COMPLETED)
    found = dict(claims.orphans(now=now, idle_seconds=30))
    # running and idle: orphan; failed with its retry due: retry; held, too recent, retry later,
    # left for an operator, ended: not swept
    assert found == {"idle": "orphan", "due": "retry"}


def test_an_operators_resume_makes_a_flow_due_now(store: FlowStore) -> None:
    claims = FlowClaims(store.engine)
    _flow(store, "f")
    store.step_started(flow_id="f", step_id="1", now=T0, norm_min=None, norm_max=None)
    store.step_failed(flow_id="f", step_id="1", error="ConfigurationError", now=T0)
    assert claims.orphans(now=T0 + dt.timedelta(hours=1), idle_seconds=1) == []
    claims.schedule("f", at=T0 + dt.timedelta(hours=1))
    assert claims.orphans(now=T0 + dt.timedelta(hours=1), idle_seconds=1) == [("f", "retry")]
    claims.schedule("f", at=T0 + dt.timedelta(hours=2))  # twice: one row
    state = claims.state("f")
    assert state is not None and state.failures == 0 and state.retry_at == T0 + dt.timedelta(hours=2)
