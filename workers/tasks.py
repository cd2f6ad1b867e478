"""The task handlers: a flow's step, a PDF, a pump of the status notices. Each is safe to repeat.

``flow_step(flow_id)`` runs the flow's current step and queues the next, under the flow's claim
(:mod:`workers.claims`):

1. claim the flow (a message for a flow another task holds is dropped: that task queues the
   next step itself); the claim is renewed while the step runs;
2. run the current step through the procedure's runner: its start is committed before its
   implementation runs, its end and the flow's move in one transaction, and every external
   change carries the step's idempotency key ``<flow id>/<step id>`` (the payment's client
   reference, E-licensing's registration and decision keys);
3. release the claim, then queue ``flow_step`` again while the flow runs.

Delivery is at least once: the same message may run twice, or a step may be run again after its
worker died mid-way. Running it again is what the crash contract allows: the step starts one
more attempt under the same key, the external system answers the first effect, the store
records one end. A message for an ended flow does nothing.

A step that fails with an error worth waiting for (a timeout, used-up retries, an open circuit,
a payment not made yet, any ``retryable`` error) leaves the flow ``failed`` at that step and due
again after ``EGOV_WORKER_RETRY_SECONDS`` (doubled at each failure in a row, at most 32 times);
after ``EGOV_WORKER_MAX_RETRIES`` failures, or at once for an error that waiting will not mend
(a refused signature, bad input), the flow stays ``failed`` for an operator to resume.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError

from adapters.core.errors import (
    CircuitOpenError,
    ConflictError,
    DeadlineExceededError,
    EgovError,
    NotFoundError,
    RetriesExhaustedError,
)
from procedure.machine import StepRun
from procedure.models import FlowStatus
from workers.claims import Heartbeat
from workers.documents import render_pdf
from workers.errors import QueueUnavailable
from workers.queue import FLOW_STEP, PUMP_NOTICES, RENDER_PDF
from workers.runtime import WorkerRuntime

__all__ = ["Tasks", "worth_waiting_for"]

log = logging.getLogger("workers.tasks")

MAX_BACKOFF_FACTOR = 32


def worth_waiting_for(exc: BaseException) -> bool:
    """Whether the same step may succeed if run again later."""
    if isinstance(exc, (DeadlineExceededError, RetriesExhaustedError, CircuitOpenError, DBAPIError)):
        return True
    return isinstance(exc, EgovError) and exc.retryable


@dataclass(frozen=True)
class _Ran:
    outcome: str
    """done, skipped, retry, failed"""
    run: StepRun | None = None
    retry_in: float | None = None


class Tasks:
    """The handlers over one :class:`WorkerRuntime`; :meth:`handlers` maps task names to them."""

    def __init__(self, runtime: WorkerRuntime) -> None:
        self.rt = runtime
        self._host = socket.gethostname()

    def handlers(self) -> dict[str, Callable[..., None]]:
        return {FLOW_STEP: self.flow_step, RENDER_PDF: self.render_pdf, PUMP_NOTICES: self.pump_notices}

    # ------------------------------------------------------------------ flow_step

    def flow_step(self, flow_id: str) -> None:
        started = time.monotonic()
        ran = _Ran("error")
        try:
            ran = self._flow_step(flow_id)
        finally:
            self.rt.metrics.observe_task(FLOW_STEP, ran.outcome, time.monotonic() - started)
        if ran.run is not None:
            self._count_step(ran.run)
            if ran.run.flow.status is FlowStatus.RUNNING:
                self._send(FLOW_STEP, flow_id)
        if ran.retry_in is not None:
            self._send(FLOW_STEP, flow_id, delay=ran.retry_in)

    def _flow_step(self, flow_id: str) -> _Ran:
        rt = self.rt
        lease = rt.settings.worker_lease_seconds
        owner = f"{self._host}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        if not rt.claims.claim(flow_id, owner, now=rt.clock.now(), lease_seconds=lease):
            return _Ran("skipped")
        failures, retry_at, ran = 0, None, _Ran("failed")
        try:
            with Heartbeat(rt.claims, flow_id, owner, lease_seconds=lease, clock=rt.clock):
                ran = self._run_step(flow_id)
            if ran.outcome in ("retry", "failed"):
                state = rt.claims.state(flow_id)
                failures = (state.failures if state is not None else 0) + 1
                if ran.outcome == "retry" and failures > rt.settings.worker_max_retries:
                    log.error("flow %s: %d failures in a row, left failed for an operator", flow_id, failures,
                              extra={"flow_id": flow_id})
                    ran = _Ran("failed")
                if ran.outcome == "retry":
                    delay = rt.settings.worker_retry_seconds * min(2 ** (failures - 1), MAX_BACKOFF_FACTOR)
                    ran = _Ran("retry", retry_in=delay)
                    retry_at = rt.clock.now() + dt.timedelta(seconds=delay)
        finally:
            rt.claims.release(flow_id, owner, failures=failures, retry_at=retry_at)
        return ran

    def _run_step(self, flow_id: str) -> _Ran:
        try:
            run = self.rt.steps.run_step(flow_id, self.rt.store)
        except (ConflictError, NotFoundError) as exc:  # another runner moved it; or no such flow
            log.info("flow %s: step not run: %s", flow_id, exc, extra={"flow_id": flow_id})
            return _Ran("skipped")
        except Exception as exc:
            waiting = worth_waiting_for(exc)
            log.log(logging.WARNING if waiting else logging.ERROR, "flow %s: step failed%s: %s: %s", flow_id,
                    ", will try again" if waiting else "", type(exc).__name__, exc, extra={"flow_id": flow_id},
                    exc_info=not isinstance(exc, EgovError))
            return _Ran("retry" if waiting else "failed")
        return _Ran("done" if run is not None else "skipped", run=run)

    def _count_step(self, run: StepRun) -> None:
        self.rt.metrics.observe_step(run.flow.diagram, run.step, run.outcome, run.verdict, run.duration_seconds)

    # ------------------------------------------------------------------ the others

    def render_pdf(self, kind: str, view: dict[str, Any], path: str) -> None:
        started = time.monotonic()
        outcome = "error"
        try:
            render_pdf(kind, view, path)
            outcome = "done"
        finally:
            self.rt.metrics.observe_task(RENDER_PDF, outcome, time.monotonic() - started)

    def pump_notices(self) -> None:
        started = time.monotonic()
        outcome = "done"
        try:
            self.rt.inbox.pump()
        except EgovError as exc:  # the next sweep pumps again
            outcome = "failed"
            log.warning("status notices not pumped: %s", exc)
        finally:
            self.rt.metrics.observe_task(PUMP_NOTICES, outcome, time.monotonic() - started)

    def _send(self, task: str, *args: Any, delay: float = 0.0) -> None:
        try:
            self.rt.queue.send(task, *args, delay=delay)
        except QueueUnavailable as exc:
            log.warning("%s (a sweep will queue it again)", exc)

