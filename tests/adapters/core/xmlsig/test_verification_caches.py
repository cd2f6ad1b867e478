"""The caches of the signed-call hot path never let a certificate through that would be refused.

The parsed KeyInfo certificate (``xmlsig.keyinfo``) and the chain path with its SignerInfo
(``CertificateValidator``) are remembered between messages; validity, revocation and the
expectations are still checked on every message. Also: the compiled-schema cache follows
``EGOV_CONTRACTS_DIR``, and the response pipeline hands the verifier the parsed envelope only
when a second parse could not differ.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from adapters import contracts
from adapters.core.clock import FrozenClock
from adapters.core.errors import ConfigurationError, RefusalReason, SignatureRefused
from adapters.core.http import HttpResult
from adapters.core.soap import ResponsePipeline, verifier_input
from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.core.xmlsig import keyinfo as keyinfo_module
from simulators.pki import TestPKI

IIN = "871008401427"
BIN = "940140000385"
OTHER_BIN = "950341000052"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def _envelope(text: str = "hello") -> bytes:
    return (f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><m xmlns="urn:m">{text}</m>'
            "</soap:Body></soap:Envelope>").encode()


def _refused(reason: RefusalReason, call: Callable[[], object]) -> SignatureRefused:
    with pytest.raises(SignatureRefused) as info:
        call()
    assert info.value.reason is reason, info.value.message
    return info.value


def _validator(pki: TestPKI, clock: FrozenClock, checker: RevocationChecker | None = None) -> CertificateValidator:
    return CertificateValidator([pki.root_certificate], [pki.issuing_certificate], revocation=checker, clock=clock)


# --------------------------------------------------------------------------- certificate caches

def test_cached_certificate_is_refused_once_expired(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN, bin=BIN, days=2)
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    validator = _validator(pki, clock)
    verifier = VerificationService(validator, clock=clock)
    signer = SigningService(key.key_material, clock=clock)
    for _ in range(2):  # the second call is served from both caches
        assert verifier.verify_envelope(signer.sign_envelope(_envelope())).signer.bin == BIN
    assert len(validator._paths) == 1

    clock.advance(dt.timedelta(days=3))  # past notAfter; the new message is fresh
    err = _refused(RefusalReason.CERT_EXPIRED, lambda: verifier.verify_envelope(signer.sign_envelope(_envelope())))
    assert f"serial {key.certificate.serial_number:x}" in err.detail
    # the validator alone, judged at a time inside and outside the validity
    _refused(RefusalReason.CERT_EXPIRED, lambda: validator.validate(key.certificate))
    assert validator.validate(key.certificate, at=clock.now() - dt.timedelta(days=2)).bin == BIN


def test_cached_certificate_is_refused_before_its_validity(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN)
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    validator = _validator(pki, clock)
    validator.validate(key.certificate)
    before = key.certificate.not_valid_before_utc - dt.timedelta(days=1)
    _refused(RefusalReason.CERT_NOT_YET_VALID, lambda: validator.validate(key.certificate, at=before))


def test_cached_certificate_is_refused_once_revoked(pki: TestPKI, tmp_path: Path) -> None:
    key = pki.issue(iin=IIN, bin=BIN)
    crl_file = tmp_path / "issuing.crl"
    crl_file.write_bytes(pki.crl_der())
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    checker = RevocationChecker(RevocationPolicy.CRL, crl_path=crl_file, clock=clock,
                                crl_cache_ttl=dt.timedelta(seconds=1))
    validator = _validator(pki, clock, checker)
    verifier = VerificationService(validator, clock=clock)
    signer = SigningService(key.key_material, clock=clock)
    for _ in range(2):
        verifier.verify_envelope(signer.sign_envelope(_envelope()))
    assert len(validator._paths) == 1

    pki.revoke(key)
    crl_file.write_bytes(pki.crl_der())
    clock.advance(dt.timedelta(seconds=5))  # the revocation checker re-reads its CRL
    _refused(RefusalReason.REVOKED, lambda: verifier.verify_envelope(signer.sign_envelope(_envelope())))
    _refused(RefusalReason.REVOKED, lambda: validator.validate(key.certificate))


def test_cached_certificate_still_checked_against_each_expectation(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN, bin=BIN)
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    validator = _validator(pki, clock)
    verifier = VerificationService(validator, clock=clock)
    signer = SigningService(key.key_material, clock=clock)
    assert verifier.verify_envelope(signer.sign_envelope(_envelope()), expect_bin=BIN).signer.iin == IIN
    _refused(RefusalReason.BIN_MISMATCH,
             lambda: verifier.verify_envelope(signer.sign_envelope(_envelope()), expect_bin=OTHER_BIN))
    _refused(RefusalReason.IIN_MISMATCH,
             lambda: verifier.verify_envelope(signer.sign_envelope(_envelope()), expect_iin="760212350620"))
    _refused(RefusalReason.KEY_USAGE,
             lambda: verifier.verify_envelope(signer.sign_envelope(_envelope()), usage="auth"))
    _refused(RefusalReason.ROLE, lambda: validator.validate(key.certificate, required_roles=("individual",)))


def test_untrusted_chain_is_never_cached(pki: TestPKI, pki_factory: Callable[..., TestPKI]) -> None:
    stranger = pki_factory().issue(iin=IIN)
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    validator = _validator(pki, clock)
    for _ in range(2):
        _refused(RefusalReason.UNTRUSTED_CHAIN, lambda: validator.validate(stranger.certificate))
    assert not validator._paths


def test_replacing_the_trust_anchors_drops_cached_paths(pki: TestPKI, pki_factory: Callable[..., TestPKI]) -> None:
    key = pki.issue(iin=IIN)
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    validator = _validator(pki, clock)
    validator.validate(key.certificate)
    other = pki_factory()
    validator.trust_anchors = (other.root_certificate,)
    validator.intermediates = (other.issuing_certificate,)
    _refused(RefusalReason.UNTRUSTED_CHAIN, lambda: validator.validate(key.certificate))


def test_path_cache_is_bounded(pki: TestPKI, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.core.trust import validator as validator_module

    monkeypatch.setattr(validator_module, "PATH_CACHE_SIZE", 2)
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    validator = _validator(pki, clock)
    keys = [pki.issue(iin=IIN) for _ in range(3)]
    for key in keys:
        validator.validate(key.certificate)
    assert len(validator._paths) == 2
    remembered = [key.certificates for key in validator._paths]
    assert remembered == [(keys[1].certificate,), (keys[2].certificate,)]  # the least recently used went first


def test_keyinfo_cache_returns_the_parsed_certificate_and_never_caches_failures(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN)
    signed = SigningService(key.key_material).sign_envelope(_envelope())
    text = parse_xml(signed).findtext(".//{*}KeyIdentifier")
    assert text
    first = keyinfo_module._load_cached(text, "test")
    assert keyinfo_module._load_cached(text, "test") is first
    assert first == key.certificate
    for _ in range(2):
        _refused(RefusalReason.MALFORMED, lambda: keyinfo_module._load_cached("bm90IGEgY2VydA==", "test"))
    assert "bm90IGEgY2VydA==" not in keyinfo_module._parsed


def test_a_tampered_message_with_a_cached_certificate_is_still_refused(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN)
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    verifier = VerificationService(_validator(pki, clock), clock=clock)
    signer = SigningService(key.key_material, clock=clock)
    verifier.verify_envelope(signer.sign_envelope(_envelope()))
    tampered = signer.sign_envelope(_envelope("hello")).replace(b">hello<", b">hullo<")
    _refused(RefusalReason.DIGEST_MISMATCH, lambda: verifier.verify_envelope(tampered))


# --------------------------------------------------------------------------- schema cache

def test_schema_cache_follows_the_contracts_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = contracts.load_schema(contracts.SYNC_INTERFACES_XSD)
    assert contracts.load_schema(contracts.SYNC_INTERFACES_XSD) is schema
    monkeypatch.setenv(contracts.ENV_VAR, str(tmp_path))  # no wsdl/ nor schemas/ there
    with pytest.raises(ConfigurationError):
        contracts.load_schema(contracts.SYNC_INTERFACES_XSD)
    monkeypatch.delenv(contracts.ENV_VAR)
    assert contracts.load_schema(contracts.SYNC_INTERFACES_XSD) is schema


def test_schema_errors_still_reports_errors() -> None:
    bad = etree.fromstring(b'<ns0:SendMessageResponse xmlns:ns0="http://bip.bee.kz/SyncChannel/v10/Interfaces"/>')
    assert contracts.schema_errors(contracts.SYNC_INTERFACES_XSD, bad)


# --------------------------------------------------------------------------- one parse, not two

def test_verifier_input_hands_over_the_element_only_when_a_reparse_cannot_differ() -> None:
    small = _envelope()
    element = parse_xml(small, allow_huge=True)
    assert verifier_input(small, element, parsed_huge=True) is element
    assert verifier_input(small, element, parsed_huge=False) is element
    # deep nesting: libxml2 refuses it without huge_tree, so the verifier must see the bytes
    deep = (f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>' + "<a>" * 300 + "</a>" * 300
            + "</soap:Body></soap:Envelope>").encode()
    deep_element = parse_xml(deep, allow_huge=True)
    assert verifier_input(deep, deep_element, parsed_huge=True) == deep
    big = _envelope("x" * 60_000)
    assert verifier_input(big, parse_xml(big, allow_huge=True), parsed_huge=True) == big


class _RecordingVerifier:
    def __init__(self) -> None:
        self.seen: list[object] = []

    def verify_envelope(self, data: bytes | etree._Element, **kwargs: object) -> None:
        self.seen.append(data)


def test_pipeline_verifies_the_envelope_it_parsed() -> None:
    recorder = _RecordingVerifier()
    pipeline = ResponsePipeline(recorder, allow_huge=True)
    processed = pipeline.process(HttpResult(200, {}, _envelope(), "http://127.0.0.1:9/"))
    assert recorder.seen == [processed.envelope]
    assert processed.payload.text == "hello"
