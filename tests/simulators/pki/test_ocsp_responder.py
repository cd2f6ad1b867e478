"""The OCSP responder computes its issuer's CertID hashes once per hash algorithm, and answers as before."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from simulators.pki import IssuedKey, TestPKI
from simulators.pki.ocsp_responder import OcspResponder

IIN = "871008401427"


def _request(key: IssuedKey, issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    return (ocsp.OCSPRequestBuilder().add_certificate(key.certificate, issuer, algorithm).build()
            .public_bytes(serialization.Encoding.DER))


def test_issuer_hashes_are_computed_once_per_algorithm_and_answers_stay_right(
        pki: TestPKI, pki_factory: Callable[..., TestPKI], monkeypatch: pytest.MonkeyPatch) -> None:
    responder = OcspResponder(pki.issuing, pki.index, pki.clock)
    computed: list[str] = []
    original = responder._compute_issuer_hashes

    def counting(algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
        computed.append(algorithm.name)
        return original(algorithm)

    monkeypatch.setattr(responder, "_compute_issuer_hashes", counting)
    good, revoked = pki.issue(iin=IIN), pki.issue(iin=IIN)
    pki.revoke(revoked, reason="keyCompromise")
    other = pki_factory(base_url="http://127.0.0.1:1")
    foreign = other.issue(iin=IIN)

    for _ in range(3):
        for algorithm in (hashes.SHA1(), hashes.SHA256()):
            answer = ocsp.load_der_ocsp_response(responder.respond(_request(good, pki.issuing_certificate,
                                                                             algorithm)))
            assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
            assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
            assert answer.serial_number == good.certificate.serial_number
            assert answer.hash_algorithm.name == algorithm.name
            answer = ocsp.load_der_ocsp_response(responder.respond(_request(revoked, pki.issuing_certificate,
                                                                             algorithm)))
            assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
            assert answer.revocation_reason is x509.ReasonFlags.key_compromise
            # another issuer's CertID still does not match the cached hashes
            answer = ocsp.load_der_ocsp_response(responder.respond(_request(foreign, other.issuing_certificate,
                                                                             algorithm)))
            assert answer.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED
    assert sorted(computed) == ["sha1", "sha256"]


def test_cached_hashes_equal_those_of_a_client_request(pki: TestPKI) -> None:
    responder = OcspResponder(pki.issuing, pki.index, pki.clock)
    key = pki.issue(iin=IIN)
    for algorithm in (hashes.SHA1(), hashes.SHA256(), hashes.SHA384(), hashes.SHA512()):
        request = ocsp.load_der_ocsp_request(_request(key, pki.issuing_certificate, algorithm))
        expected = (request.issuer_name_hash, request.issuer_key_hash)
        assert responder._issuer_hashes(algorithm) == expected
        assert responder._issuer_hashes(algorithm) is responder._issuer_hashes(algorithm)
