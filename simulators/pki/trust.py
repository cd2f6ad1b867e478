"""The test PKI as the other simulators' trust: verification chained to its root, system keys it issues."""

from __future__ import annotations

from adapters.core.clock import Clock
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlsig import VerificationService
from simulators.pki.testpki import TestPKI


def verification(pki: TestPKI, clock: Clock, *, revocation: bool = False) -> VerificationService:
    """Chain to the test PKI's root; with ``revocation``, OCSP then CRL at the PKI's responder."""
    checker = RevocationChecker(RevocationPolicy.OCSP_THEN_CRL, timeout=5.0, clock=clock) if revocation else None
    return VerificationService(CertificateValidator([pki.root_certificate], [pki.issuing_certificate],
                                                    clock=clock, revocation=checker))


def system_key(pki: TestPKI, iin: str, bin_: str, org: str) -> KeyMaterial:
    """A simulated system's signing key, issued by the test PKI to ``iin`` of organisation ``bin_``."""
    key: KeyMaterial = pki.issue(iin=iin, bin=bin_, org=org).key_material
    return key
