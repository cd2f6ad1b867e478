"""The flows' gauges read from the store at scrape time: by status, stuck, and against the deadline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from adapters.core.clock import FrozenClock
from procedure.calendar import review_deadline
from procedure.models import FlowStatus, NormVerdict
from procedure.store import FlowStore
from workers.metrics import FlowStateCollector

NOW = dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)  # a Thursday, noon in Astana


def test_flows_by_status_stuck_and_by_deadline(tmp_path: Path) -> None:
    store = FlowStore.from_url(f"sqlite:///{tmp_path / 'flows.db'}")
    deadlines = {"on-time": review_deadline(NOW, 30), "near": review_deadline(NOW, 3),
                 "past": NOW.date() - dt.timedelta(days=1)}
    for state, deadline in deadlines.items():
        store.create_flow(flow_id=state, service="school", operation="issue", diagram="portal", start_step="C4",
                          data={"deadline": deadline.isoformat()}, now=NOW - dt.timedelta(hours=2))
    store.create_flow(flow_id="done", service="school", operation="issue", diagram="provider", start_step="9",
                      data={"deadline": deadlines["past"].isoformat()}, now=NOW)
    store.step_started(flow_id="done", step_id="9", now=NOW, norm_min=None, norm_max=None)
    store.step_finished(flow_id="done", step_id="9", finished_at=NOW, duration_seconds=1.0,
                        verdict=NormVerdict.NO_NORM, outcome="result", detail="", data_update={}, next_step="9",
                        status=FlowStatus.COMPLETED)
    collector = FlowStateCollector(store, stuck_seconds=3600, near_working_days=5, clock=FrozenClock(NOW))
    registry = CollectorRegistry()
    registry.register(collector)
    value = registry.get_sample_value
    assert value("egov_flows", {"status": "running", "diagram": "portal"}) == 3
    assert value("egov_flows", {"status": "completed", "diagram": "provider"}) == 1
    assert value("egov_flows", {"status": "refused", "diagram": "portal"}) == 0
    assert value("egov_flows_stuck", {}) == 3  # two hours without progress
    for state in deadlines:  # the decided application is not counted
        assert value("egov_applications_by_deadline", {"state": state}) == 1, state
    assert b"egov_applications_by_deadline{state=\"near\"} 1.0" in generate_latest(registry)
    assert collector.deadline_state(NOW.date(), NOW) == "near"  # the last day
