"""One test per refusal rule of the VerificationService: type, reason, and a message naming the rule."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from adapters.core.clock import FrozenClock
from adapters.core.errors import ConfigurationError, RefusalReason, SignatureRefused
from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlparse import NS
from adapters.core.xmlsig import ReplayCache, SignatureConfig, SigningService, VerificationService
from adapters.core.xmlsig import algorithms as alg
from adapters.core.xmlsig.signature import seal
from simulators.pki import IssuedKey, TestPKI

BIN = "940140000385"
IIN = "871008401427"
OTHER_BIN = "950341000052"
OTHER_IIN = "760212350620"

ENVELOPE = (
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soapenv:Header/>"
    b'<soapenv:Body><t:SendMessage xmlns:t="http://bip.bee.kz/SyncChannel/v10/Types">'
    b"<request><requestInfo><messageId>6f1c0b8e-1b1e-4e0c-9a53-2c5f0e9e7d10</messageId>"
    b"<serviceId>GbdulInfoByBin_v2</serviceId></requestInfo>"
    b"<requestData><data>BIN 940140000385</data></requestData></request>"
    b"</t:SendMessage></soapenv:Body></soapenv:Envelope>"
)
DOCUMENT = b'<Request xmlns="urn:test:gbdul"><RequestorBIN>940140000385</RequestorBIN><BIN>950341000052</BIN></Request>'


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


@pytest.fixture(scope="module")
def signing_key(pki: TestPKI) -> IssuedKey:
    return pki.issue(iin=IIN, bin=BIN)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(dt.datetime.now(dt.UTC).replace(microsecond=0))


@pytest.fixture
def validator(pki: TestPKI, clock: FrozenClock) -> CertificateValidator:
    return CertificateValidator([pki.root_certificate], [pki.issuing_certificate], clock=clock)


@pytest.fixture
def signer(signing_key: IssuedKey, clock: FrozenClock) -> SigningService:
    return SigningService(signing_key.key_material, clock=clock)


@pytest.fixture
def verifier(validator: CertificateValidator, clock: FrozenClock) -> VerificationService:
    return VerificationService(validator, clock=clock)


def _refused(call: Callable[[], object], reason: RefusalReason, *fragments: str) -> SignatureRefused:
    with pytest.raises(SignatureRefused) as info:
        call()
    assert info.value.reason is reason, str(info.value)
    message = str(info.value)
    assert message.startswith(f"signature refused ({reason.value}): ")
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def _parse(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _body(root: etree._Element) -> etree._Element:
    body = root.find(_q("soap", "Body"))
    assert body is not None
    return body


def _body_id(root: etree._Element) -> str:
    return str(_body(root).get(_q("wsu", "Id")))


# --------------------------------------------------------------------------- structure


def test_unsigned_envelope_is_missing_signature(verifier: VerificationService) -> None:
    _refused(lambda: verifier.verify_envelope(ENVELOPE), RefusalReason.MISSING_SIGNATURE, "wsse:Security")


def test_unsigned_document_is_missing_signature(verifier: VerificationService) -> None:
    _refused(lambda: verifier.verify_document(DOCUMENT), RefusalReason.MISSING_SIGNATURE, "<Request>")


def test_garbage_signature_value_is_malformed(signer: SigningService, verifier: VerificationService) -> None:
    root = _parse(signer.sign_envelope(ENVELOPE))
    value = root.find(f".//{_q('ds', 'SignatureValue')}")
    assert value is not None
    value.text = "***not base64***"
    _refused(lambda: verifier.verify_envelope(etree.tostring(root)), RefusalReason.MALFORMED,
             "ds:SignatureValue is not base64")


def test_reference_to_nothing_is_malformed(signer: SigningService, verifier: VerificationService) -> None:
    root = _parse(signer.sign_envelope(ENVELOPE))
    ref = root.find(f".//{_q('ds', 'Reference')}")
    assert ref is not None
    ref.set("URI", "#nowhere")
    _refused(lambda: verifier.verify_envelope(etree.tostring(root)), RefusalReason.MALFORMED,
             "reference 0 (#nowhere) points to no element")


def test_external_reference_is_malformed(signer: SigningService, verifier: VerificationService) -> None:
    root = _parse(signer.sign_document(DOCUMENT))
    ref = root.find(f".//{_q('ds', 'Reference')}")
    assert ref is not None
    ref.set("URI", "http://127.0.0.1:1/evil.xml")
    _refused(lambda: verifier.verify_document(etree.tostring(root)), RefusalReason.MALFORMED,
             "reference 0", "only same-document references")


# --------------------------------------------------------------------------- wrapping


def test_duplicate_id_is_wrapping(signer: SigningService, verifier: VerificationService) -> None:
    root = _parse(signer.sign_envelope(ENVELOPE))
    body_id = _body_id(root)
    header = root.find(_q("soap", "Header"))
    assert header is not None
    decoy = etree.SubElement(header, "{urn:evil}Decoy")
    decoy.set(_q("wsu", "Id"), body_id)
    _refused(lambda: verifier.verify_envelope(etree.tostring(root)), RefusalReason.WRAPPING,
             f"duplicate Id {body_id!r}")


def test_second_body_is_wrapping(signer: SigningService, verifier: VerificationService) -> None:
    root = _parse(signer.sign_envelope(ENVELOPE))
    header = root.find(_q("soap", "Header"))
    assert header is not None
    etree.SubElement(header, _q("soap", "Body")).text = "second"
    _refused(lambda: verifier.verify_envelope(etree.tostring(root)), RefusalReason.WRAPPING,
             "a second soap:Body")


def test_body_moved_under_wrapper_is_wrapping(signer: SigningService, verifier: VerificationService) -> None:
    """The classic attack: the signed Body hides in a header wrapper; a forged Body takes its place."""
    root = _parse(signer.sign_envelope(ENVELOPE))
    signed_body = _body(root)
    body_id = _body_id(root)
    header = root.find(_q("soap", "Header"))
    assert header is not None
    wrapper = etree.SubElement(header, "{urn:evil}Wrapper")
    root.remove(signed_body)
    wrapper.append(signed_body)
    forged = etree.SubElement(root, _q("soap", "Body"))
    etree.SubElement(forged, "{urn:evil}TransferEverything").text = "to the attacker"
    error = _refused(lambda: verifier.verify_envelope(etree.tostring(root)), RefusalReason.WRAPPING,
                     "second soap:Body", body_id, "<Wrapper>")
    assert error.detail


def test_body_not_under_envelope_is_wrapping(signer: SigningService, verifier: VerificationService) -> None:
    root = _parse(signer.sign_envelope(ENVELOPE))
    body = _body(root)
    header = root.find(_q("soap", "Header"))
    assert header is not None
    root.remove(body)
    header.append(body)
    _refused(lambda: verifier.verify_envelope(etree.tostring(root)), RefusalReason.WRAPPING,
             "0 soap:Body children")


# --------------------------------------------------------------------------- coverage, digests, value


def test_timestamp_only_signature_with_changed_body_is_coverage(
        signer: SigningService, verifier: VerificationService) -> None:
    """zeep's verify() accepts this; we must not: the signature covers the Timestamp only."""
    root = _parse(signer.sign_envelope(ENVELOPE))
    signature = root.find(f".//{_q('ds', 'Signature')}")
    assert signature is not None
    signed_info = signature.find(_q("ds", "SignedInfo"))
    assert signed_info is not None
    body_ref = signed_info.findall(_q("ds", "Reference"))[0]
    assert body_ref.get("URI") == f"#{_body_id(root)}"
    signed_info.remove(body_ref)
    seal(signature, signer.backend, signer.config)  # a genuine signature over the Timestamp only
    _body(root)[0].text = "forged"
    _refused(lambda: verifier.verify_envelope(etree.tostring(root)), RefusalReason.REFERENCE_COVERAGE,
             "reference 0 (#TS-", "do not cover soap:Body", _body_id(root))


def test_unsigned_timestamp_is_coverage(signer: SigningService, signing_key: IssuedKey,
                                        clock: FrozenClock, verifier: VerificationService) -> None:
    body_only = SigningService(signing_key.key_material, SignatureConfig(sign_timestamp=False), clock=clock)
    signed = body_only.sign_envelope(ENVELOPE)
    _refused(lambda: verifier.verify_envelope(signed), RefusalReason.REFERENCE_COVERAGE,
             "do not cover wsu:Timestamp")


def test_document_reference_not_covering_root_is_coverage(
        signer: SigningService, verifier: VerificationService) -> None:
    document = b'<Request xmlns="urn:test"><Signed Id="part">ok</Signed><Amount>1</Amount></Request>'
    signed = signer.sign_document(document, reference_uri="#part")
    root = _parse(signed)
    root.find("{urn:test}Amount").text = "1000000"  # type: ignore[union-attr]
    _refused(lambda: verifier.verify_document(etree.tostring(root)), RefusalReason.REFERENCE_COVERAGE,
             "reference 0 (#part)", "do not cover the root <Request>")


def test_tampered_body_is_digest_mismatch(signer: SigningService, verifier: VerificationService) -> None:
    root = _parse(signer.sign_envelope(ENVELOPE))
    data = root.find(".//{*}data")
    assert data is not None
    data.text = "BIN 950341000052"
    _refused(lambda: verifier.verify_envelope(etree.tostring(root)), RefusalReason.DIGEST_MISMATCH,
             f"digest mismatch for reference 0 (#{_body_id(root)})")


def test_tampered_timestamp_is_digest_mismatch(signer: SigningService, verifier: VerificationService) -> None:
    root = _parse(signer.sign_envelope(ENVELOPE))
    expires = root.find(f".//{_q('wsu', 'Expires')}")
    assert expires is not None
    expires.text = "2099-01-01T00:00:00.000Z"
    _refused(lambda: verifier.verify_envelope(etree.tostring(root)), RefusalReason.DIGEST_MISMATCH,
             "digest mismatch for reference 1 (#TS-")


def test_tampered_document_is_digest_mismatch(signer: SigningService, verifier: VerificationService) -> None:
    root = _parse(signer.sign_document(DOCUMENT))
    root.find("{urn:test:gbdul}BIN").text = BIN  # type: ignore[union-attr]
    _refused(lambda: verifier.verify_document(etree.tostring(root)), RefusalReason.DIGEST_MISMATCH,
             "digest mismatch for reference 0 (whole document)")


def test_tampered_signature_value_is_signature_mismatch(
        signer: SigningService, signing_key: IssuedKey, verifier: VerificationService) -> None:
    root = _parse(signer.sign_envelope(ENVELOPE))
    value = root.find(f".//{_q('ds', 'SignatureValue')}")
    assert value is not None
    raw = bytearray(base64.b64decode(value.text or ""))
    raw[10] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    _refused(lambda: verifier.verify_envelope(etree.tostring(root)), RefusalReason.SIGNATURE_MISMATCH,
             "SignatureValue does not verify", f"serial {signing_key.certificate.serial_number:x}")


def test_swapped_certificate_is_signature_mismatch(pki: TestPKI, signer: SigningService,
                                                   verifier: VerificationService) -> None:
    """A genuine signature presented with somebody else's certificate."""
    other = pki.issue(iin=OTHER_IIN)
    root = _parse(signer.sign_document(DOCUMENT))
    cert = root.find(f".//{_q('ds', 'X509Certificate')}")
    assert cert is not None
    from cryptography.hazmat.primitives.serialization import Encoding
    cert.text = base64.b64encode(other.certificate.public_bytes(Encoding.DER)).decode()
    _refused(lambda: verifier.verify_document(etree.tostring(root)), RefusalReason.SIGNATURE_MISMATCH,
             f"serial {other.certificate.serial_number:x}")


# --------------------------------------------------------------------------- algorithms


def test_sha1_signature_is_refused(signing_key: IssuedKey, clock: FrozenClock,
                                   verifier: VerificationService) -> None:
    old = SignatureConfig(signature_algorithm=alg.RSA_SHA1, digest_algorithm=alg.SHA1, allow_insecure=True,
                          accepted_signature_algorithms=alg.SECURE_SIGNATURES | {alg.RSA_SHA1},
                          accepted_digest_algorithms=alg.SECURE_DIGESTS | {alg.SHA1})
    signed = SigningService(signing_key.key_material, old, clock=clock).sign_envelope(ENVELOPE)
    _refused(lambda: verifier.verify_envelope(signed), RefusalReason.ALGORITHM,
             "SignatureMethod http://www.w3.org/2000/09/xmldsig#rsa-sha1 is not accepted")
    # the explicit opt-in accepts it (old counterparts)
    lenient = VerificationService(None, old, clock=clock, trust_any_certificate=True)
    assert lenient.verify_envelope(signed).signer.iin == IIN


def test_sha1_digest_is_refused(signing_key: IssuedKey, clock: FrozenClock, verifier: VerificationService) -> None:
    old = SignatureConfig(digest_algorithm=alg.SHA1, allow_insecure=True)
    signed = SigningService(signing_key.key_material, old, clock=clock).sign_document(DOCUMENT)
    _refused(lambda: verifier.verify_document(signed), RefusalReason.ALGORITHM,
             "reference 0 (whole document): DigestMethod http://www.w3.org/2000/09/xmldsig#sha1")


def test_unknown_transform_is_refused(signer: SigningService, verifier: VerificationService) -> None:
    root = _parse(signer.sign_document(DOCUMENT))
    transform = root.findall(f".//{_q('ds', 'Transform')}")[1]
    transform.set("Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116")
    _refused(lambda: verifier.verify_document(etree.tostring(root)), RefusalReason.ALGORITHM,
             "reference 0 (whole document): transform http://www.w3.org/TR/1999/REC-xslt-19991116")


def test_insecure_config_fails_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="rsa-sha1"):
        SignatureConfig(signature_algorithm=alg.RSA_SHA1)
    with pytest.raises(ConfigurationError, match="sha1"):
        SignatureConfig(digest_algorithm=alg.SHA1)
    with pytest.raises(ConfigurationError, match="allow_insecure"):
        SignatureConfig(accepted_signature_algorithms=frozenset({alg.RSA_SHA1}))


def test_verifier_without_validator_needs_explicit_opt_in() -> None:
    with pytest.raises(ConfigurationError, match="trust_any_certificate"):
        VerificationService(None)


# --------------------------------------------------------------------------- timestamp and replay


def test_missing_timestamp(signing_key: IssuedKey, clock: FrozenClock, verifier: VerificationService) -> None:
    body_only = SigningService(signing_key.key_material, SignatureConfig(sign_timestamp=False), clock=clock)
    root = _parse(body_only.sign_envelope(ENVELOPE))
    timestamp = root.find(f".//{_q('wsu', 'Timestamp')}")
    assert timestamp is not None
    timestamp.getparent().remove(timestamp)  # type: ignore[union-attr]
    _refused(lambda: verifier.verify_envelope(etree.tostring(root)), RefusalReason.TIMESTAMP_MISSING,
             "no wsu:Timestamp")


def test_expired_timestamp(signer: SigningService, verifier: VerificationService, clock: FrozenClock) -> None:
    signed = signer.sign_envelope(ENVELOPE)
    clock.advance(dt.timedelta(seconds=300 + 60 - 1))
    assert verifier.verify_envelope(signed).signer.bin == BIN  # still inside TTL + skew
    clock.advance(dt.timedelta(seconds=2))
    ts_id = _parse(signed).find(f".//{_q('wsu', 'Timestamp')}").get(_q("wsu", "Id"))  # type: ignore[union-attr]
    _refused(lambda: verifier.verify_envelope(signed), RefusalReason.TIMESTAMP_EXPIRED,
             f"wsu:Timestamp {ts_id}: expired at", "TTL 300 s")


def test_long_sender_expiry_is_capped_by_our_ttl(signing_key: IssuedKey, clock: FrozenClock,
                                                 verifier: VerificationService) -> None:
    lax = SigningService(signing_key.key_material, SignatureConfig(timestamp_ttl=3600), clock=clock)
    signed = lax.sign_envelope(ENVELOPE)
    clock.advance(dt.timedelta(minutes=10))
    _refused(lambda: verifier.verify_envelope(signed), RefusalReason.TIMESTAMP_EXPIRED, "TTL 300 s")


def test_future_timestamp(signing_key: IssuedKey, clock: FrozenClock, verifier: VerificationService) -> None:
    ahead = FrozenClock(clock.now() + dt.timedelta(seconds=61))
    signed = SigningService(signing_key.key_material, clock=ahead).sign_envelope(ENVELOPE)
    _refused(lambda: verifier.verify_envelope(signed), RefusalReason.TIMESTAMP_FUTURE,
             "Created", "more than 60 s ahead")
    slightly = FrozenClock(clock.now() + dt.timedelta(seconds=59))
    tolerated = SigningService(signing_key.key_material, clock=slightly).sign_envelope(ENVELOPE)
    assert verifier.verify_envelope(tolerated).signer.iin == IIN


def test_replay(signer: SigningService, validator: CertificateValidator, clock: FrozenClock) -> None:
    verifier = VerificationService(validator, clock=clock, replay_cache=ReplayCache(clock=clock))
    signed = signer.sign_envelope(ENVELOPE)
    assert verifier.verify_envelope(signed).signer.iin == IIN
    _refused(lambda: verifier.verify_envelope(signed), RefusalReason.REPLAY, "already accepted")
    # a new message (new Timestamp, new signature) is not a replay
    assert verifier.verify_envelope(signer.sign_envelope(ENVELOPE)).signer.iin == IIN


# --------------------------------------------------------------------------- certificate (delegated)


def test_untrusted_chain(pki_factory: Callable[..., TestPKI], clock: FrozenClock,
                         verifier: VerificationService) -> None:
    stranger = pki_factory().issue(iin=IIN, bin=BIN)
    signed = SigningService(stranger.key_material, clock=clock).sign_envelope(ENVELOPE)
    _refused(lambda: verifier.verify_envelope(signed), RefusalReason.UNTRUSTED_CHAIN,
             f"serial {stranger.serial}", "no chain to a trusted root")


def test_expired_certificate(pki: TestPKI, clock: FrozenClock, verifier: VerificationService) -> None:
    old = pki.issue(iin=IIN, expired=True)
    signed = SigningService(old.key_material, clock=clock).sign_document(DOCUMENT)
    _refused(lambda: verifier.verify_document(signed), RefusalReason.CERT_EXPIRED, f"serial {old.serial}",
             "expired at")


def test_not_yet_valid_certificate(pki: TestPKI, clock: FrozenClock, verifier: VerificationService) -> None:
    early = pki.issue(iin=IIN, not_before=clock.now() + dt.timedelta(days=2))
    signed = SigningService(early.key_material, clock=clock).sign_envelope(ENVELOPE)
    _refused(lambda: verifier.verify_envelope(signed), RefusalReason.CERT_NOT_YET_VALID,
             f"serial {early.serial}", "valid only from")


def test_revoked_via_ocsp(pki: TestPKI, clock: FrozenClock) -> None:
    key = pki.issue(iin=IIN, bin=BIN)
    pki.revoke(key)
    validator = CertificateValidator([pki.root_certificate], [pki.issuing_certificate],
                                     revocation=RevocationChecker(RevocationPolicy.OCSP, timeout=5))
    verifier = VerificationService(validator, clock=clock)
    signed = SigningService(key.key_material, clock=clock).sign_envelope(ENVELOPE)
    _refused(lambda: verifier.verify_envelope(signed), RefusalReason.REVOKED, key.serial, "OCSP")


def test_revoked_via_crl(pki: TestPKI, clock: FrozenClock, tmp_path: Path) -> None:
    key = pki.issue(iin=IIN, bin=BIN)
    pki.revoke(key)
    crl = tmp_path / "issuing.crl"
    crl.write_bytes(pki.crl_der())
    validator = CertificateValidator([pki.root_certificate], [pki.issuing_certificate],
                                     revocation=RevocationChecker(RevocationPolicy.CRL, crl_path=crl))
    verifier = VerificationService(validator, clock=clock)
    signed = SigningService(key.key_material, clock=clock).sign_document(DOCUMENT)
    _refused(lambda: verifier.verify_document(signed), RefusalReason.REVOKED, key.serial, "CRL")


def test_auth_key_used_to_sign_is_key_usage(pki: TestPKI, clock: FrozenClock,
                                            verifier: VerificationService) -> None:
    auth = pki.issue(iin=IIN, usage="auth")
    signed = SigningService(auth.key_material, clock=clock).sign_document(DOCUMENT)
    _refused(lambda: verifier.verify_document(signed), RefusalReason.KEY_USAGE, f"serial {auth.serial}",
             "not a signing key")


def test_bin_mismatch(signer: SigningService, verifier: VerificationService) -> None:
    signed = signer.sign_envelope(ENVELOPE)
    _refused(lambda: verifier.verify_envelope(signed, expect_bin=OTHER_BIN), RefusalReason.BIN_MISMATCH,
             f"BIN {BIN}", f"BIN {OTHER_BIN}")


def test_iin_mismatch(signer: SigningService, verifier: VerificationService) -> None:
    signed = signer.sign_document(DOCUMENT)
    _refused(lambda: verifier.verify_document(signed, expect_iin=OTHER_IIN), RefusalReason.IIN_MISMATCH,
             f"IIN {IIN}", f"IIN {OTHER_IIN}")


def test_role_required(signer: SigningService, verifier: VerificationService) -> None:
    signed = signer.sign_document(DOCUMENT)
    _refused(lambda: verifier.verify_document(signed, required_roles=("first-head",)), RefusalReason.ROLE)
