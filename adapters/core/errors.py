"""The project's one error hierarchy.

Every error raised by an adapter, a simulator or the trust layer is an :class:`EgovError`.
Leaves carry context (the field, the reference, the certificate, the rule) so that a message
says *why*, and ``retryable`` tells the resilience policy whether another attempt may help.
Errors from libraries are translated at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations

import enum
from typing import Any


class EgovError(Exception):
    """Base of every error of the project.

    ``code`` is a stable machine-readable code (our status-code table in ``docs/codes.md``),
    ``retryable`` says whether repeating the same call (same messageId) may succeed.
    """

    code: str = "EGOV000"
    retryable: bool = False

    def __init__(self, message: str, *, code: str | None = None, retryable: bool | None = None,
                 **context: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable
        self.context: dict[str, Any] = context

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "code": self.code, "message": self.message,
                "retryable": self.retryable, **{k: str(v) for k, v in self.context.items()}}


# --------------------------------------------------------------------------- input validation

class ValidationError(EgovError):
    """Bad input: names the field and the reason."""

    code = "EGOV100"

    def __init__(self, field: str, reason: str, *, value: Any = None) -> None:
        shown = "" if value is None else f" (got {value!r})"
        super().__init__(f"{field}: {reason}{shown}", field=field, reason=reason)
        self.field = field
        self.reason = reason
        self.value = value


class IdentifierError(ValidationError):
    """An IIN or BIN that is not valid (length, digits, check digit, date, type)."""

    code = "EGOV101"


class ConfigurationError(EgovError):
    """A setting is missing or inconsistent."""

    code = "EGOV110"


# --------------------------------------------------------------------------- XML

class XmlError(EgovError):
    """Inbound XML that cannot be accepted."""

    code = "EGOV200"


class MalformedXmlError(XmlError):
    """Not well-formed XML."""

    code = "EGOV201"


class UnsafeXmlError(XmlError):
    """XML using a forbidden construct: DTD, entity, external reference, or over a size limit."""

    code = "EGOV202"


class SchemaValidationError(XmlError):
    """Well-formed XML that does not match its schema."""

    code = "EGOV203"


# --------------------------------------------------------------------------- signatures & certificates

class RefusalReason(enum.StrEnum):
    """Why a signature, a certificate or a signer was refused. One value per rule."""

    MALFORMED = "malformed"                      # no Signature, broken structure, unknown algorithm
    MISSING_SIGNATURE = "missing-signature"
    DIGEST_MISMATCH = "digest-mismatch"
    SIGNATURE_MISMATCH = "signature-mismatch"
    REFERENCE_COVERAGE = "reference-coverage"    # references do not cover the Body / the root
    WRAPPING = "signature-wrapping"              # duplicate Ids, second Body, moved Body
    TIMESTAMP_MISSING = "timestamp-missing"
    TIMESTAMP_EXPIRED = "timestamp-expired"
    TIMESTAMP_FUTURE = "timestamp-in-future"
    REPLAY = "replay"
    UNTRUSTED_CHAIN = "untrusted-chain"
    CERT_EXPIRED = "certificate-expired"
    CERT_NOT_YET_VALID = "certificate-not-yet-valid"
    REVOKED = "certificate-revoked"
    REVOCATION_UNKNOWN = "revocation-unknown"    # no OCSP answer and no usable CRL under the policy
    KEY_USAGE = "wrong-key-usage"
    ROLE = "wrong-role"
    BIN_MISMATCH = "bin-mismatch"
    IIN_MISMATCH = "iin-mismatch"
    ALGORITHM = "insecure-algorithm"


class SignatureRefused(EgovError):
    """A signed message or document was refused; ``reason`` says by which rule."""

    code = "EGOV300"

    def __init__(self, reason: RefusalReason, detail: str, **context: Any) -> None:
        super().__init__(f"signature refused ({reason.value}): {detail}", reason=reason.value, **context)
        self.reason = reason
        self.detail = detail


class KeystoreError(EgovError):
    """A PKCS#12 keystore that cannot be opened (wrong password, no key, no certificate)."""

    code = "EGOV310"


# --------------------------------------------------------------------------- exchanges with external systems

class ExchangeError(EgovError):
    """A call to an external system failed."""

    code = "EGOV400"


class TransportError(ExchangeError):
    """Network-level failure: connection refused or reset, timeout, empty or truncated answer.

    Retryable: the request may not have arrived, and the gateway deduplicates by messageId.
    """

    code = "EGOV401"
    retryable = True


class ExchangeTimeoutError(TransportError):
    """An attempt did not finish within its wall-clock deadline (``kind`` ``deadline``): however the
    server behaved (silent, or dripping its answer a byte at a time), the exchange was cut at the
    deadline. ``deadline_seconds`` says how long the attempt was allowed.

    Retryable, as a read timeout is: the answer may come in time on another attempt (the caller's
    own deadline bounds the whole call, retries included).
    """

    code = "EGOV410"


class ResponseTooLargeError(ExchangeError):
    """An answer larger than the limit of its call (``limit`` bytes): refused from its
    ``Content-Length`` before any of the body is read, or cut off once the bytes read pass the
    limit (a chunked or unannounced body). Nothing of it reaches the caller.

    Final: the same request would bring the same answer.
    """

    code = "EGOV409"


class HttpStatusError(ExchangeError):
    """The server answered with an HTTP error status and no SOAP Fault."""

    code = "EGOV402"

    def __init__(self, status: int, message: str, **context: Any) -> None:
        super().__init__(message, retryable=status in (408, 429, 500, 502, 503, 504),
                         status=status, **context)
        self.status = status


class SoapFaultError(ExchangeError):
    """The server answered with a SOAP Fault (gateway ``ErrorInfo``)."""

    code = "EGOV403"

    def __init__(self, error_code: str, message: str, *, retryable: bool = False, **context: Any) -> None:
        super().__init__(f"{error_code}: {message}", code=error_code, retryable=retryable, **context)
        self.error_code = error_code


class GatewayStatusError(ExchangeError):
    """The gateway answered with a non-success status code in ``responseInfo/status``."""

    def __init__(self, status_code: str, message: str, *, retryable: bool, **context: Any) -> None:
        super().__init__(f"{status_code}: {message}", code=status_code, retryable=retryable, **context)
        self.status_code = status_code


class InvalidResponseError(ExchangeError):
    """The answer arrived but cannot be used: malformed XML, schema mismatch, bad signature."""

    code = "EGOV404"
    retryable = True


class MismatchedAnswerError(InvalidResponseError):
    """A well-formed (and, where the service signs, verified) answer that belongs to another
    request: a replayed answer, or a server that mixed up its answers. ``field`` names the
    identifier that does not match (``messageId``, ``correlationId``, ``orderId``...); the message
    names the value that was expected, never the other request's.

    Retryable, as any unusable answer: the answer to this request may still come.
    """

    code = "EGOV411"

    def __init__(self, what: str, field: str, expected: str) -> None:
        super().__init__(f"{what} belongs to another request: its {field} is not {expected!r}", field=field)
        self.field = field


class CircuitOpenError(ExchangeError):
    """The circuit breaker for the target service is open; the call was not sent."""

    code = "EGOV405"
    retryable = False


class RetriesExhaustedError(ExchangeError):
    """Every allowed attempt failed with a retryable error; ``last`` is the last one."""

    code = "EGOV406"

    def __init__(self, attempts: int, last: EgovError, **context: Any) -> None:
        super().__init__(f"gave up after {attempts} attempt(s): {last}", attempts=attempts, **context)
        self.attempts = attempts
        self.last = last


class DeadlineExceededError(ExchangeError):
    """An async answer did not arrive before its deadline."""

    code = "EGOV407"


# --------------------------------------------------------------------------- business outcomes

class BusinessError(EgovError):
    """A business rule refused the request (not found, not paid, refused by the licensor...)."""

    code = "EGOV500"


class NotFoundError(BusinessError):
    """The requested record does not exist."""

    code = "EGOV501"


class ConflictError(BusinessError):
    """The request conflicts with the current state (duplicate reference, wrong status...)."""

    code = "EGOV502"
