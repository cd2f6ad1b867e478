"""Starting and resuming flows as tasks: what the service's flow routes call.

:meth:`FlowDispatch.start` records the new flow in the flow store first (at its diagram's first
step, the request as its data), then queues its first ``flow_step``. The flow exists once
``start`` returns, whatever the queue does: when the broker does not take the message
(:class:`~workers.errors.QueueUnavailable`), a worker's sweep queues the flow later.
:meth:`FlowDispatch.resume` makes an open flow due now, with its failures forgotten, and queues it;
an ended flow is returned as it is.
"""

from __future__ import annotations

import logging

from procedure.application import Application
from procedure.models import FlowRecord
from workers.errors import QueueUnavailable
from workers.queue import FLOW_STEP
from workers.runtime import WorkerRuntime

__all__ = ["Dispatched", "FlowDispatch"]

log = logging.getLogger("workers.dispatch")


class Dispatched:
    """A flow handed to the queue: its record, and whether the queue took the message now."""

    def __init__(self, flow: FlowRecord, queued: bool) -> None:
        self.flow = flow
        self.queued = queued


class FlowDispatch:
    """Starts and resumes flows over ``runtime``'s store and queue."""

    def __init__(self, runtime: WorkerRuntime) -> None:
        self.rt = runtime

    def start(self, application: Application, *, flow_id: str | None = None) -> Dispatched:
        """Record the flow, then queue it. A ``flow_id`` that exists is a
        :class:`~adapters.core.errors.ConflictError` (nothing is queued)."""
        flow = self.rt.steps.create(application, self.rt.store, flow_id=flow_id)
        return Dispatched(flow, self._queue(flow.flow_id))

    def resume(self, flow_id: str) -> Dispatched:
        """Queue an open flow now (its failures forgotten); an ended flow is returned untouched."""
        flow = self.rt.store.get_flow(flow_id)
        if flow.status.terminal:
            return Dispatched(flow, False)
        self.rt.claims.schedule(flow_id, at=self.rt.clock.now())
        return Dispatched(flow, self._queue(flow_id))

    def _queue(self, flow_id: str) -> bool:
        try:
            self.rt.queue.send(FLOW_STEP, flow_id)
        except QueueUnavailable as exc:
            log.warning("flow %s recorded, not queued (%s): a worker's sweep will queue it", flow_id, exc,
                        extra={"flow_id": flow_id})
            return False
        return True
