"""What a process running flows as tasks holds, built once from the settings.

:class:`WorkerRuntime` gathers the procedure's clients (shared with the service when it runs the
tasks in-process), the flow store (the source of truth of every flow), the claims table, the
status-notice inbox, the flow metrics and the steps of both diagrams over the procedure's ports
as a deployment has them: E-licensing, the payment gateway, Legal Entities and certificate checks
through the adapters; status notices through the inbox (:mod:`workers.notices`); the applicant's
bank out of reach (:mod:`workers.payment`); documents written by :mod:`workers.documents`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.settings import Settings
from procedure.clients import ProcedureClients
from procedure.deployment import clients_from_settings
from procedure.steps import ProcedureSteps
from procedure.store import FlowStore
from workers.claims import FlowClaims
from workers.documents import DeferredPdfArtefacts
from workers.metrics import FlowMetrics
from workers.notices import InboxNotices, NoticeInbox
from workers.payment import PaymentByApplicant
from workers.queue import TaskQueue

__all__ = ["WorkerRuntime"]


@dataclass
class WorkerRuntime:
    """Clients, store, claims, inbox, steps and metrics of one process. :meth:`close` when done."""

    settings: Settings
    clients: ProcedureClients
    store: FlowStore
    claims: FlowClaims
    inbox: NoticeInbox
    steps: ProcedureSteps
    metrics: FlowMetrics
    queue: TaskQueue
    clock: Clock = SYSTEM_CLOCK
    owns_clients: bool = False
    _closed: bool = field(default=False, init=False, repr=False)

    @classmethod
    def build(cls, settings: Settings, queue: TaskQueue, *, clients: ProcedureClients | None = None,
              clock: Clock = SYSTEM_CLOCK) -> WorkerRuntime:
        """Everything over ``clients`` (built here from the settings when not given, with
        ``EGOV_METRICS_PORT`` serving their metrics); tasks follow-ups go to ``queue``."""
        owns = clients is None
        if clients is None:
            clients = clients_from_settings(settings, clock=clock, metrics_port=settings.metrics_port)
        try:
            store = FlowStore.from_url(settings.database_url)
            metrics = FlowMetrics(clients.metrics)
            inbox = NoticeInbox(store.engine, clients.gateway, clients.notifications, clock=clock,
                                observe=metrics.observe_pump)
            ports = dataclasses.replace(
                clients.ports(bank=PaymentByApplicant(), artefacts=DeferredPdfArtefacts(settings.artefacts_dir, queue)),
                notices=InboxNotices(inbox))
            steps = ProcedureSteps.from_settings(ports, settings)
        except BaseException:
            if owns:
                clients.close()
            raise
        return cls(settings=settings, clients=clients, store=store, claims=FlowClaims(store.engine), inbox=inbox,
                   steps=steps, metrics=metrics, queue=queue, clock=clock, owns_clients=owns)

    def close(self) -> None:
        """Dispose of the store's connections (and the clients, when built here); safe twice."""
        if self._closed:
            return
        self._closed = True
        self.store.engine.dispose()
        if self.owns_clients:
            self.clients.close()
