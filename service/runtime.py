"""What the running service holds, built once from the settings and closed once.

:class:`ServiceRuntime` builds every adapter through :class:`procedure.clients.ProcedureClients`
(one signing service with the organisation's key, one certificate validator, one
:class:`~adapters.core.resilience.ResilientCaller` with the retry policy, circuit breakers, exchange
journal and metrics), the callers registry, the E-licensing employee session and the service's
metrics. The endpoints, keys and trust anchors come from the landscape manifest when
``EGOV_LANDSCAPE_MANIFEST`` is set (simulators), otherwise from the ``EGOV_*`` settings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.http import Timeouts
from adapters.core.metrics import Metrics
from adapters.core.resilience import RetryPolicy
from adapters.core.settings import Settings
from adapters.core.trust.validator import CertificateValidator
from procedure.clients import ClientOptions, Endpoints, ProcedureClients
from service.callers import CallersRegistry
from service.employee import EmployeeSession
from service.metrics import ServiceMetrics, forget_process
from service.readiness import ReadinessChecks


def endpoints_from(settings: Settings) -> Endpoints:
    """The manifest's endpoints when ``landscape_manifest`` is set, else the settings' own."""
    if settings.landscape_manifest is not None:
        return Endpoints.read(settings.landscape_manifest)
    return Endpoints.from_settings(settings)


def client_options(settings: Settings) -> ClientOptions:
    """Retry policy and call deadline, timeouts and attempt deadline, answer byte limits, OCSP cache,
    transport revocation and circuit breakers as the settings say."""
    return ClientOptions(retry=RetryPolicy.from_settings(settings), timeouts=Timeouts.from_settings(settings),
                         response_max_bytes=settings.response_max_bytes,
                         attachment_response_max_bytes=settings.attachment_response_max_bytes,
                         ocsp_cache_seconds=settings.ocsp_cache_seconds,
                         check_transport_revocation=settings.check_transport_revocation,
                         circuit_failure_threshold=settings.circuit_failure_threshold,
                         circuit_reset_seconds=settings.circuit_reset_seconds)


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
    clock: Clock = SYSTEM_CLOCK
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    _closed: bool = field(default=False, init=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> ServiceRuntime:
        """Build everything; a bad setting raises a :class:`~adapters.core.errors.ConfigurationError`
        (or ``KeystoreError``) naming it, before anything listens."""
        callers = CallersRegistry(settings.service_callers_file)
        metrics = Metrics()
        clients = ProcedureClients(endpoints_from(settings), database_url=settings.database_url, clock=clock,
                                   options=client_options(settings), metrics=metrics)
        try:
            employee = EmployeeSession(
                clients.elicense, settings.elicense_employee_login,
                settings.elicense_employee_password.get_secret_value()
                if settings.elicense_employee_password else None, clock=clock)
            chain = CertificateValidator(clients.validator.trust_anchors, clients.validator.intermediates, clock=clock)
            readiness = ReadinessChecks(clients, timeout=settings.service_readiness_timeout_seconds)
            return cls(settings=settings, clients=clients, callers=callers, employee=employee,
                       http_metrics=ServiceMetrics(metrics), chain_validator=chain, readiness=readiness,
                       clock=clock, started_at=clock.now())
        except BaseException:
            clients.close()
            raise

    @property
    def signing_enabled(self) -> bool:
        return self.settings.service_signing_enabled

    def close(self) -> None:
        """Close the clients (journal, HTTP pools) and the readiness probes; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.readiness.close()
        self.clients.close()
        forget_process()

    def __enter__(self) -> ServiceRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
