"""Trust layer: SignerInfo, revocation (OCSP, CRL, fallback) and every refusal of the validator."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from adapters.core.clock import FrozenClock
from adapters.core.errors import RefusalReason, SignatureRefused
from adapters.core.trust.revocation import (
    CertificateRevoked,
    RevocationChecker,
    RevocationPolicy,
    RevocationUnknown,
)
from adapters.core.trust.subject import signer_info
from adapters.core.trust.validator import CertificateValidator
from simulators.common.httpserver import Response, Router, SimServer
from simulators.pki import IssuedKey, TestPKI

IIN = "871008401427"
OTHER_IIN = "760212350620"
BIN = "940140000385"
OTHER_BIN = "950341000052"


@pytest.fixture(scope="module")
def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _validator(pki: TestPKI, checker: RevocationChecker | None = None, **kw: object) -> CertificateValidator:
    return CertificateValidator([pki.root_certificate], [pki.issuing_certificate], revocation=checker,
                                **kw)  # type: ignore[arg-type]


def _refused(reason: RefusalReason, call: Callable[[], object]) -> SignatureRefused:
    with pytest.raises(SignatureRefused) as info:
        call()
    assert info.value.reason is reason, info.value.message
    return info.value


# --------------------------------------------------------------------------- SignerInfo

def test_signer_info_reads_the_nca_layout(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN, bin=BIN, org="ТОО «Тест»", surname="ИВАНОВ", given_name="ИВАНОВИЧ",
                    common_name="ИВАНОВ ИВАН", roles=["legal-entity", "first-head", "right-to-sign"])
    info = signer_info(key.certificate)
    assert (info.iin, info.bin, info.organisation) == (IIN, BIN, "ТОО «Тест»")
    assert (info.common_name, info.surname, info.given_name) == ("ИВАНОВ ИВАН", "ИВАНОВ", "ИВАНОВИЧ")
    assert info.roles == ("legal-entity", "first-head", "right-to-sign")
    assert info.usage == "sign"
    assert info.serial == key.serial
    assert info.issuer == pki.issuing_certificate.subject.rfc4514_string()
    assert info.not_after == key.certificate.not_valid_after_utc
    auth = signer_info(pki.issue(iin=IIN, usage="auth").certificate)
    assert (auth.usage, auth.bin, auth.roles) == ("auth", None, ("individual",))


# --------------------------------------------------------------------------- happy path

def test_valid_legal_entity_signer_passes_every_rule(pki: TestPKI, pki_validator: CertificateValidator) -> None:
    key = pki.issue(iin=IIN, bin=BIN)
    info = pki_validator.validate(key.certificate, required_roles=["right-to-sign"], expect_bin=BIN,
                                  expect_iin=IIN)
    assert info.bin == BIN and "legal-entity" in info.roles


def test_chain_from_signature_is_used_when_validator_has_no_intermediates(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN)
    bare = CertificateValidator([pki.root_certificate], revocation=None)
    _refused(RefusalReason.UNTRUSTED_CHAIN, lambda: bare.validate(key.certificate))
    assert bare.validate(key.certificate, chain=key.key_material.chain).iin == IIN


def test_from_files(pki: TestPKI, tmp_path: Path) -> None:
    inter = tmp_path / "issuing.pem"
    inter.write_bytes(pki.issuing_certificate.public_bytes(Encoding.PEM))
    validator = CertificateValidator.from_files([pki.ca_pem_path], [inter])
    assert validator.validate(pki.issue(iin=IIN).certificate).iin == IIN


# --------------------------------------------------------------------------- refusals

def test_foreign_ca_is_untrusted(pki: TestPKI, pki_factory: Callable[..., TestPKI]) -> None:
    foreign = pki_factory(base_url="http://127.0.0.1:1").issue(iin=IIN)
    err = _refused(RefusalReason.UNTRUSTED_CHAIN,
                   lambda: _validator(pki).validate(foreign.certificate, chain=foreign.key_material.chain))
    assert foreign.serial in err.detail


def test_expired(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN, expired=True)
    err = _refused(RefusalReason.CERT_EXPIRED, lambda: _validator(pki).validate(key.certificate))
    assert key.serial in err.detail and "expired at" in err.detail


def test_not_yet_valid_and_at(pki: TestPKI) -> None:
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    key = pki.issue(iin=IIN, not_before=start)
    _refused(RefusalReason.CERT_NOT_YET_VALID, lambda: _validator(pki).validate(key.certificate))
    later = start + dt.timedelta(days=1)
    assert _validator(pki).validate(key.certificate, at=later).iin == IIN
    frozen = _validator(pki, clock=FrozenClock(later))
    assert frozen.validate(key.certificate).iin == IIN


def test_revoked_via_ocsp(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN)
    # TTL 0: the revocation right after a good check must be seen at once (no cached answer)
    validator = _validator(pki, RevocationChecker(RevocationPolicy.OCSP, ocsp_cache_seconds=0))
    validator.validate(key.certificate)
    pki.revoke(key, reason="keyCompromise")
    err = _refused(RefusalReason.REVOKED, lambda: validator.validate(key.certificate))
    assert isinstance(err, CertificateRevoked)
    assert key.serial in err.detail and "keyCompromise" in err.detail and "OCSP" in err.detail
    assert err.context["source"] == "OCSP"


def test_revoked_via_crl(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN)
    pki.revoke(key, reason="cessationOfOperation")
    err = _refused(RefusalReason.REVOKED,
                   lambda: _validator(pki, RevocationChecker(RevocationPolicy.CRL)).validate(key.certificate))
    assert "cessationOfOperation" in err.detail and "CRL" in err.detail and key.serial in err.detail


def test_ocsp_then_crl_falls_back_when_responder_is_down(pki: TestPKI, dead_url: str) -> None:
    good, bad = pki.issue(iin=IIN), pki.issue(iin=IIN)
    pki.revoke(bad, reason="superseded")
    checker = RevocationChecker(RevocationPolicy.OCSP_THEN_CRL, ocsp_url=f"{dead_url}/ocsp", timeout=2)
    validator = _validator(pki, checker)
    assert validator.validate(good.certificate).iin == IIN
    err = _refused(RefusalReason.REVOKED, lambda: validator.validate(bad.certificate))
    assert err.context["source"] == "CRL"


def test_unknown_when_nothing_answers(pki: TestPKI, dead_url: str) -> None:
    key = pki.issue(iin=IIN)
    checker = RevocationChecker(RevocationPolicy.OCSP_THEN_CRL, ocsp_url=f"{dead_url}/ocsp",
                                crl_url=f"{dead_url}/crl", timeout=2)
    err = _refused(RefusalReason.REVOCATION_UNKNOWN, lambda: _validator(pki, checker).validate(key.certificate))
    assert isinstance(err, RevocationUnknown)
    assert "OCSP" in err.detail and "CRL" in err.detail and "unreachable" in err.detail
    ocsp_only = RevocationChecker(RevocationPolicy.OCSP, ocsp_url=f"{dead_url}/ocsp", timeout=2)
    _refused(RefusalReason.REVOCATION_UNKNOWN, lambda: _validator(pki, ocsp_only).validate(key.certificate))


def test_ocsp_unknown_status_is_refused(pki: TestPKI, pki_factory: Callable[..., TestPKI]) -> None:
    # A certificate of another PKI whose root we also trust, asking *our* responder: "unauthorized".
    other = pki_factory(base_url="http://127.0.0.1:1")
    stray = other.issue(iin=IIN)
    checker = RevocationChecker(RevocationPolicy.OCSP, ocsp_url=pki.ocsp_url)
    err = _refused(RefusalReason.REVOCATION_UNKNOWN,
                   lambda: checker.check(stray.certificate, other.issuing_certificate))
    assert "UNAUTHORIZED" in err.detail


def test_crl_from_local_file_and_forged_crl(pki: TestPKI, pki_factory: Callable[..., TestPKI],
                                            tmp_path: Path) -> None:
    key = pki.issue(iin=IIN)
    pki.revoke(key)
    crl_file = tmp_path / "issuing.crl"
    crl_file.write_bytes(pki.crl_der())
    offline = RevocationChecker(RevocationPolicy.CRL, crl_path=crl_file)
    err = _refused(RefusalReason.REVOKED, lambda: offline.check(key.certificate, pki.issuing_certificate))
    assert str(crl_file) in err.detail
    # A CRL signed by another CA (same file name, empty list) must not be believed.
    forged = tmp_path / "forged.crl"
    forged.write_bytes(pki_factory(base_url="http://127.0.0.1:1").crl_der())
    forged_checker = RevocationChecker(RevocationPolicy.CRL, crl_path=forged)
    err = _refused(RefusalReason.REVOCATION_UNKNOWN,
                   lambda: forged_checker.check(key.certificate, pki.issuing_certificate))
    assert "signature does not verify" in err.detail


def test_crl_is_cached_until_ttl_then_reread(pki: TestPKI, tmp_path: Path) -> None:
    key = pki.issue(iin=IIN)
    crl_file = tmp_path / "cached.crl"
    crl_file.write_bytes(pki.crl_der())
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    checker = RevocationChecker(RevocationPolicy.CRL, crl_path=crl_file, clock=clock,
                                crl_cache_ttl=dt.timedelta(hours=1))
    checker.check(key.certificate, pki.issuing_certificate)
    pki.revoke(key)
    crl_file.write_bytes(pki.crl_der())
    checker.check(key.certificate, pki.issuing_certificate)  # the cached CRL does not list it yet
    clock.advance(dt.timedelta(hours=2))  # past the TTL, before nextUpdate (12 h): re-read
    _refused(RefusalReason.REVOKED, lambda: checker.check(key.certificate, pki.issuing_certificate))


def test_stale_crl_is_not_believed(pki: TestPKI, tmp_path: Path) -> None:
    key = pki.issue(iin=IIN)
    crl_file = tmp_path / "stale.crl"
    crl_file.write_bytes(pki.crl_der())
    clock = FrozenClock(dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    checker = RevocationChecker(RevocationPolicy.CRL, crl_path=crl_file, clock=clock)
    err = _refused(RefusalReason.REVOCATION_UNKNOWN,
                   lambda: checker.check(key.certificate, pki.issuing_certificate))
    assert "stale" in err.detail


def test_auth_key_may_not_sign_and_sign_key_may_not_authenticate(pki: TestPKI) -> None:
    auth = pki.issue(iin=IIN, usage="auth")
    err = _refused(RefusalReason.KEY_USAGE, lambda: _validator(pki).validate(auth.certificate, usage="sign"))
    assert "nonRepudiation" in err.detail
    assert _validator(pki).validate(auth.certificate, usage="auth").usage == "auth"
    sign = pki.issue(iin=IIN)
    _refused(RefusalReason.KEY_USAGE, lambda: _validator(pki).validate(sign.certificate, usage="auth"))
    _refused(RefusalReason.KEY_USAGE, lambda: _validator(pki).validate(pki.issuing_certificate))


def test_role_required(pki: TestPKI) -> None:
    employee = pki.issue(iin=IIN, bin=BIN, roles=["legal-entity", "employee"])
    err = _refused(RefusalReason.ROLE, lambda: _validator(pki).validate(
        employee.certificate, required_roles=["right-to-sign"]))
    assert "right-to-sign" in err.detail and "employee" in err.detail
    assert _validator(pki).validate(employee.certificate, required_roles=["1.2.398.3.3.4.1.2.5"])


def test_bin_mismatch_and_missing_bin(pki: TestPKI) -> None:
    employee: IssuedKey = pki.issue(iin=IIN, bin=BIN)
    err = _refused(RefusalReason.BIN_MISMATCH,
                   lambda: _validator(pki).validate(employee.certificate, expect_bin=OTHER_BIN))
    assert BIN in err.detail and OTHER_BIN in err.detail
    individual = pki.issue(iin=IIN)
    err = _refused(RefusalReason.BIN_MISMATCH,
                   lambda: _validator(pki).validate(individual.certificate, expect_bin=BIN))
    assert "no BIN" in err.detail


def test_iin_mismatch(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN)
    err = _refused(RefusalReason.IIN_MISMATCH,
                   lambda: _validator(pki).validate(key.certificate, expect_iin=OTHER_IIN))
    assert IIN in err.detail and OTHER_IIN in err.detail


def test_policy_none_skips_revocation(pki: TestPKI, dead_url: str) -> None:
    key = pki.issue(iin=IIN)
    pki.revoke(key)
    checker = RevocationChecker("none", ocsp_url=dead_url)
    assert _validator(pki, checker).validate(key.certificate).iin == IIN


# --------------------------------------------------------------------------- OCSP answers from other responders

def _responder_cert(pki: TestPKI, *, ocsp_signing: bool) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    usages = [ExtendedKeyUsageOID.OCSP_SIGNING if ocsp_signing else ExtendedKeyUsageOID.CLIENT_AUTH]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TEST OCSP RESPONDER")]))
            .issuer_name(pki.issuing_certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .sign(pki.issuing.key, hashes.SHA256()))
    return key, cert


def _answering(reply: Callable[[bytes], bytes]) -> Router:
    router = Router()
    router.add("POST", "/ocsp", lambda req: Response(200, reply(req.body),
                                                     {"Content-Type": "application/ocsp-response"}))
    return router


def _delegated_reply(pki: TestPKI, key: rsa.RSAPrivateKey, cert: x509.Certificate) -> Callable[[bytes], bytes]:
    def reply(body: bytes) -> bytes:
        request = ocsp.load_der_ocsp_request(body)
        now = dt.datetime.now(dt.UTC)
        builder = (ocsp.OCSPResponseBuilder()
                   .add_response_by_hash(request.issuer_name_hash, request.issuer_key_hash,
                                         request.serial_number, request.hash_algorithm,
                                         ocsp.OCSPCertStatus.GOOD, now, now + dt.timedelta(minutes=5), None, None)
                   .responder_id(ocsp.OCSPResponderEncoding.HASH, cert).certificates([cert]))
        for ext in request.extensions:
            builder = builder.add_extension(ext.value, critical=False)
        return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)
    return reply


def test_delegated_ocsp_responder_is_accepted(pki: TestPKI) -> None:
    key, cert = _responder_cert(pki, ocsp_signing=True)
    subject = pki.issue(iin=IIN)
    with SimServer(_answering(_delegated_reply(pki, key, cert))) as server:
        checker = RevocationChecker(RevocationPolicy.OCSP, ocsp_url=f"{server.url}/ocsp")
        checker.check(subject.certificate, pki.issuing_certificate)


def test_delegated_responder_without_ocsp_signing_is_not_believed(pki: TestPKI) -> None:
    key, cert = _responder_cert(pki, ocsp_signing=False)
    subject = pki.issue(iin=IIN)
    with SimServer(_answering(_delegated_reply(pki, key, cert))) as server:
        checker = RevocationChecker(RevocationPolicy.OCSP, ocsp_url=f"{server.url}/ocsp")
        err = _refused(RefusalReason.REVOCATION_UNKNOWN,
                       lambda: checker.check(subject.certificate, pki.issuing_certificate))
    assert "OCSPSigning" in err.detail


def test_replayed_ocsp_answer_is_not_believed(pki: TestPKI) -> None:
    subject = pki.issue(iin=IIN)
    # an answer "good" captured earlier (with another nonce), then the certificate is revoked
    captured = pki.responder.respond(
        ocsp.OCSPRequestBuilder().add_certificate(subject.certificate, pki.issuing_certificate, hashes.SHA1())
        .add_extension(x509.OCSPNonce(b"0" * 16), critical=False).build().public_bytes(Encoding.DER))
    pki.revoke(subject)
    with SimServer(_answering(lambda _: captured)) as server:
        checker = RevocationChecker(RevocationPolicy.OCSP, ocsp_url=f"{server.url}/ocsp")
        err = _refused(RefusalReason.REVOCATION_UNKNOWN,
                       lambda: checker.check(subject.certificate, pki.issuing_certificate))
    assert "nonce" in err.detail


def test_ocsp_answer_signed_by_a_stranger_is_not_believed(pki: TestPKI,
                                                          pki_factory: Callable[..., TestPKI]) -> None:
    other = pki_factory(base_url="http://127.0.0.1:1")
    subject = pki.issue(iin=IIN)
    forged = _delegated_reply(pki, other.issuing.key, other.issuing_certificate)  # type: ignore[arg-type]
    with SimServer(_answering(forged)) as server:
        checker = RevocationChecker(RevocationPolicy.OCSP_THEN_CRL, ocsp_url=f"{server.url}/ocsp")
        # OCSP is not believed; the CRL (from the certificate's distribution point) decides
        checker.check(subject.certificate, pki.issuing_certificate)
        pki.revoke(subject)
        err = _refused(RefusalReason.REVOKED,
                       lambda: RevocationChecker(RevocationPolicy.OCSP_THEN_CRL, ocsp_url=f"{server.url}/ocsp")
                       .check(subject.certificate, pki.issuing_certificate))
    assert err.context["source"] == "CRL"
