"""Faults of the E-licensing simulator: our code table, one exception type carrying it.

Codes (``ELC``) are ours; no public table exists. ``data`` is the machine-readable subject of the
refusal (the signature refusal reason, the attachment's file name, the field), sent as
``ErrorInfo/errorData`` so that the adapter can raise a typed error naming it.
"""

from __future__ import annotations

from adapters.core.errors import EgovError, RefusalReason

MALFORMED = "ELC001"            # not well-formed, unsafe, or not matching the schema
UNKNOWN_OPERATION = "ELC002"
AUTH_DENIED = "ELC101"          # Condition 1: unknown applicant/employee or wrong password
SESSION_INVALID = "ELC102"      # no such session or expired
FORBIDDEN = "ELC103"            # authorised, but not for this application / licensor / operation
CHALLENGE_INVALID = "ELC104"    # proof of possession: the challenge is unknown, used or expired
NOT_PAID = "ELC201"             # Condition 2: no payment for the service
SIGNATURE_REFUSED = "ELC300"    # Condition 3, generic; specific codes below
SIG_CERT_VALIDITY = "ELC301"    # certificate expired or not yet valid
SIG_REVOKED = "ELC302"          # certificate in the list of revoked certificates
SIG_BIN_MISMATCH = "ELC303"     # BIN (or IIN) in the certificate differs from the one in the application
SIG_UNTRUSTED = "ELC304"        # chain not trusted
SIG_INVALID = "ELC305"          # the signature itself does not verify (digest, value, structure)
ATTACHMENT_MISSING = "ELC401"   # referenced file never uploaded
ATTACHMENT_DIGEST = "ELC402"    # SHA-256 or size of the upload differs from the signed reference
ATTACHMENTS_TOO_LARGE = "ELC403"  # total over 30 MB (31,457,280 bytes)
NOT_FOUND = "ELC501"
CONFLICT = "ELC502"             # wrong status for the operation, already decided, already answered
IDEMPOTENCY_CONFLICT = "ELC503"  # idempotency key reused with another document or decision
INVALID_DATA = "ELC601"         # unknown service, territory, sub-type, bad identifier...
INTERNAL = "ELC909"

_SIGNATURE_CODES: dict[RefusalReason, str] = {
    RefusalReason.CERT_EXPIRED: SIG_CERT_VALIDITY,
    RefusalReason.CERT_NOT_YET_VALID: SIG_CERT_VALIDITY,
    RefusalReason.REVOKED: SIG_REVOKED,
    RefusalReason.BIN_MISMATCH: SIG_BIN_MISMATCH,
    RefusalReason.IIN_MISMATCH: SIG_BIN_MISMATCH,
    RefusalReason.UNTRUSTED_CHAIN: SIG_UNTRUSTED,
    RefusalReason.MALFORMED: SIG_INVALID,
    RefusalReason.MISSING_SIGNATURE: SIG_INVALID,
    RefusalReason.DIGEST_MISMATCH: SIG_INVALID,
    RefusalReason.SIGNATURE_MISMATCH: SIG_INVALID,
    RefusalReason.REFERENCE_COVERAGE: SIG_INVALID,
    RefusalReason.WRAPPING: SIG_INVALID,
}


def signature_code(reason: RefusalReason) -> str:
    """Our fault code for a signature refusal reason (ELC300 for the reasons without their own)."""
    return _SIGNATURE_CODES.get(reason, SIGNATURE_REFUSED)


class ElicenseFault(EgovError):
    """A refusal the simulator answers as a SOAP Fault with ``ErrorInfo``."""

    def __init__(self, code: str, message: str, *, data: str | None = None, client: bool = True) -> None:
        super().__init__(message, code=code, data=data)
        self.data = data
        self.client = client
