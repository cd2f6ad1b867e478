"""Test PKI modelled on Kazakhstan's National Certification Authority.

Root and issuing CA in a directory, NCA-layout end-entity keys as PKCS#12, CRL and an RFC 6960
OCSP responder over HTTP.
"""

from __future__ import annotations

from simulators.pki.issuance import IssuedKey
from simulators.pki.store import CertificateRecord
from simulators.pki.testpki import DEFAULT_BASE_URL, TestPKI

__all__ = ["DEFAULT_BASE_URL", "CertificateRecord", "IssuedKey", "TestPKI"]
