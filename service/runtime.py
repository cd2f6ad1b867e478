"""What the running service holds, built once from the settings and closed once.

:class:`ServiceRuntime` builds every adapter through :class:`procedure.clients.ProcedureClients`
(one signing service with the organisation's key, one certificate validator, one
:class:`~adapters.core.resilience.ResilientCaller` with the retry policy, circuit breakers, exchange
journal and metrics), the callers registry, the E-licensing employee session and the service's
metrics, and the licensing flows' tasks (:class:`workers.FlowTasks`: sent to the broker, or run
on this process's threads without one). The endpoints, keys and trust anchors come from the landscape manifest when
``EGOV_LANDSCAPE_MANIFEST`` is set (simulators), otherwise from the ``EGOV_*`` settings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.metrics import Metrics
from adapters.core.settings import Settings
from adapters.core.trust.validator import CertificateValidator
from procedure.clients import ProcedureClients
from procedure.deployment import clients_from_settings
from service.callers import CallersRegistry
from service.employee import EmployeeSession
from service.metrics import ServiceMetrics, forget_process
from service.readiness import ReadinessChecks
from workers import FlowTasks
from workers.metrics import FlowStateCollector


@dataclass
class ServiceRuntime:
    """The service's long-lived objects. Build with :meth:`from_settings`; :meth:`close` when done."""

    settings: Settings
    clients: ProcedureClients
    callers: CallersRegistry
    employee: EmployeeSession
    http_metrics: ServiceMetrics
    chain_validator: CertificateValidator
    """The clients' trust anchors without revocation: chain and validity alone (certificate info)."""
    readiness: ReadinessChecks
    flows: FlowTasks
    """Licensing flows as tasks: sent to the broker, or run by this process's threads without one."""
    flow_state: FlowStateCollector
    """Flows by status, stuck flows and deadlines, read from the flow store at each scrape."""
    clock: Clock = SYSTEM_CLOCK
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    _closed: bool = field(default=False, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> ServiceRuntime:
        """Build everything; a bad setting raises a :class:`~adapters.core.errors.ConfigurationError`
        (or ``KeystoreError``) naming it, before anything listens."""
        callers = CallersRegistry(settings.service_callers_file)
        metrics = Metrics()
        clients = clients_from_settings(settings, clock=clock, metrics=metrics)
        try:
            employee = EmployeeSession(
                clients.elicense, settings.elicense_employee_login,
                settings.elicense_employee_password.get_secret_value()
                if settings.elicense_employee_password else None, clock=clock)
            chain = CertificateValidator(clients.validator.trust_anchors, clients.validator.intermediates, clock=clock)
            flows = FlowTasks(settings, clients, clock=clock)
        except BaseException:
            clients.close()
            raise
        try:
            flow_state = FlowStateCollector(flows.runtime.store, stuck_seconds=settings.flow_stuck_seconds,
                                            near_working_days=settings.deadline_near_working_days, clock=clock)
            metrics.registry.register(flow_state)
            readiness = ReadinessChecks(clients, timeout=settings.service_readiness_timeout_seconds,
                                        broker=flows.broker_reachable if settings.broker_url else None)
            return cls(settings=settings, clients=clients, callers=callers, employee=employee,
                       http_metrics=ServiceMetrics(metrics), chain_validator=chain, readiness=readiness,
                       flows=flows, flow_state=flow_state, clock=clock, started_at=clock.now())
        except BaseException:
            flows.close()
            clients.close()
            raise

    @property
    def store_is_local(self) -> bool:
        """The flow store is a SQLite database: read on the event loop (:func:`service.threadpool.read_store`)."""
        return self.flows.runtime.store.engine.dialect.name == "sqlite"

    @property
    def signing_enabled(self) -> bool:
        return self.settings.service_signing_enabled

    def close(self) -> None:
        """Close the clients (journal, HTTP pools) and the readiness probes; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.readiness.close()
        self.flows.close()
        self.clients.close()
        forget_process()

    def __enter__(self) -> ServiceRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
