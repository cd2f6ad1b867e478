"""The procedure's clients as a deployment's settings describe them.

One place for what ``egov serve`` and ``egov worker`` both build from the ``EGOV_*`` settings: the
endpoints (a simulator landscape's manifest when ``EGOV_LANDSCAPE_MANIFEST`` is set, otherwise the
settings' own endpoints, keys and trust anchors) and how patient the clients are (retry policy,
timeouts, OCSP cache, circuit breakers).
"""

from __future__ import annotations

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.http import Timeouts
from adapters.core.metrics import Metrics
from adapters.core.resilience import RetryPolicy
from adapters.core.settings import Settings
from adapters.core.xmlsig import SignatureConfig
from procedure.clients import ClientOptions, Endpoints, ProcedureClients

__all__ = ["client_options", "clients_from_settings", "endpoints_from"]


def endpoints_from(settings: Settings) -> Endpoints:
    """The manifest's endpoints when ``landscape_manifest`` is set, else the settings' own."""
    if settings.landscape_manifest is not None:
        return Endpoints.read(settings.landscape_manifest)
    return Endpoints.from_settings(settings)


def client_options(settings: Settings) -> ClientOptions:
    """Retry policy and call deadline, timeouts and attempt deadline, answer byte limits, OCSP cache,
    transport revocation, circuit breakers, Timestamp lifetime and tolerated skew, and the OCSP/CRL
    overrides as the settings say."""
    return ClientOptions(retry=RetryPolicy.from_settings(settings), timeouts=Timeouts.from_settings(settings),
                         response_max_bytes=settings.response_max_bytes,
                         attachment_response_max_bytes=settings.attachment_response_max_bytes,
                         ocsp_cache_seconds=settings.ocsp_cache_seconds,
                         check_transport_revocation=settings.check_transport_revocation,
                         circuit_failure_threshold=settings.circuit_failure_threshold,
                         circuit_reset_seconds=settings.circuit_reset_seconds,
                         signature=SignatureConfig(timestamp_ttl=float(settings.timestamp_ttl_seconds),
                                                   clock_skew=float(settings.clock_skew_seconds)),
                         ocsp_url=settings.ocsp_url, crl_url=settings.crl_url,
                         crl_path=str(settings.crl_path) if settings.crl_path is not None else None)


def clients_from_settings(settings: Settings, *, clock: Clock = SYSTEM_CLOCK, metrics: Metrics | None = None,
                          metrics_port: int | None = None) -> ProcedureClients:
    """Every adapter, built once, journalling to the settings' database."""
    return ProcedureClients(endpoints_from(settings), database_url=settings.database_url, clock=clock,
                            options=client_options(settings), metrics=metrics, metrics_port=metrics_port)
