"""An RFC 6960 OCSP responder for the issuing CA (answers signed by the issuing CA itself)."""

from __future__ import annotations

import datetime as dt
import logging

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from adapters.core.clock import Clock
from simulators.pki.authority import Authority
from simulators.pki.store import CertificateIndex

log = logging.getLogger(__name__)

OCSP_VALIDITY = dt.timedelta(minutes=10)


class OcspResponder:
    """Answers "good", "revoked" (time and reason) or "unknown" from the certificate index."""

    def __init__(self, issuer: Authority, index: CertificateIndex, clock: Clock) -> None:
        self._issuer = issuer
        self._index = index
        self._clock = clock
        self._hashes: dict[str, tuple[bytes, bytes]] = {}
        """CertID hashes of the issuer by hash algorithm name (the issuer never changes)."""

    def _issuer_hashes(self, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
        """CertID hashes of our issuer: of its subject name, and of its public key; computed once per algorithm."""
        cached = self._hashes.get(algorithm.name)
        if cached is None:
            cached = self._hashes[algorithm.name] = self._compute_issuer_hashes(algorithm)
        return cached

    def _compute_issuer_hashes(self, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
        """Of its subject name, and of its public key (via a probe request)."""
        cert = self._issuer.certificate
        name_hash = hashes.Hash(algorithm)
        name_hash.update(cert.subject.public_bytes())
        # add_certificate hashes the *issuer's* key: the probe's own serial and name do not matter.
        probe = ocsp.OCSPRequestBuilder().add_certificate(cert, cert, algorithm).build()
        return name_hash.finalize(), probe.issuer_key_hash

    def respond(self, request_der: bytes) -> bytes:
        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except (ValueError, NotImplementedError) as exc:
            # NotImplementedError: several certificates in one request, which cryptography cannot
            # parse; clients (ours, OpenSSL with one -cert) ask one at a time.
            log.info("OCSP request refused: %s", exc)
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        try:
            algorithm = request.hash_algorithm
        except UnsupportedAlgorithm:  # a CertID hash cryptography does not know
            return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        if (request.issuer_name_hash, request.issuer_key_hash) != self._issuer_hashes(algorithm):
            return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)

        now = self._clock.now().replace(microsecond=0)
        record = self._index.find(format(request.serial_number, "x"))
        revocation_time: dt.datetime | None = None
        reason: x509.ReasonFlags | None = None
        if record is None:
            status = ocsp.OCSPCertStatus.UNKNOWN
        elif record.revoked_at is not None:
            status = ocsp.OCSPCertStatus.REVOKED
            revocation_time, reason = record.revoked_at, record.reason
        else:
            status = ocsp.OCSPCertStatus.GOOD
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(request.issuer_name_hash, request.issuer_key_hash, request.serial_number,
                                  algorithm, status, now, now + OCSP_VALIDITY, revocation_time, reason)
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self._issuer.certificate)
        )
        for ext in request.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                builder = builder.add_extension(ext.value, critical=False)
        response = builder.sign(self._issuer.key, hashes.SHA256())
        return response.public_bytes(serialization.Encoding.DER)


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)
