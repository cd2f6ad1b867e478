"""Certificate information in the habits of NCANode: who, which NCA attributes, which chain,
valid when, revoked or not.

Trust (chain to an anchor, validity of every certificate of the path) is judged by the service's
:class:`~adapters.core.trust.validator.CertificateValidator` without revocation, and revocation is
asked once, separately, through the clients' :class:`~adapters.core.trust.revocation.RevocationChecker`
(OCSP and/or CRL under ``EGOV_REVOCATION_POLICY``), so the report says both how the chain stands and
what the PKI says about revocation.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from pydantic import BaseModel, Field

from adapters.core.errors import RefusalReason, SignatureRefused, ValidationError
from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
from adapters.core.trust.subject import SignerInfo, describe_name, serial_hex, signer_info
from adapters.core.trust.validator import CertificateValidator

MAX_CHAIN = 8


class ChainLink(BaseModel):
    role: Literal["end-entity", "intermediate", "root"]
    subject: str
    issuer: str
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime


class Validity(BaseModel):
    not_before: dt.datetime
    not_after: dt.datetime
    valid_now: bool


class Revocation(BaseModel):
    status: Literal["good", "revoked", "unknown", "not-checked"]
    policy: str = Field(description="EGOV_REVOCATION_POLICY: ocsp, crl, ocsp-then-crl or none")
    detail: str | None = None


class Refusal(BaseModel):
    reason: str = Field(description="the rule that refused (RefusalReason: untrusted-chain, certificate-expired...)")
    message: str


class CertificateReport(BaseModel):
    """One certificate as the service sees it."""

    subject: str = Field(description="the subject as NCA certificates are read (CN=…,SURNAME=…,SERIALNUMBER=IIN…)")
    issuer: str
    serial: str = Field(description="serial number, lower-case hex")
    holder: SignerInfo = Field(description="the NCA attributes: IIN, BIN, names, roles, key usage")
    validity: Validity
    chain: list[ChainLink] = Field(description="the path to a trust anchor, end entity first (as far as it goes)")
    trusted: bool = Field(description="chains to a trust anchor and every certificate of the path is valid now")
    refusal: Refusal | None = Field(default=None, description="why it is not trusted")
    revocation: Revocation


def load_certificate(text: str) -> x509.Certificate:
    """A certificate given as PEM or as base64 DER; :class:`ValidationError` otherwise."""
    raw = text.strip()
    try:
        if raw.startswith("-----BEGIN"):
            return x509.load_pem_x509_certificate(raw.encode("ascii"))
        return x509.load_der_x509_certificate(base64.b64decode("".join(raw.split()), validate=True))
    except (ValueError, binascii.Error, UnicodeEncodeError) as exc:
        raise ValidationError("certificate", "not an X.509 certificate in PEM or base64 DER") from exc


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def chain_of(cert: x509.Certificate, anchors: Sequence[x509.Certificate],
             intermediates: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """The certificate, then each issuer found among the known CAs, up to a root (or as far as it goes)."""
    path = [cert]
    pool = [*intermediates, *anchors]
    current = cert
    while len(path) < MAX_CHAIN and current.issuer != current.subject:
        issuer = next((c for c in pool if c.subject == current.issuer and c not in path and _issued_by(current, c)),
                      None)
        if issuer is None:
            break
        path.append(issuer)
        current = issuer
    return path


def _link(cert: x509.Certificate, index: int, last: int, anchors: Sequence[x509.Certificate]) -> ChainLink:
    role: Literal["end-entity", "intermediate", "root"] = \
        "end-entity" if index == 0 else "root" if index == last and cert in anchors else "intermediate"
    return ChainLink(role=role, subject=describe_name(cert.subject), issuer=describe_name(cert.issuer),
                     serial=serial_hex(cert.serial_number), not_before=cert.not_valid_before_utc,
                     not_after=cert.not_valid_after_utc)


def _revocation(cert: x509.Certificate, path: list[x509.Certificate], checker: RevocationChecker) -> Revocation:
    policy = checker.policy.value
    if checker.policy is RevocationPolicy.NONE:
        return Revocation(status="not-checked", policy=policy, detail="the revocation policy is none")
    if len(path) < 2:
        return Revocation(status="unknown", policy=policy, detail="the issuer is not a known CA: nobody to ask")
    try:
        checker.check(cert, path[1])
    except SignatureRefused as exc:
        status: Literal["revoked", "unknown"] = "revoked" if exc.reason is RefusalReason.REVOKED else "unknown"
        return Revocation(status=status, policy=policy, detail=exc.detail)
    return Revocation(status="good", policy=policy)


def report(cert: x509.Certificate, *, chain_validator: CertificateValidator, revocation: RevocationChecker,
           now: dt.datetime) -> CertificateReport:
    """Everything the service can say about ``cert`` (never raises for an untrusted one)."""
    anchors, intermediates = chain_validator.trust_anchors, chain_validator.intermediates
    path = chain_of(cert, anchors, intermediates)
    refusal = None
    try:
        chain_validator.validate(cert, usage=None, at=now)
    except SignatureRefused as exc:
        refusal = Refusal(reason=exc.reason.value, message=exc.detail)
    return CertificateReport(
        subject=describe_name(cert.subject), issuer=describe_name(cert.issuer), serial=serial_hex(cert.serial_number),
        holder=signer_info(cert),
        validity=Validity(not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
                          valid_now=cert.not_valid_before_utc <= now <= cert.not_valid_after_utc),
        chain=[_link(c, i, len(path) - 1, anchors) for i, c in enumerate(path)],
        trusted=refusal is None, refusal=refusal, revocation=_revocation(cert, path, revocation))
