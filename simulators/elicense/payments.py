"""Condition 2's source of truth: the payment gateway's word on a receipt, through a small port.

E-licensing does not take the applicant's word for the fee (``Payment/AmountPaid`` in the signed
application): the application names the payment gateway's receipt (``Payment/ReceiptId``, the
order id) and E-licensing asks the gateway what it holds under it (``conditions.check_payment``
judges the answer: paid, amount, payer; the backend records each receipt once).

:class:`PaymentConfirmation` is the port; :class:`GatewayLedger` implements it in-process on the
payment gateway simulator's order book, wired by the factory to the payment gateway of the same
landscape. In-process, not over the gateway's SOAP endpoint: that endpoint is the API of the
orders' creators (a sender sees only its own orders, and E-licensing creates none), while in the
regulation the payment "reaches E-licensing" from the gateway (Diagram 1, step 4); reading the
gateway's ledger is that delivery, with no extra operation invented for it. Without a payment
gateway (:data:`NO_PAYMENT_GATEWAY`) no payment is confirmed: Condition 2 fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class ConfirmedPayment:
    """What the payment gateway holds under a receipt id."""

    receipt_id: str
    status: str
    """CREATED, PAID, REJECTED, CANCELLED or REFUNDED: only PAID is a payment."""
    amount: Decimal
    payer_iin_bin: str
    document_number: str | None


class PaymentConfirmation(Protocol):
    """The payment gateway, as E-licensing asks it about a receipt."""

    def confirm(self, receipt_id: str) -> ConfirmedPayment | None:
        """What the gateway holds under ``receipt_id``; None when it holds nothing."""
        ...


class _Order(Protocol):
    """An order of the payment gateway's book (``simulators.payment_gateway.StoredOrder``)."""

    @property
    def order_id(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def amount(self) -> Decimal: ...

    @property
    def payer_iin_bin(self) -> str: ...

    @property
    def document_number(self) -> str | None: ...


class OrderBook(Protocol):
    """The payment gateway's orders by id (``simulators.payment_gateway.PaymentStore``)."""

    def find_order(self, order_id: str) -> _Order | None: ...


class GatewayLedger:
    """:class:`PaymentConfirmation` read in-process from the payment gateway simulator's order book."""

    def __init__(self, book: OrderBook) -> None:
        self._book = book

    def confirm(self, receipt_id: str) -> ConfirmedPayment | None:
        order = self._book.find_order(receipt_id)
        if order is None:
            return None
        return ConfirmedPayment(receipt_id=order.order_id, status=order.status, amount=order.amount,
                                payer_iin_bin=order.payer_iin_bin, document_number=order.document_number)


class _NoGateway:
    def confirm(self, receipt_id: str) -> ConfirmedPayment | None:
        return None


NO_PAYMENT_GATEWAY: PaymentConfirmation = _NoGateway()
"""No payment gateway attached: no receipt is confirmed (every portal application fails Condition 2)."""
