"""Refusals of the payment gateway simulator; the SOAP front turns each into a Fault."""

from __future__ import annotations

from typing import Any

from adapters.core.errors import BusinessError


class PaymentRefusal(BusinessError):
    """A request the payment gateway refuses, with the code of our table (``schemas/payment/pshep.xsd``).

    ``server`` faults (PSE909) are the gateway's own trouble and worth retrying; the others are
    the client's (``soap:Client``).
    """

    def __init__(self, error_code: str, message: str, *, server: bool = False, **context: Any) -> None:
        super().__init__(f"{error_code}: {message}", code=error_code, retryable=server, **context)
        self.error_code = error_code
        self.detail = message
        self.server = server


def not_found(key: str) -> PaymentRefusal:
    return PaymentRefusal("PSE004", f"payment order {key} not found", order=key)


def bad_state(order_id: str, status: str, action: str) -> PaymentRefusal:
    return PaymentRefusal("PSE006", f"cannot {action} order {order_id} in status {status}",
                          order=order_id, status=status)
