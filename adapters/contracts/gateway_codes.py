"""The gateway's status and error codes: one table, shared by the adapter and the simulator.

``SCSS001`` and the ``SCE`` codes seen in public code keep their public meaning; the others are
ours (no official complete table is public). ``docs/codes.md`` shows the same table; a test keeps
the two in step.

``channel`` says how a code travels: ``status`` in ``responseInfo/status`` of a signed answer,
``fault`` in the ``ErrorInfo`` of a SOAP Fault. ``retryable`` says whether repeating the call with
the *same messageId* may succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from adapters.core.errors import (
    BusinessError,
    ConflictError,
    EgovError,
    NotFoundError,
    RefusalReason,
    SignatureRefused,
    ValidationError,
)


@dataclass(frozen=True)
class GatewayCode:
    code: str
    meaning: str
    retryable: bool
    channel: Literal["status", "fault"]


SUCCESS = "SCSS001"

_TABLE: tuple[GatewayCode, ...] = (
    GatewayCode("SCSS001", "Message has been processed successfully", False, "status"),
    GatewayCode("SCE001", "Message does not match the format (schema or SOAP structure)", False, "fault"),
    GatewayCode("SCE002", "Unknown sender or wrong sender password", False, "fault"),
    GatewayCode("SCE003", "Sender is not allowed to call this service", False, "fault"),
    GatewayCode("SCE004", "Service does not exist", False, "fault"),
    GatewayCode("SCE005", "Transport signature out of date (Timestamp expired, in the future or missing)",
                False, "fault"),
    GatewayCode("SCE006", "Transport signature invalid (digest, signature, coverage, wrapping, certificate)",
                False, "fault"),
    GatewayCode("SCE007", "Transport signature missing", False, "fault"),
    GatewayCode("SCE008", "messageId already used for another sender or service", False, "fault"),
    GatewayCode("SCE009", "Service temporarily unavailable (backend down or in maintenance)", True, "status"),
    GatewayCode("SCE010", "Backend did not answer in time", True, "status"),
    GatewayCode("SCE011", "Message too large", False, "fault"),
    GatewayCode("SCE012", "Business data rejected by the service (invalid field)", False, "status"),
    GatewayCode("SCE013", "Requested record not found", False, "status"),
    GatewayCode("SCE014", "Request conflicts with the current state of the record", False, "status"),
    GatewayCode("SCE015", "Business-data signature out of date", False, "status"),
    GatewayCode("SCE016", "Business-data signature invalid", False, "status"),
    GatewayCode("SCE017", "Business-data signature missing", False, "status"),
    GatewayCode("SCE019", "Request refused by the service (business rule)", False, "status"),
    GatewayCode("SCE020", "Async message not found", False, "fault"),
    GatewayCode("SCE909", "Internal gateway error", True, "fault"),
)

CODES: dict[str, GatewayCode] = {c.code: c for c in _TABLE}


def lookup(code: str) -> GatewayCode:
    """The code's entry; an unknown code is treated as final (we do not retry what we do not know)."""
    return CODES.get(code) or GatewayCode(code, "Unknown gateway code", False, "status")


_TIMESTAMP = {RefusalReason.TIMESTAMP_EXPIRED, RefusalReason.TIMESTAMP_FUTURE, RefusalReason.TIMESTAMP_MISSING}


def transport_refusal_code(reason: RefusalReason) -> str:
    """SCE005 (stale or missing Timestamp), SCE007 (missing signature) or SCE006 (anything else)."""
    if reason in _TIMESTAMP:
        return "SCE005"
    if reason is RefusalReason.MISSING_SIGNATURE:
        return "SCE007"
    return "SCE006"


def data_refusal_code(reason: RefusalReason) -> str:
    """The same three for the signature of the business data: SCE015 / SCE017 / SCE016."""
    if reason in _TIMESTAMP or reason in (RefusalReason.CERT_EXPIRED, RefusalReason.CERT_NOT_YET_VALID):
        return "SCE015"
    if reason is RefusalReason.MISSING_SIGNATURE:
        return "SCE017"
    return "SCE016"


def code_for_backend_error(exc: EgovError) -> str:
    """Map an error raised by a backend to the status code the gateway answers with."""
    if isinstance(exc, SignatureRefused):
        return data_refusal_code(exc.reason)
    if isinstance(exc, NotFoundError):
        return "SCE013"
    if isinstance(exc, ConflictError):
        return "SCE014"
    if isinstance(exc, ValidationError):
        return "SCE012"
    if isinstance(exc, BusinessError):
        return "SCE019"
    if exc.code in CODES and exc.code != SUCCESS:
        return exc.code
    return "SCE009" if exc.retryable else "SCE909"
