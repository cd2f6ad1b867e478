"""Metrics of the flows run as tasks, in the adapters' registry (one scrape shows everything).

Counted as the work happens (:class:`FlowMetrics`):

- ``egov_flow_steps_total{diagram, step, outcome, verdict}``: steps ended; ``verdict`` is the
  regulation's norm verdict (``within``, ``over``, ``no-norm``);
- ``egov_flow_step_seconds{diagram, step}``: how long each step took (histogram);
- ``egov_flow_step_norm_seconds{diagram, step, bound}``: the regulation's norm of each step
  (``bound`` ``min``/``max``), to draw beside the durations;
- ``egov_worker_tasks_total{task, outcome}`` and ``egov_worker_task_seconds{task}``: tasks run
  (``done``, ``skipped``: another task held the flow, ``retry``: failed and due again later,
  ``failed``: left for an operator, ``error``: the handler raised);
- ``egov_worker_requeued_total{reason}``: flows the sweep queued again (``orphan``, ``retry``);
- ``egov_status_notices_total{outcome}``: notices pumped (``stored``, ``duplicate``, ``refused``).

Read from the flow store at each scrape (:class:`FlowStateCollector`), so every process shows
the same values whichever one is scraped:

- ``egov_flows{status, diagram}``: flows by status;
- ``egov_flows_stuck``: open flows without progress for ``EGOV_FLOW_STUCK_SECONDS``;
- ``egov_applications_by_deadline{state}``: registered, undecided applications against their
  30-working-day review deadline: ``on-time``, ``near`` (``EGOV_DEADLINE_NEAR_WORKING_DAYS`` or
  fewer left), ``past``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.metrics import Metrics
from procedure.calendar import DEFAULT_TIMEZONE, working_days_between
from procedure.diagrams import DIAGRAM_PORTAL, DIAGRAM_PROVIDER
from procedure.models import FlowStatus, NormVerdict
from procedure.store import FlowStore, flows_table
from workers.notices import PumpResult

__all__ = ["DEADLINE_STATES", "STEP_BUCKETS", "FlowMetrics", "FlowStateCollector"]

STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 90.0, 180.0, 300.0, 900.0, 1800.0, 3600.0)
"""Seconds: the regulation's step norms go from a minute and a half to half an hour."""
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
DEADLINE_STATES = ("on-time", "near", "past")


class FlowMetrics:
    """Counters and histograms of steps, tasks, sweeps and notices, in ``metrics``' registry."""

    def __init__(self, metrics: Metrics, namespace: str = "egov") -> None:
        r, ns = metrics.registry, namespace
        self.steps = Counter("flow_steps", "Flow steps ended, by outcome and norm verdict",
                             ["diagram", "step", "outcome", "verdict"], namespace=ns, registry=r)
        self.step_seconds = Histogram("flow_step_seconds", "Time a flow step took", ["diagram", "step"],
                                      namespace=ns, registry=r, buckets=STEP_BUCKETS)
        self.norms = Gauge("flow_step_norm_seconds", "The regulation's norm of a step (min and max)",
                           ["diagram", "step", "bound"], namespace=ns, registry=r, multiprocess_mode="max")
        self.tasks = Counter("worker_tasks", "Tasks run, by outcome", ["task", "outcome"], namespace=ns, registry=r)
        self.task_seconds = Histogram("worker_task_seconds", "Time a task took", ["task"], namespace=ns,
                                      registry=r, buckets=TASK_BUCKETS)
        self.requeued = Counter("worker_requeued", "Flows the sweep queued again", ["reason"], namespace=ns,
                                registry=r)
        self.notices = Counter("status_notices", "Status notices pumped from the gateway", ["outcome"],
                               namespace=ns, registry=r)
        for diagram in (DIAGRAM_PORTAL, DIAGRAM_PROVIDER):
            for step in diagram:
                if step.norm is not None:
                    self.norms.labels(diagram.id, step.id, "min").set(step.norm.min_seconds)
                    self.norms.labels(diagram.id, step.id, "max").set(step.norm.max_seconds)
        for outcome in ("stored", "duplicate", "refused"):
            self.notices.labels(outcome)

    def observe_step(self, diagram: str, step: str, outcome: str, verdict: NormVerdict, seconds: float) -> None:
        self.steps.labels(diagram, step, outcome, verdict.value).inc()
        self.step_seconds.labels(diagram, step).observe(max(0.0, seconds))

    def observe_task(self, task: str, outcome: str, seconds: float) -> None:
        self.tasks.labels(task, outcome).inc()
        self.task_seconds.labels(task).observe(max(0.0, seconds))

    def observe_pump(self, result: PumpResult) -> None:
        self.notices.labels("stored").inc(result.stored)
        self.notices.labels("duplicate").inc(result.duplicates)
        self.notices.labels("refused").inc(result.refused)


class FlowStateCollector(Collector):
    """Gauges read from the flow store at scrape time (flows by status, stuck flows, deadlines)."""

    def __init__(self, store: FlowStore, *, stuck_seconds: float, near_working_days: int,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.store = store
        self.stuck_seconds = stuck_seconds
        self.near_working_days = near_working_days
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.clock.now()
        f = flows_table.c
        by_status = GaugeMetricFamily("egov_flows", "Licensing flows by status", labels=["status", "diagram"])
        with self.store.engine.connect() as conn:
            counts = {(str(s), str(d)): int(n) for s, d, n in conn.execute(
                select(f.status, f.diagram, func.count()).group_by(f.status, f.diagram))}
        for status in FlowStatus:
            for diagram in (DIAGRAM_PORTAL.id, DIAGRAM_PROVIDER.id):
                by_status.add_metric([status.value, diagram], counts.get((status.value, diagram), 0))
        yield by_status
        stuck = 0
        states = dict.fromkeys(DEADLINE_STATES, 0)
        cutoff = now - dt.timedelta(seconds=self.stuck_seconds)
        for flow in self.store.open_flows():
            if flow.updated_at < cutoff:
                stuck += 1
            deadline = flow.data.get("deadline")
            if isinstance(deadline, str):
                states[self.deadline_state(dt.date.fromisoformat(deadline), now)] += 1
        yield GaugeMetricFamily("egov_flows_stuck", "Open flows without progress for EGOV_FLOW_STUCK_SECONDS",
                                value=stuck)
        by_deadline = GaugeMetricFamily("egov_applications_by_deadline",
                                        "Registered, undecided applications against the review deadline",
                                        labels=["state"])
        for state, count in states.items():
            by_deadline.add_metric([state], count)
        yield by_deadline

    def deadline_state(self, deadline: dt.date, now: dt.datetime) -> str:
        """``past`` after the deadline day, ``near`` with few working days left, else ``on-time``."""
        if now.astimezone(zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)).date() > deadline:
            return "past"
        return "near" if working_days_between(now, deadline) <= self.near_working_days else "on-time"
