"""Simulator of the e-government payment gateway (PShEP); contract: ``wsdl/payment/pshep.wsdl`` (our design)."""

from simulators.payment_gateway.errors import PaymentRefusal
from simulators.payment_gateway.senders import SenderAccount
from simulators.payment_gateway.simulator import SERVICE, PaymentGatewaySimulator
from simulators.payment_gateway.state import DEFAULT_BANK, Bank, OrderDetails, PaymentStore, StoredOrder

__all__ = [
    "DEFAULT_BANK",
    "SERVICE",
    "Bank",
    "OrderDetails",
    "PaymentGatewaySimulator",
    "PaymentRefusal",
    "PaymentStore",
    "SenderAccount",
    "StoredOrder",
]
