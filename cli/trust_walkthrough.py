"""A walk through the trust layer with the test PKI: sign, verify, tamper, refuse.

Used by ``egov demo --only trust`` and as the first chapter of the full demo: it shows an
integration engineer every refusal the regulation's Condition 3 relies on, against a live CRL and
OCSP responder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from adapters.core.errors import EgovError, SignatureRefused
from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlsig import ReplayCache, SigningService, VerificationService
from simulators.pki import TestPKI

APPLICANT_IIN = "871008401427"
APPLICANT_BIN = "940140000385"
OTHER_BIN = "950341000052"

APPLICATION = """<Application xmlns="urn:egov-adapters:demo">
  <Service>Higher and postgraduate education</Service>
  <ApplicantBIN>{bin}</ApplicantBIN>
  <Applicant>«Болашақ» білім беру орталығы ЖШС</Applicant>
  <Fee currency="KZT">16180.00</Fee>
</Application>"""


@dataclass
class Step:
    title: str
    expected: str  # "accepted" or a RefusalReason value
    outcome: str
    detail: str

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.expected


def run_trust_walkthrough(workdir: Path, echo: Callable[[str], None] = print) -> list[Step]:
    """Run the walk-through in ``workdir``; returns every step with its outcome."""
    workdir.mkdir(parents=True, exist_ok=True)
    steps: list[Step] = []
    server = None
    try:
        pki_dir = workdir / "pki"
        pki = TestPKI.create(pki_dir)
        server = pki.serve(port=0)  # certificates issued from now on point at this responder
        good = pki.issue(iin=APPLICANT_IIN, bin=APPLICANT_BIN, org="«Болашақ» ЖШС", surname="ӘБІЛҚАЙЫР",
                         given_name="ҒАЛЫМҰЛЫ")
        expired = pki.issue(iin=APPLICANT_IIN, bin=APPLICANT_BIN, org="«Болашақ» ЖШС", expired=True)
        revoked = pki.issue(iin=APPLICANT_IIN, bin=APPLICANT_BIN, org="«Болашақ» ЖШС")
        pki.revoke(revoked.serial)

        def verifier(policy: RevocationPolicy) -> VerificationService:
            validator = CertificateValidator([pki.root_certificate], [pki.issuing_certificate],
                                             revocation=RevocationChecker(policy))
            return VerificationService(validator, replay_cache=ReplayCache())

        document = APPLICATION.format(bin=APPLICANT_BIN).encode()
        signed = SigningService(good.key_material).sign_document(document)
        (workdir / "application.signed.xml").write_bytes(signed)

        def attempt(title: str, expected: str, action: Callable[[], object]) -> None:
            try:
                result = action()
                signer = getattr(result, "signer", None)
                outcome, detail = "accepted", f"signer {signer.common_name} IIN {signer.iin}" if signer else ""
            except SignatureRefused as exc:
                outcome, detail = exc.reason.value, exc.detail
            except EgovError as exc:
                outcome, detail = type(exc).__name__, str(exc)
            step = Step(title, expected, outcome, detail)
            steps.append(step)
            mark = "ok " if step.as_expected else "!! "
            echo(f"  {mark}{title:<55} → {outcome}: {detail[:90]}")

        ocsp = verifier(RevocationPolicy.OCSP)
        crl = verifier(RevocationPolicy.CRL)
        attempt("signed application, expected BIN", "accepted",
                lambda: ocsp.verify_document(signed, expect_bin=APPLICANT_BIN))
        tampered = signed.replace(b"16180.00", b"1.00")
        attempt("fee changed after signing", "digest-mismatch", lambda: ocsp.verify_document(tampered))
        attempt("BIN in certificate is not the application's (C3)", "bin-mismatch",
                lambda: ocsp.verify_document(signed, expect_bin=OTHER_BIN))
        attempt("signed with an expired certificate (C3)", "certificate-expired",
                lambda: ocsp.verify_document(SigningService(expired.key_material).sign_document(document)))
        by_revoked = SigningService(revoked.key_material).sign_document(document)
        attempt("revoked certificate, asked over OCSP (C3)", "certificate-revoked",
                lambda: ocsp.verify_document(by_revoked))
        attempt("revoked certificate, found in the CRL (C3)", "certificate-revoked",
                lambda: crl.verify_document(by_revoked))
        envelope = etree.fromstring(
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            + document + b"</soap:Body></soap:Envelope>")
        signed_env = SigningService(good.key_material).sign_envelope(envelope)
        (workdir / "envelope.signed.xml").write_bytes(signed_env)
        attempt("WS-Security envelope", "accepted", lambda: ocsp.verify_envelope(signed_env))
        attempt("same envelope replayed", "replay", lambda: ocsp.verify_envelope(signed_env))
        attempt("envelope Body changed in transit", "digest-mismatch",
                lambda: verifier(RevocationPolicy.OCSP).verify_envelope(signed_env.replace(b"16180.00", b"1.00")))
        echo(f"  artefacts: {workdir} (ca.pem under pki/), {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    finally:
        if server is not None:
            server.stop()
    return steps
