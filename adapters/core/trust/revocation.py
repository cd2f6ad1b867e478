"""Is a certificate revoked? OCSP (RFC 6960) and CRL checks under an explicit policy.

Every answer is verified against the issuer before it is believed: the OCSP response signature
(by the issuer itself or by a delegated responder certificate with id-kp-OCSPSigning issued by it),
the nonce we sent, the CertID and the freshness window; the CRL signature, issuer name and
nextUpdate. A CRL is cached until its nextUpdate (bounded by ``crl_cache_ttl``).

OCSP answers (policy decision of the lead): a verified "good" or "revoked" answer is cached per
(issuer, serial) for at most ``ocsp_cache_seconds`` (default 60 s, ``EGOV_OCSP_CACHE_SECONDS``)
and never beyond the answer's nextUpdate; failed or unverifiable answers and "unknown" are never
cached. A revocation is therefore seen at most ``ocsp_cache_seconds`` after it happened (0: at
once, every check asks the responder). "Revoked" may be cached: revocation is final. The cache is
bounded (LRU, ``OCSP_CACHE_MAX_ENTRIES``) and shared by the threads using the checker.

Policies: ``ocsp`` (OCSP only), ``crl`` (CRL only), ``ocsp-then-crl`` (CRL when OCSP does not give
a usable answer: unreachable, HTTP error, unsigned or badly signed), ``none`` (no check). An OCSP
answer of "unknown" is final: the responder does not know the certificate, a CRL would not either.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cachetools import LRUCache
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import (
    ConfigurationError,
    RefusalReason,
    ResponseTooLargeError,
    SignatureRefused,
    TransportError,
)
from adapters.core.http import HttpTransport, NetworkTransport, Timeouts
from adapters.core.trust.revocation_policy import RevocationPolicy as RevocationPolicy  # re-exported
from adapters.core.trust.subject import describe_certificate, describe_name

CLOCK_SKEW = dt.timedelta(minutes=5)
"""Tolerance on OCSP thisUpdate/nextUpdate and CRL nextUpdate."""

DEFAULT_OCSP_CACHE_SECONDS = 60.0
OCSP_CACHE_MAX_ENTRIES = 4096
"""Bound of the OCSP answer cache; the least recently used answer goes first."""


class CertificateRevoked(SignatureRefused):
    """The certificate is revoked (says OCSP or the CRL)."""

    def __init__(self, detail: str, **context: object) -> None:
        super().__init__(RefusalReason.REVOKED, detail, **context)


class RevocationUnknown(SignatureRefused):
    """No source gave a usable answer under the policy."""

    def __init__(self, detail: str, **context: object) -> None:
        super().__init__(RefusalReason.REVOCATION_UNKNOWN, detail, **context)


class _Unavailable(Exception):
    """A source gave no usable answer (internal: turned into RevocationUnknown or a fallback)."""


@dataclass(frozen=True, slots=True)
class _OcspAnswer:
    """A verified OCSP answer worth remembering: good, or revoked (with when/why/where)."""

    expires_at: dt.datetime
    revoked_at: dt.datetime | None = None
    reason: str = ""
    url: str = ""


class _OcspCache:
    """Thread-safe LRU of verified OCSP answers keyed by (issuer fingerprint, serial)."""

    def __init__(self, max_entries: int = OCSP_CACHE_MAX_ENTRIES) -> None:
        self._entries: LRUCache[tuple[bytes, int], _OcspAnswer] = LRUCache(maxsize=max_entries)
        self._lock = threading.Lock()

    def get(self, key: tuple[bytes, int], now: dt.datetime) -> _OcspAnswer | None:
        with self._lock:
            answer = self._entries.get(key)
            if answer is None:
                return None
            if now >= answer.expires_at:
                del self._entries[key]
                return None
            return answer

    def put(self, key: tuple[bytes, int], answer: _OcspAnswer) -> None:
        with self._lock:
            self._entries[key] = answer

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _reason_text(reason: x509.ReasonFlags | None) -> str:
    return (reason or x509.ReasonFlags.unspecified).value


def _verify_signed_by(issuer_key: object, signature: bytes, data: bytes,
                      algorithm: hashes.HashAlgorithm | None) -> None:
    if algorithm is None:
        raise _Unavailable("unsupported signature algorithm")
    try:
        if isinstance(issuer_key, rsa.RSAPublicKey):
            issuer_key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(issuer_key, ec.EllipticCurvePublicKey):
            issuer_key.verify(signature, data, ec.ECDSA(algorithm))
        else:
            raise _Unavailable(f"unsupported issuer key type {type(issuer_key).__name__}")
    except InvalidSignature as exc:
        raise _Unavailable("signature does not verify against the issuer") from exc


class RevocationChecker:
    """Checks revocation of one certificate against its issuer, under a :class:`RevocationPolicy`.

    ``ocsp_url`` / ``crl_url`` override the URLs in the certificate (AIA / CRL distribution point);
    ``crl_path`` reads the CRL from a local file (offline operation) instead of fetching it.
    ``ocsp_cache_seconds`` bounds how long a verified OCSP answer is reused (0 disables the cache;
    see the module docstring for what is cached). OCSP and CRL fetches go through ``http`` (default:
    a pooled :class:`~adapters.core.http.NetworkTransport`), each with ``timeout`` seconds to connect
    and ``timeout`` seconds between bytes of the answer, and ``2 * timeout`` seconds in all (a
    responder that drips its answer is cut there); a network failure or an HTTP status other than
    200 makes that source unavailable.
    """

    def __init__(self, policy: RevocationPolicy | str = RevocationPolicy.OCSP_THEN_CRL, *,
                 http: HttpTransport | None = None, timeout: float = 5.0,
                 ocsp_url: str | None = None, crl_url: str | None = None,
                 crl_path: str | os.PathLike[str] | None = None,
                 crl_cache_ttl: dt.timedelta = dt.timedelta(hours=1),
                 ocsp_cache_seconds: float = DEFAULT_OCSP_CACHE_SECONDS,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.policy = RevocationPolicy(policy)
        if timeout <= 0:
            raise ConfigurationError("revocation timeout must be positive")
        if ocsp_cache_seconds < 0:
            raise ConfigurationError(f"ocsp_cache_seconds must be 0 or more, got {ocsp_cache_seconds}")
        self.ocsp_cache_ttl = dt.timedelta(seconds=ocsp_cache_seconds)
        self._ocsp_cache = _OcspCache()
        self.timeout = timeout
        self._timeouts = Timeouts(timeout, timeout, 2 * timeout)
        self._http: HttpTransport = http or NetworkTransport(timeouts=self._timeouts)
        self.ocsp_url = ocsp_url
        self.crl_url = crl_url
        self.crl_path = Path(crl_path) if crl_path is not None else None
        self.crl_cache_ttl = crl_cache_ttl
        self.clock = clock
        self._crl_cache: dict[str, tuple[x509.CertificateRevocationList, dt.datetime]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ entry point

    def check(self, cert: x509.Certificate, issuer: x509.Certificate) -> None:
        """Return if the certificate is not revoked; raise ``SignatureRefused`` otherwise."""
        if self.policy is RevocationPolicy.NONE:
            return
        problems: list[str] = []
        if self.policy in (RevocationPolicy.OCSP, RevocationPolicy.OCSP_THEN_CRL):
            try:
                self._check_ocsp(cert, issuer)
                return
            except _Unavailable as exc:
                problems.append(f"OCSP: {exc}")
                if self.policy is RevocationPolicy.OCSP:
                    raise self._unknown(cert, problems) from exc
        try:
            self._check_crl(cert, issuer)
        except _Unavailable as exc:
            problems.append(f"CRL: {exc}")
            raise self._unknown(cert, problems) from exc

    def _unknown(self, cert: x509.Certificate, problems: list[str]) -> RevocationUnknown:
        return RevocationUnknown(f"{describe_certificate(cert)}: no usable revocation answer under policy "
                                 f"{self.policy.value} ({'; '.join(problems)})",
                                 serial=format(cert.serial_number, "x"))

    # ------------------------------------------------------------------ OCSP

    def _ocsp_url_for(self, cert: x509.Certificate) -> str:
        if self.ocsp_url:
            return self.ocsp_url
        try:
            aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        except x509.ExtensionNotFound as exc:
            raise _Unavailable("no OCSP URL (no AIA extension and no override)") from exc
        for desc in aia:
            if (desc.access_method == AuthorityInformationAccessOID.OCSP
                    and isinstance(desc.access_location, x509.UniformResourceIdentifier)):
                return desc.access_location.value
        raise _Unavailable("no OCSP URL in the AIA extension")

    def _check_ocsp(self, cert: x509.Certificate, issuer: x509.Certificate) -> None:
        if not self.ocsp_cache_ttl:
            self._ask_ocsp(cert, issuer, None)
            return
        key = (issuer.fingerprint(hashes.SHA256()), cert.serial_number)
        cached = self._ocsp_cache.get(key, self.clock.now())
        if cached is None:
            self._ask_ocsp(cert, issuer, key)
        elif cached.revoked_at is not None:
            raise self._revoked(cert, cached.revoked_at, cached.reason, cached.url)

    def _remember(self, key: tuple[bytes, int] | None, next_update: dt.datetime | None, now: dt.datetime,
                  revoked_at: dt.datetime | None = None, reason: str = "", url: str = "") -> None:
        if key is None:
            return
        expires = now + self.ocsp_cache_ttl
        if next_update is not None:
            expires = min(expires, next_update)
        if expires > now:
            self._ocsp_cache.put(key, _OcspAnswer(expires, revoked_at, reason, url))

    @staticmethod
    def _revoked(cert: x509.Certificate, when: dt.datetime, reason: str, url: str) -> CertificateRevoked:
        return CertificateRevoked(
            f"{describe_certificate(cert)} revoked at {when:%Y-%m-%d %H:%M:%S}Z, reason {reason} "
            f"(source: OCSP {url})",
            serial=format(cert.serial_number, "x"), revoked_at=when, revocation_reason=reason,
            source="OCSP")

    def _ask_ocsp(self, cert: x509.Certificate, issuer: x509.Certificate,
                  cache_key: tuple[bytes, int] | None) -> None:
        """Ask the responder; a verified good/revoked answer is remembered under ``cache_key``."""
        url = self._ocsp_url_for(cert)
        nonce = os.urandom(16)
        # SHA-1 CertID: an identifier, not a security primitive, and what every responder supports.
        request = (ocsp.OCSPRequestBuilder()
                   .add_certificate(cert, issuer, hashes.SHA1())
                   .add_extension(x509.OCSPNonce(nonce), critical=False)
                   .build())
        body = request.public_bytes(serialization.Encoding.DER)
        try:
            reply = self._http.request("POST", url, body=body, timeout=self._timeouts,
                                       headers={"Content-Type": "application/ocsp-request",
                                                "Accept": "application/ocsp-response"})
        except TransportError as exc:
            raise _Unavailable(f"{url} unreachable: {exc.context.get('kind')}") from exc
        except ResponseTooLargeError as exc:
            raise _Unavailable(f"{url} answered more than {exc.context.get('limit')} bytes") from exc
        except ConfigurationError as exc:  # the URL (from the certificate) cannot be sent to
            raise _Unavailable(str(exc)) from exc
        if reply.status != 200:
            raise _Unavailable(f"{url} answered HTTP {reply.status}")
        try:
            response = ocsp.load_der_ocsp_response(reply.body)
        except ValueError as exc:
            raise _Unavailable(f"{url} answered something that is not an OCSP response") from exc
        if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise _Unavailable(f"{url} answered {response.response_status.name}")
        self._verify_ocsp_signature(response, issuer)
        self._check_nonce(response, nonce)
        single = self._single_response(response, request)
        now = self.clock.now()
        if single.this_update_utc > now + CLOCK_SKEW:
            raise _Unavailable("OCSP answer thisUpdate is in the future")
        if single.next_update_utc is not None and single.next_update_utc < now - CLOCK_SKEW:
            raise _Unavailable("OCSP answer is stale (nextUpdate passed)")
        status = single.certificate_status
        if status is ocsp.OCSPCertStatus.GOOD:
            self._remember(cache_key, single.next_update_utc, now)
            return
        if status is ocsp.OCSPCertStatus.REVOKED:
            when = single.revocation_time_utc
            if when is None:
                raise _Unavailable("OCSP answer 'revoked' without a revocation time")
            reason = _reason_text(single.revocation_reason)
            self._remember(cache_key, single.next_update_utc, now, when, reason, url)
            raise self._revoked(cert, when, reason, url)
        raise RevocationUnknown(f"{describe_certificate(cert)}: OCSP responder {url} answered 'unknown' "
                                "(the certificate is not known to its CA)",
                                serial=format(cert.serial_number, "x"), source="OCSP")

    def _verify_ocsp_signature(self, response: ocsp.OCSPResponse, issuer: x509.Certificate) -> None:
        signer = issuer
        if not self._responder_is(response, issuer):
            delegated = [c for c in response.certificates if self._responder_is(response, c)]
            if not delegated:
                raise _Unavailable("OCSP answer signed by an unknown responder")
            signer = delegated[0]
            try:
                signer.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature) as exc:
                raise _Unavailable("delegated OCSP responder certificate not issued by the CA") from exc
            try:
                eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            except x509.ExtensionNotFound as exc:
                raise _Unavailable("delegated OCSP responder certificate lacks id-kp-OCSPSigning") from exc
            if ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
                raise _Unavailable("delegated OCSP responder certificate lacks id-kp-OCSPSigning")
            now = self.clock.now()
            if not signer.not_valid_before_utc <= now <= signer.not_valid_after_utc:
                raise _Unavailable("delegated OCSP responder certificate is outside its validity")
        _verify_signed_by(signer.public_key(), response.signature, response.tbs_response_bytes,
                          response.signature_hash_algorithm)

    @staticmethod
    def _responder_is(response: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
        if response.responder_name is not None:
            return response.responder_name == cert.subject
        key_hash = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
        return response.responder_key_hash == key_hash

    @staticmethod
    def _check_nonce(response: ocsp.OCSPResponse, nonce: bytes) -> None:
        for ext in response.extensions:
            if isinstance(ext.value, x509.OCSPNonce):
                if ext.value.nonce != nonce:
                    raise _Unavailable("OCSP answer nonce does not match the request (replayed answer?)")
                return
        # Responders may legitimately omit the nonce (pre-produced answers); freshness is then
        # enforced by thisUpdate/nextUpdate.

    @staticmethod
    def _single_response(response: ocsp.OCSPResponse, request: ocsp.OCSPRequest) -> ocsp.OCSPSingleResponse:
        for single in response.responses:
            if (single.serial_number == request.serial_number
                    and single.issuer_key_hash == request.issuer_key_hash
                    and single.issuer_name_hash == request.issuer_name_hash):
                return single
        raise _Unavailable("OCSP answer does not cover the requested certificate")

    # ------------------------------------------------------------------ CRL

    def _crl_source(self, cert: x509.Certificate) -> str:
        if self.crl_path is not None:
            return str(self.crl_path)
        if self.crl_url:
            return self.crl_url
        try:
            cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        except x509.ExtensionNotFound as exc:
            raise _Unavailable("no CRL URL (no distribution point and no override)") from exc
        for point in cdp:
            for name in point.full_name or ():
                if isinstance(name, x509.UniformResourceIdentifier) and name.value.startswith("http"):
                    return name.value
        raise _Unavailable("no HTTP CRL distribution point in the certificate")

    def _load_crl(self, source: str, issuer: x509.Certificate) -> x509.CertificateRevocationList:
        now = self.clock.now()
        with self._lock:
            cached = self._crl_cache.get(source)
        if cached is not None and now < cached[1]:
            return cached[0]
        crl = self._fetch_crl(source)
        if crl.issuer != issuer.subject:
            raise _Unavailable(f"CRL from {source} is issued by {describe_name(crl.issuer)}, "
                               f"not by {describe_name(issuer.subject)}")
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            raise _Unavailable(f"CRL from {source}: signature does not verify against the issuer")
        next_update = crl.next_update_utc
        if next_update is None:
            raise _Unavailable(f"CRL from {source} has no nextUpdate")
        if next_update < now - CLOCK_SKEW:
            raise _Unavailable(f"CRL from {source} is stale (nextUpdate {next_update:%Y-%m-%d %H:%M}Z)")
        with self._lock:
            self._crl_cache[source] = (crl, min(next_update, now + self.crl_cache_ttl))
        return crl

    def _fetch_crl(self, source: str) -> x509.CertificateRevocationList:
        if self.crl_path is not None and source == str(self.crl_path):
            try:
                data = self.crl_path.read_bytes()
            except OSError as exc:
                raise _Unavailable(f"cannot read CRL file {source}: {exc.strerror}") from exc
        else:
            try:
                reply = self._http.request("GET", source, timeout=self._timeouts)
            except TransportError as exc:
                raise _Unavailable(f"{source} unreachable: {exc.context.get('kind')}") from exc
            except ResponseTooLargeError as exc:
                raise _Unavailable(f"{source} answered more than {exc.context.get('limit')} bytes") from exc
            except ConfigurationError as exc:  # the URL (from the certificate) cannot be sent to
                raise _Unavailable(str(exc)) from exc
            if reply.status != 200:
                raise _Unavailable(f"{source} answered HTTP {reply.status}")
            data = reply.body
        try:
            if data.lstrip().startswith(b"-----BEGIN"):
                return x509.load_pem_x509_crl(data)
            return x509.load_der_x509_crl(data)
        except ValueError as exc:
            raise _Unavailable(f"{source} is not a CRL") from exc

    def _check_crl(self, cert: x509.Certificate, issuer: x509.Certificate) -> None:
        source = self._crl_source(cert)
        crl = self._load_crl(source, issuer)
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is None:
            return
        reason: x509.ReasonFlags | None = None
        with contextlib.suppress(x509.ExtensionNotFound):
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        when = entry.revocation_date_utc
        text = _reason_text(reason)
        raise CertificateRevoked(
            f"{describe_certificate(cert)} revoked at {when:%Y-%m-%d %H:%M:%S}Z, reason {text} (source: CRL {source})",
            serial=format(cert.serial_number, "x"), revoked_at=when, revocation_reason=text, source="CRL")


__all__ = ["DEFAULT_OCSP_CACHE_SECONDS", "OCSP_CACHE_MAX_ENTRIES", "CertificateRevoked", "RevocationChecker",
           "RevocationPolicy", "RevocationUnknown"]
