"""Adapter of the e-Government gateway (ShEP): sync and async channels, signed both ways."""

from __future__ import annotations

from adapters.contracts.gateway_codes import CODES, SUCCESS, GatewayCode, lookup
from adapters.egov_gateway.client import GatewayClient
from adapters.egov_gateway.errors import GatewayFaultError, StatusCodeError
from adapters.egov_gateway.models import AsyncMessage, GatewayStatus, MessageStatus, SendReceipt, SyncResponse

__all__ = [
    "CODES",
    "SUCCESS",
    "AsyncMessage",
    "GatewayClient",
    "GatewayCode",
    "GatewayFaultError",
    "GatewayStatus",
    "MessageStatus",
    "SendReceipt",
    "StatusCodeError",
    "SyncResponse",
    "lookup",
]
