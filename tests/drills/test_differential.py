"""Differential drill: our fixed-profile signer/verifier against python-xmlsec (libxmlsec1).

Thousands of generated documents and SOAP envelopes (tests/drills/generators.py) are signed by
one implementation and verified by both, untouched and tampered (tests/drills/tamper.py). Both
verifiers must give the verdict the change calls for, on every case. Our verifier runs with a
real ``CertificateValidator`` (the test PKI's root and issuing CA, revocation not checked: the
point here is canonicalization and cryptography, and revocation has its own tests); xmlsec is
given the signer's certificate as the key. 500 inputs per test by default; ``EGOV_DRILL_SCALE``
multiplies that (docs/drills.md).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import pytest

from adapters.core import xmlsig
from adapters.core.clock import FrozenClock
from adapters.core.errors import EgovError
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlsig import SignatureConfig, SigningService, VerificationService
from adapters.core.xmlsig import algorithms as alg
from simulators.pki import IssuedKey, TestPKI
from tests.drills import scaled
from tests.drills.generators import random_document, random_envelope
from tests.drills.tamper import Kind, Tampered, tampered_variants
from tests.drills.xmlsec_ref import XmlsecProfile, XmlsecReference

# A drill is bounded by its case count (EGOV_DRILL_SCALE), not by time: thousands of cases on a
# loaded shared machine outlast the 120 s that catches a hung ordinary test.
pytestmark = pytest.mark.timeout(600)

BIN = "940140000385"
IIN = "871008401427"
PER_TEST = 500
TAMPERS_PER_INPUT = 4
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
"""Fixed for the whole module: the test PKI's certificates are issued at the real time."""


@dataclass
class Tally:
    """Verdicts seen, and every case where a verifier disagreed with the expected verdict."""

    verdicts: Counter[tuple[str, bool]] = field(default_factory=Counter)
    disagreements: list[str] = field(default_factory=list)

    def check(self, case: str, data: bytes, kind: Kind, expected: bool, ours: Callable[[bytes], Literal[True] | str],
              reference: XmlsecReference) -> None:
        mine = ours(data)
        theirs = reference.verify(data, kind)
        self.verdicts[(case.split("#")[0], expected)] += 1
        mine_ok = (mine is True) if expected else (isinstance(mine, str) and mine.startswith("refused"))
        if not mine_ok or theirs is not expected:
            self.disagreements.append(f"{case}: expected {'accept' if expected else 'refuse'}, ours={mine!r}, "
                                      f"xmlsec={theirs!r}\n{data[:2000]!r}")

    def assert_clean(self, inputs: int) -> None:
        assert not self.disagreements, (f"{len(self.disagreements)} disagreement(s) over {inputs} inputs; "
                                        "first:\n" + "\n\n".join(self.disagreements[:3]))
        # the drill exercised both verdicts, untouched inputs and refusals alike
        assert sum(n for (_, ok), n in self.verdicts.items() if ok) >= inputs
        assert sum(n for (_, ok), n in self.verdicts.items() if not ok) >= inputs


@pytest.fixture(scope="module")
def key(pki: TestPKI) -> IssuedKey:
    return pki.issue(iin=IIN, bin=BIN)


@pytest.fixture(scope="module")
def clock(key: IssuedKey) -> FrozenClock:
    _settle_now(key)
    return FrozenClock(NOW)

def _settle_now(key: IssuedKey) -> None:
    """Pin the drill's clock at or after the key's start of validity: in a long run the session's
    PKI issues the key minutes after this module was imported."""
    global NOW
    NOW = max(NOW, key.certificate.not_valid_before_utc.replace(microsecond=0) + dt.timedelta(seconds=1))



@pytest.fixture(scope="module")
def verifier(pki: TestPKI, clock: FrozenClock) -> VerificationService:
    validator = CertificateValidator([pki.root_certificate], [pki.issuing_certificate], revocation=None,
                                     clock=clock)
    return VerificationService(validator, clock=clock)


@pytest.fixture(scope="module")
def reference(key: IssuedKey) -> XmlsecReference:
    return XmlsecReference.from_key(key.private_key, key.certificate)


def _ours(verifier: VerificationService, kind: Kind) -> Callable[[bytes], Literal[True] | str]:
    """Our verdict: True, or ``refused ...`` for a typed refusal, or ``LEAK ...`` for any other exception (a bug)."""
    def verdict(data: bytes) -> Literal[True] | str:
        try:
            if kind == "document":
                verifier.verify_document(data, expect_bin=BIN, expect_iin=IIN)
            else:
                verifier.verify_envelope(data, expect_bin=BIN, expect_iin=IIN)
        except EgovError as exc:
            return f"refused {type(exc).__name__}: {exc}"
        except Exception as exc:
            return f"LEAK {exc!r}"
        return True
    return verdict


def _check_all(tally: Tally, label: str, signed: bytes, kind: Kind, rng: random.Random,
               ours: Callable[[bytes], Literal[True] | str], reference: XmlsecReference) -> None:
    tally.check(f"{label}#untouched", signed, kind, True, ours, reference)
    for tampered in tampered_variants(signed, kind, rng, TAMPERS_PER_INPUT):
        _check_tampered(tally, label, tampered, kind, ours, reference)


def _check_tampered(tally: Tally, label: str, tampered: Tampered, kind: Kind,
                    ours: Callable[[bytes], Literal[True] | str], reference: XmlsecReference) -> None:
    tally.check(f"{tampered.name}#{label}", tampered.data, kind, tampered.accept, ours, reference)


def _random_profile(rng: random.Random) -> XmlsecProfile:
    """Mostly the gateway's profile; sometimes stronger digests, inclusive c14n or an InclusiveNamespaces list."""
    if rng.random() < 0.6:
        return XmlsecProfile()
    return XmlsecProfile(
        canonicalization=rng.choice((alg.EXC_C14N, alg.C14N)),
        transform=rng.choice((alg.EXC_C14N, alg.EXC_C14N, alg.C14N)),
        digest=rng.choice((alg.SHA256, alg.SHA384, alg.SHA512)),
        signature=rng.choice((alg.RSA_SHA256, alg.RSA_SHA384, alg.RSA_SHA512)),
        inclusive_prefixes=tuple(rng.sample(("a", "b", "kz", "tns", "ж"), rng.randint(0, 2))))


# --------------------------------------------------------------------------- documents

def test_documents_signed_by_us_agree_with_xmlsec(key: IssuedKey, verifier: VerificationService,
                                                  reference: XmlsecReference) -> None:
    signer = SigningService(key.key_material)
    ours = _ours(verifier, "document")
    tally = Tally()
    count = scaled(PER_TEST)
    for index in range(count):
        rng = random.Random(1000 + index)
        document = random_document(rng)
        uri = f"#{document.root_id}" if document.root_id and rng.random() < 0.7 else ""
        signed = signer.sign_document(document.xml, reference_uri=uri)
        _check_all(tally, f"ours-document-{index}", signed, "document", rng, ours, reference)
    tally.assert_clean(count)


def test_documents_signed_by_xmlsec_agree_with_ours(key: IssuedKey, verifier: VerificationService,
                                                    reference: XmlsecReference) -> None:
    ours = _ours(verifier, "document")
    tally = Tally()
    count = scaled(PER_TEST)
    for index in range(count):
        rng = random.Random(2000 + index)
        document = random_document(rng)
        uri = f"#{document.root_id}" if document.root_id and rng.random() < 0.7 else ""
        signed = reference.sign_document(document.xml, reference_uri=uri, position=rng.choice((None, 0, 1, 2)),
                                         profile=_random_profile(rng))
        _check_all(tally, f"xmlsec-document-{index}", signed, "document", rng, ours, reference)
    tally.assert_clean(count)


# --------------------------------------------------------------------------- envelopes

def test_envelopes_signed_by_us_agree_with_xmlsec(key: IssuedKey, verifier: VerificationService,
                                                  reference: XmlsecReference, clock: FrozenClock) -> None:
    signers = [SigningService(key.key_material, clock=clock),
               SigningService(key.key_material, SignatureConfig(token_reference="binary-security-token"),
                              clock=clock)]
    ours = _ours(verifier, "envelope")
    tally = Tally()
    count = scaled(PER_TEST)
    for index in range(count):
        rng = random.Random(3000 + index)
        envelope = random_envelope(rng)
        signed = rng.choice(signers).sign_envelope(envelope.xml)
        _check_all(tally, f"ours-envelope-{index}", signed, "envelope", rng, ours, reference)
    tally.assert_clean(count)


def test_envelopes_signed_by_xmlsec_agree_with_ours(verifier: VerificationService,
                                                    reference: XmlsecReference) -> None:
    ours = _ours(verifier, "envelope")
    tally = Tally()
    count = scaled(PER_TEST)
    for index in range(count):
        rng = random.Random(4000 + index)
        envelope = random_envelope(rng)
        profile = XmlsecProfile() if rng.random() < 0.7 else XmlsecProfile(
            digest=rng.choice((alg.SHA256, alg.SHA512)), signature=rng.choice((alg.RSA_SHA256, alg.RSA_SHA512)))
        signed = reference.sign_envelope(envelope.xml, created=NOW - dt.timedelta(seconds=rng.randint(0, 200)),
                                         profile=profile,
                                         token_reference=rng.choice(("key-identifier", "binary-security-token")))
        _check_all(tally, f"xmlsec-envelope-{index}", signed, "envelope", rng, ours, reference)
    tally.assert_clean(count)


def test_the_reference_is_python_xmlsec() -> None:
    """Guard: the drill compares against libxmlsec1 through python-xmlsec, not against ourselves."""
    import xmlsec

    assert str(getattr(xmlsec, "__version__", "")).startswith("1.3")
    assert xmlsec.get_libxml_version() == xmlsec.get_libxml_compiled_version()
    assert xmlsig.SigningService is SigningService
