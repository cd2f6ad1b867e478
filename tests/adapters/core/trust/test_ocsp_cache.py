"""OCSP answer cache of RevocationChecker: bounded TTL, never past nextUpdate, failures not kept."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from adapters.core.clock import FrozenClock
from adapters.core.errors import ConfigurationError, RefusalReason, SignatureRefused
from adapters.core.settings import load_settings
from adapters.core.trust.revocation import CertificateRevoked, RevocationChecker, RevocationPolicy
from simulators.common.httpserver import Request, Response, Router, SimServer
from simulators.pki import TestPKI

IIN = "871008401427"


@dataclass
class Responder:
    """An OCSP responder signed by the test PKI's issuing CA, answering as told and counting hits."""

    pki: TestPKI
    status: ocsp.OCSPCertStatus = ocsp.OCSPCertStatus.GOOD
    next_update: dt.timedelta | None = dt.timedelta(minutes=10)
    broken: bool = False
    hits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, req: Request) -> Response:
        with self.lock:
            self.hits += 1
        if self.broken:
            return Response(503, b"down", {"Content-Type": "text/plain"})
        request = ocsp.load_der_ocsp_request(req.body)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        revoked = self.status is ocsp.OCSPCertStatus.REVOKED
        builder = (ocsp.OCSPResponseBuilder()
                   .add_response_by_hash(request.issuer_name_hash, request.issuer_key_hash,
                                         request.serial_number, request.hash_algorithm, self.status, now,
                                         now + self.next_update if self.next_update is not None else None,
                                         now - dt.timedelta(minutes=1) if revoked else None,
                                         x509.ReasonFlags.key_compromise if revoked else None)
                   .responder_id(ocsp.OCSPResponderEncoding.HASH, self.pki.issuing_certificate))
        for ext in request.extensions:
            builder = builder.add_extension(ext.value, critical=False)
        der = builder.sign(self.pki.issuing.key, hashes.SHA256()).public_bytes(Encoding.DER)
        return Response(200, der, {"Content-Type": "application/ocsp-response"})


@pytest.fixture
def responder(pki: TestPKI) -> Iterator[tuple[Responder, str]]:
    answering = Responder(pki)
    router = Router()
    router.add("POST", "/ocsp", answering.handle)
    with SimServer(router) as server:
        yield answering, f"{server.url}/ocsp"


def _checker(url: str, clock: FrozenClock, ttl: float = 60) -> RevocationChecker:
    return RevocationChecker(RevocationPolicy.OCSP, ocsp_url=url, clock=clock, ocsp_cache_seconds=ttl)


def _clock() -> FrozenClock:
    return FrozenClock(dt.datetime.now(dt.UTC))


def test_good_answer_is_reused_within_the_ttl_and_asked_again_after(
        pki: TestPKI, responder: tuple[Responder, str]) -> None:
    answering, url = responder
    subject = pki.issue(iin=IIN)
    clock = _clock()
    checker = _checker(url, clock, ttl=60)
    for _ in range(4):
        checker.check(subject.certificate, pki.issuing_certificate)
    assert answering.hits == 1
    clock.advance(dt.timedelta(seconds=59))
    checker.check(subject.certificate, pki.issuing_certificate)
    assert answering.hits == 1
    clock.advance(dt.timedelta(seconds=1))
    checker.check(subject.certificate, pki.issuing_certificate)
    assert answering.hits == 2


def test_cache_is_per_certificate(pki: TestPKI, responder: tuple[Responder, str]) -> None:
    answering, url = responder
    first, second = pki.issue(iin=IIN), pki.issue(iin=IIN)
    checker = _checker(url, _clock())
    checker.check(first.certificate, pki.issuing_certificate)
    checker.check(second.certificate, pki.issuing_certificate)
    checker.check(first.certificate, pki.issuing_certificate)
    assert answering.hits == 2


def test_good_answer_is_never_reused_past_its_next_update(pki: TestPKI,
                                                          responder: tuple[Responder, str]) -> None:
    answering, url = responder
    answering.next_update = dt.timedelta(seconds=20)
    subject = pki.issue(iin=IIN)
    clock = _clock()
    checker = _checker(url, clock, ttl=600)
    checker.check(subject.certificate, pki.issuing_certificate)
    clock.advance(dt.timedelta(seconds=10))
    checker.check(subject.certificate, pki.issuing_certificate)
    assert answering.hits == 1
    clock.advance(dt.timedelta(seconds=11))  # past nextUpdate, long before the TTL
    checker.check(subject.certificate, pki.issuing_certificate)
    assert answering.hits == 2


def test_revocation_is_seen_once_the_ttl_has_passed(pki: TestPKI, responder: tuple[Responder, str]) -> None:
    answering, url = responder
    subject = pki.issue(iin=IIN)
    clock = _clock()
    checker = _checker(url, clock, ttl=60)
    checker.check(subject.certificate, pki.issuing_certificate)
    answering.status = ocsp.OCSPCertStatus.REVOKED
    checker.check(subject.certificate, pki.issuing_certificate)  # within the TTL: the cached "good"
    clock.advance(dt.timedelta(seconds=60))
    with pytest.raises(CertificateRevoked) as info:
        checker.check(subject.certificate, pki.issuing_certificate)
    assert info.value.reason is RefusalReason.REVOKED
    assert info.value.context["source"] == "OCSP" and "keyCompromise" in info.value.detail
    # "revoked" is final and is cached too: the same refusal without asking again
    hits = answering.hits
    with pytest.raises(CertificateRevoked) as again:
        checker.check(subject.certificate, pki.issuing_certificate)
    assert answering.hits == hits
    assert again.value.detail == info.value.detail
    assert again.value.context["serial"] == format(subject.certificate.serial_number, "x")


def test_ttl_zero_asks_every_time(pki: TestPKI, responder: tuple[Responder, str]) -> None:
    answering, url = responder
    subject = pki.issue(iin=IIN)
    checker = _checker(url, _clock(), ttl=0)
    for _ in range(3):
        checker.check(subject.certificate, pki.issuing_certificate)
    assert answering.hits == 3
    answering.status = ocsp.OCSPCertStatus.REVOKED
    with pytest.raises(CertificateRevoked):
        checker.check(subject.certificate, pki.issuing_certificate)


def test_failed_and_unknown_answers_are_not_cached(pki: TestPKI, responder: tuple[Responder, str]) -> None:
    answering, url = responder
    subject = pki.issue(iin=IIN)
    checker = _checker(url, _clock())
    answering.broken = True
    for _ in range(2):
        with pytest.raises(SignatureRefused) as info:
            checker.check(subject.certificate, pki.issuing_certificate)
        assert info.value.reason is RefusalReason.REVOCATION_UNKNOWN
    answering.broken = False
    answering.status = ocsp.OCSPCertStatus.UNKNOWN
    for _ in range(2):
        with pytest.raises(SignatureRefused) as info:
            checker.check(subject.certificate, pki.issuing_certificate)
        assert info.value.reason is RefusalReason.REVOCATION_UNKNOWN
    assert answering.hits == 4
    answering.status = ocsp.OCSPCertStatus.GOOD
    checker.check(subject.certificate, pki.issuing_certificate)
    checker.check(subject.certificate, pki.issuing_certificate)
    assert answering.hits == 5


def test_negative_ttl_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        RevocationChecker(RevocationPolicy.OCSP, ocsp_cache_seconds=-1)


def test_setting_defaults_to_sixty_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EGOV_OCSP_CACHE_SECONDS", raising=False)
    assert load_settings().ocsp_cache_seconds == 60
    monkeypatch.setenv("EGOV_OCSP_CACHE_SECONDS", "0")
    assert load_settings().ocsp_cache_seconds == 0
