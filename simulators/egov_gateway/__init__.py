"""The e-Government gateway (ShEP) simulator: sync and async channels, routing by serviceId,
dedup by messageId, fault injection, request journal. Backends register explicitly."""

from __future__ import annotations

from simulators.egov_gateway.backend import BackendRequest, BackendResponse, EchoBackend, GatewayBackend
from simulators.egov_gateway.simulator import GatewaySimulator
from simulators.egov_gateway.state import SenderAccount

__all__ = [
    "BackendRequest",
    "BackendResponse",
    "EchoBackend",
    "GatewayBackend",
    "GatewaySimulator",
    "SenderAccount",
]
