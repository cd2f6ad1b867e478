"""Typed errors of the gateway adapter: each SOAP Fault and each status code, retryable or final
according to ``codes.py``."""

from __future__ import annotations

from adapters.contracts.gateway_codes import lookup
from adapters.core.errors import EgovError, GatewayStatusError, SoapFaultError
from adapters.core.http import HttpResult
from adapters.core.soap import SoapFault


class GatewayFaultError(SoapFaultError):
    """A gateway SOAP Fault with its ``ErrorInfo`` (errorCode, errorMessage, errorData)."""

    def __init__(self, error_code: str, message: str, *, error_data: str | None = None,
                 fault_code: str | None = None, http_status: int | None = None) -> None:
        super().__init__(error_code, message, retryable=lookup(error_code).retryable, error_data=error_data,
                         fault_code=fault_code, http_status=http_status)
        self.error_data = error_data


class StatusCodeError(GatewayStatusError):
    """A signed answer whose ``responseInfo/status/code`` is not SCSS001."""

    def __init__(self, status_code: str, message: str, *, message_id: str | None = None) -> None:
        super().__init__(status_code, message, retryable=lookup(status_code).retryable, message_id=message_id)


def map_fault(fault: SoapFault, result: HttpResult) -> EgovError:
    """ErrorInfo → :class:`GatewayFaultError`; a Fault without ErrorInfo → generic SOAP mapping."""
    detail = fault.detail
    if detail is not None and detail.find("errorCode") is not None:
        code = (detail.findtext("errorCode") or "").strip() or "SCE909"
        return GatewayFaultError(code, (detail.findtext("errorMessage") or fault.string).strip(),
                                 error_data=detail.findtext("errorData"), fault_code=fault.code,
                                 http_status=result.status)
    local = fault.code.rsplit(":", 1)[-1]
    return SoapFaultError(fault.code or "soap:Server", fault.string or "SOAP Fault",
                          retryable=local == "Server", http_status=result.status)
