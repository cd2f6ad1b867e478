"""Adapter of the e-government payment gateway (PShEP): licence fee orders and signed receipts.

Requests are built with lxml in ``messages.py``, answers read with lxml in ``answers.py`` after the
response pipeline's signature and schema checks (receipts: after their own signature and the
schema): the one way to build and the one way to read of every adapter, chosen and explained in
:mod:`adapters.egov_gateway`. The tests check them against zeep's reading of
``wsdl/payment/pshep.wsdl``.
"""

from adapters.payment_gateway.client import PaymentGatewayClient
from adapters.payment_gateway.errors import (
    ClientReferenceConflictError,
    PaymentNotFoundError,
    PaymentRequestError,
    PaymentStateError,
    SenderRefusedError,
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
    "SenderRefusedError",
    "licence_fee",
    "licence_fee_from_settings",
]
