"""Typed refusals of the payment gateway, mapped from its Fault codes (``schemas/payment/pshep.xsd``)."""

from __future__ import annotations

from typing import Any

from adapters.core.errors import ConflictError, EgovError, NotFoundError, SoapFaultError, ValidationError
from adapters.core.http import HttpResult
from adapters.core.soap import SoapFault


class PaymentNotFoundError(NotFoundError):
    """PSE004: no order of ours with this orderId / clientReference (another sender's order is not ours)."""


class SenderRefusedError(SoapFaultError):
    """PSE008: the gateway does not accept us as its registered sender (unknown sender id, wrong
    password, or a signing certificate without the sender's BIN): our configuration, not retryable."""


class ClientReferenceConflictError(ConflictError):
    """PSE005: the clientReference is already used by an order with different data."""


class PaymentStateError(ConflictError):
    """PSE006 / PSE007: not allowed in the order's status (cancel a paid order, receipt of an unpaid one)."""


class PaymentRequestError(ValidationError):
    """PSE002 / PSE003: the gateway refused the payer number or the payment details."""


_TYPE_TEXT = "{http://schemas.egov-adapters.kz/pshep/v1/Types}"
_RETRYABLE = frozenset({"PSE909", "PSE015"})


def map_fault(fault: SoapFault, result: HttpResult) -> EgovError:
    """The pipeline's fault mapper: PaymentFault detail → typed error."""
    code = message = None
    if fault.detail is not None:
        code = (fault.detail.findtext(f"{_TYPE_TEXT}errorCode") or "").strip() or None
        message = (fault.detail.findtext(f"{_TYPE_TEXT}errorMessage") or "").strip() or None
    code = code or fault.code or "soap:Server"
    message = message or fault.string or "payment gateway fault"
    ctx: dict[str, Any] = {"error_code": code, "http_status": result.status}
    if code == "PSE004":
        return PaymentNotFoundError(f"{code}: {message}", code=code, **ctx)
    if code == "PSE008":
        return SenderRefusedError(code, message, http_status=result.status)
    if code == "PSE005":
        return ClientReferenceConflictError(f"{code}: {message}", code=code, **ctx)
    if code in ("PSE006", "PSE007"):
        return PaymentStateError(f"{code}: {message}", code=code, **ctx)
    if code in ("PSE002", "PSE003"):
        err = PaymentRequestError("payer.iin_bin" if code == "PSE002" else "order", message)
        err.code = code
        return err
    local = code.rsplit(":", 1)[-1]
    return SoapFaultError(code, message, retryable=code in _RETRYABLE or local == "Server",
                          http_status=result.status)
