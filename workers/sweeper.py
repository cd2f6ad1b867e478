"""The sweep: flows no task carries are queued again, and the status notices are pulled.

Messages can be lost (a broker restarted without persistence, a send that failed while the flow
was already moved) and workers can die holding a flow. Neither loses a flow: the flow store keeps
it, and every ``EGOV_WORKER_SWEEP_SECONDS`` each worker process asks the claims table for open
flows that no live lease covers and that made no progress for ``EGOV_WORKER_LEASE_SECONDS`` (or
whose retry is due), and queues a ``flow_step`` for each (:meth:`~workers.claims.FlowClaims.orphans`).
A flow swept by two workers at once gets two messages; the claim lets one run the step.

While flows are open, the sweep also queues ``pump_notices``, so status notices are consumed even
while no step waits for them.
"""

from __future__ import annotations

import logging
import random
import threading

from workers.errors import QueueUnavailable
from workers.queue import FLOW_STEP, PUMP_NOTICES
from workers.runtime import WorkerRuntime

__all__ = ["Sweeper"]

log = logging.getLogger("workers.sweeper")


class Sweeper:
    """Runs :meth:`sweep` every ``interval`` seconds (with a little jitter) on a thread."""

    def __init__(self, runtime: WorkerRuntime, *, interval: float | None = None, pump: bool = True) -> None:
        self.rt = runtime
        self.interval = interval if interval is not None else runtime.settings.worker_sweep_seconds
        self.pump = pump
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="egov-sweeper", daemon=True)

    def sweep(self) -> int:
        """Queue every orphaned or due flow once (and a pump); returns how many flows were queued."""
        rt = self.rt
        queued = 0
        try:
            orphans = rt.claims.orphans(now=rt.clock.now(), idle_seconds=rt.settings.worker_lease_seconds)
            for flow_id, reason in orphans:
                rt.queue.send(FLOW_STEP, flow_id)
                rt.metrics.requeued.labels(reason).inc()
                queued += 1
            if self.pump and rt.store.open_flows(limit=1):
                rt.queue.send(PUMP_NOTICES)
        except QueueUnavailable as exc:
            log.warning("sweep stopped: %s", exc)
        if queued:
            log.info("sweep queued %d flow(s) again", queued)
        return queued

    def _loop(self) -> None:
        while not self._stop.wait(self.interval * random.uniform(0.8, 1.2)):
            try:
                self.sweep()
            except Exception:  # the database blinked: the next sweep tries again
                log.exception("sweep failed")

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
