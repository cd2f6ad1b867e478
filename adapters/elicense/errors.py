"""Typed errors of the E-licensing adapter, and the mapping of the simulator's/system's fault codes.

Every fault carries ``ErrorInfo {errorCode, errorMessage, errorData}``; ``errorData`` names the
subject (the signature refusal reason, the attachment's file name, the field). The mapping:

| codes | error |
|---|---|
| ELC101-ELC104 | :class:`AuthorisationDenied` (Condition 1; ``session_expired``: 102, ``challenge_refused``: 104) |
| ELC201 | :class:`PaymentMissing` (Condition 2) |
| ELC300-ELC305 | :class:`~adapters.core.errors.SignatureRefused` with the reason (Condition 3) |
| ELC401 | :class:`AttachmentMissing` |
| ELC402 | :class:`AttachmentDigestMismatch` |
| ELC403 | :class:`AttachmentsTooLarge` |
| ELC501 | :class:`~adapters.core.errors.NotFoundError` |
| ELC502 ELC503 | :class:`~adapters.core.errors.ConflictError` |
| ELC001 ELC002 ELC601 | :class:`ElicenseValidationError` |
| anything else | :class:`~adapters.core.errors.SoapFaultError` (``soap:Server`` faults retryable) |
"""

from __future__ import annotations

from adapters.contracts.elicense import EL_NS
from adapters.core.errors import (
    BusinessError,
    ConflictError,
    EgovError,
    NotFoundError,
    RefusalReason,
    SignatureRefused,
    SoapFaultError,
    ValidationError,
)
from adapters.core.http import HttpResult
from adapters.core.soap import SoapFault


class AuthorisationDenied(BusinessError):
    """Condition 1 refused (unknown account, wrong password), the session expired, or no right to act."""

    code = "ELC101"


class PaymentMissing(BusinessError):
    """Condition 2: the service has not been paid (or not enough)."""

    code = "ELC201"


class AttachmentError(ValidationError):
    """An attachment was refused; ``field`` is the file name."""

    code = "ELC400"


class AttachmentMissing(AttachmentError):
    code = "ELC401"


class AttachmentDigestMismatch(AttachmentError):
    code = "ELC402"


class AttachmentsTooLarge(AttachmentError):
    code = "ELC403"


class ElicenseValidationError(ValidationError):
    """The request was refused as malformed or naming unknown data; ``field`` says which."""

    code = "ELC601"


def _error_info(fault: SoapFault) -> tuple[str, str, str | None]:
    detail = fault.detail
    if detail is None or detail.tag != f"{{{EL_NS}}}ErrorInfo":
        return "", fault.string, None

    def text(name: str) -> str | None:
        node = detail.find(f"{{{EL_NS}}}{name}")
        return None if node is None or node.text is None else node.text.strip()

    return text("errorCode") or "", text("errorMessage") or fault.string, text("errorData")


def map_fault(fault: SoapFault, result: HttpResult) -> EgovError:
    """An E-licensing SOAP Fault as a typed error (see the module's table)."""
    code, message, data = _error_info(fault)
    err: EgovError
    if code in ("ELC101", "ELC102", "ELC103", "ELC104"):
        err = AuthorisationDenied(message, code=code, session_expired=code == "ELC102",
                                  challenge_refused=code == "ELC104", data=data)
    elif code == "ELC201":
        err = PaymentMissing(message, field=data)
    elif code.startswith("ELC30"):
        try:
            reason = RefusalReason(data or "")
        except ValueError:
            reason = RefusalReason.MALFORMED
        err = SignatureRefused(reason, message, code=code)
    elif code in ("ELC401", "ELC402", "ELC403"):
        cls = {"ELC401": AttachmentMissing, "ELC402": AttachmentDigestMismatch, "ELC403": AttachmentsTooLarge}[code]
        err = cls(data or "attachment", message)
    elif code == "ELC501":
        err = NotFoundError(message, code=code, subject=data)
    elif code in ("ELC502", "ELC503"):
        err = ConflictError(message, code=code, subject=data)
    elif code in ("ELC001", "ELC002", "ELC601"):
        err = ElicenseValidationError(data or "request", message)
        err.code = code
    else:
        server = fault.code.rsplit(":", 1)[-1] == "Server"
        err = SoapFaultError(code or fault.code or "soap:Server", message, retryable=server,
                             http_status=result.status)
    return err
