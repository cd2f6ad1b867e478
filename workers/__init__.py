"""Licensing flows run as tasks on a distributed task queue (``egov worker``), or in-process.

Flow steps, the pull of E-licensing's status notices from the gateway's async channel, and PDF
rendering are tasks (:mod:`workers.tasks`) carried by Dramatiq over Redis (:mod:`workers.broker`)
or, without a broker, by a thread pool inside ``egov serve`` (:mod:`workers.queue`). The flow
store stays the source of truth; delivery is at least once, and the idempotency keys the steps
pass keep every external effect exactly once. ``docs/service.md``, "Workers and the task queue".

Modules: ``queue`` (task names, the queue protocol, the thread queue), ``broker`` (Dramatiq/Redis),
``tasks`` (the handlers), ``claims`` (who holds a flow, retry schedule), ``sweeper`` (lost
messages, dead workers), ``dispatch`` (start/resume for the service), ``runtime`` (what a process
holds), ``notices`` (the status-notice inbox), ``documents`` (XML now, PDF as a task),
``payment`` (the applicant pays at their bank), ``metrics``, ``process`` (``egov worker``, and the
service's side), ``errors``.

Public names: :class:`BrokerWorker`, :class:`FlowTasks`, :class:`FlowDispatch`, :class:`WorkerRuntime`.
"""

from __future__ import annotations

from workers.dispatch import FlowDispatch
from workers.process import BrokerWorker, FlowTasks
from workers.runtime import WorkerRuntime

__all__ = ["BrokerWorker", "FlowDispatch", "FlowTasks", "WorkerRuntime"]
