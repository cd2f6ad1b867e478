"""Adapter of the e-government payment gateway (PShEP): licence fee orders and signed receipts."""

from adapters.payment_gateway.client import PaymentGatewayClient
from adapters.payment_gateway.errors import (
    ClientReferenceConflictError,
    PaymentNotFoundError,
    PaymentRequestError,
    PaymentStateError,
)
from adapters.payment_gateway.fee import LICENCE_FEE_KBK, STATE_FEE_KNP, licence_fee, licence_fee_from_settings
from adapters.payment_gateway.models import (
    Bank,
    CreateOutcome,
    Payer,
    PaymentOrder,
    PaymentOrderRequest,
    PaymentStatus,
    Receipt,
)

__all__ = [
    "LICENCE_FEE_KBK",
    "STATE_FEE_KNP",
    "Bank",
    "ClientReferenceConflictError",
    "CreateOutcome",
    "Payer",
    "PaymentGatewayClient",
    "PaymentNotFoundError",
    "PaymentOrder",
    "PaymentOrderRequest",
    "PaymentRequestError",
    "PaymentStateError",
    "PaymentStatus",
    "Receipt",
    "licence_fee",
    "licence_fee_from_settings",
]
