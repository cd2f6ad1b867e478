"""The issuing CA's certificate revocation list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from simulators.pki.authority import Authority
from simulators.pki.store import CertificateRecord

CRL_VALIDITY = dt.timedelta(hours=12)


def build_crl(issuer: Authority, revoked: Iterable[CertificateRecord], *, now: dt.datetime,
              number: int, validity: dt.timedelta = CRL_VALIDITY) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now)
        .next_update(now + validity)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                       critical=False)
    )
    for record in revoked:
        assert record.revoked_at is not None
        entry = (x509.RevokedCertificateBuilder()
                 .serial_number(int(record.serial, 16))
                 .revocation_date(record.revoked_at))
        if record.reason is not None and record.reason is not x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(record.reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer.key, hashes.SHA256())
