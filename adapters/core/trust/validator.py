"""Certificate validation for signers: chain, validity, revocation, key usage, role, BIN and IIN.

The checks run in a fixed order and the first failing rule refuses the certificate with a
``SignatureRefused`` naming the certificate and the rule:

1. chain to a trust anchor (issuer signatures, CA basicConstraints and keyCertSign, path length)
   → ``UNTRUSTED_CHAIN``;
2. validity of every certificate of the path at ``at`` → ``CERT_EXPIRED`` / ``CERT_NOT_YET_VALID``;
3. revocation of the end-entity certificate (``RevocationChecker``) → ``REVOKED`` /
   ``REVOCATION_UNKNOWN``;
4. key usage ("sign" needs digitalSignature + nonRepudiation, "auth" digitalSignature + clientAuth)
   → ``KEY_USAGE``;
5. required NCA roles → ``ROLE``;
6. expected BIN (Condition 3 of the regulation) → ``BIN_MISMATCH``; expected IIN → ``IIN_MISMATCH``.

Revocation is asked as of now (OCSP answers the current status), also when ``at`` is in the past.

Path building is done here rather than with ``cryptography.x509.verification`` because that
verifier enforces Web-PKI profiles (clientAuth/serverAuth EKU, SAN) that NCA signing certificates
do not follow.

Caching: a counterpart signs every message with the same certificate, and rule 1 (issuer
signatures, CA constraints) plus reading the subject cost more than the message's own signature.
So the *path* found for a certificate (with the certificates that came with it) and its
:class:`SignerInfo` are kept in a bounded LRU, keyed by the certificates' DER. Only what depends
on nothing but those bytes and the fixed trust anchors is cached: rules 2–6 (validity at ``at``,
revocation, usage, roles, BIN/IIN) run on every call, in the same order, so a cached certificate
that has since expired or been revoked is still refused. Refusals are never cached.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from cachetools import LRUCache
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509.oid import ExtensionOID

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError, RefusalReason, SignatureRefused
from adapters.core.trust.revocation import RevocationChecker
from adapters.core.trust.roles import CLIENT_AUTH, role_name
from adapters.core.trust.subject import SignerInfo, describe_certificate, describe_name, signer_info

MAX_PATH_LENGTH = 6
PATH_CACHE_SIZE = 256
"""Distinct (certificate, accompanying chain) pairs whose path is remembered."""




def _ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    bc = _ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
    ku = _ext(cert, ExtensionOID.KEY_USAGE)
    return (isinstance(bc, x509.BasicConstraints) and bc.ca
            and (not isinstance(ku, x509.KeyUsage) or ku.key_cert_sign))


class _PathKey:
    """A (certificate, accompanying chain) tuple whose hash is computed once: hashing a
    certificate hashes its DER, and an LRU lookup hashes its key twice."""

    __slots__ = ("_hash", "certificates")

    def __init__(self, certificates: tuple[x509.Certificate, ...]) -> None:
        self.certificates = certificates
        self._hash = hash(certificates)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _PathKey) and other.certificates == self.certificates


class CertificateValidator:
    """Validates signer certificates against fixed trust anchors (e.g. the NCA root)."""

    def __init__(self, trust_anchors: Sequence[x509.Certificate],
                 intermediates: Sequence[x509.Certificate] = (), *,
                 revocation: RevocationChecker | None = None, clock: Clock = SYSTEM_CLOCK) -> None:
        if not trust_anchors:
            raise ConfigurationError("CertificateValidator needs at least one trust anchor")
        self.trust_anchors = tuple(trust_anchors)
        self.intermediates = tuple(intermediates)
        self.revocation = revocation
        self.clock = clock
        self._paths: LRUCache[_PathKey, tuple[list[x509.Certificate], SignerInfo]] = LRUCache(maxsize=PATH_CACHE_SIZE)
        self._paths_basis: tuple[tuple[x509.Certificate, ...], tuple[x509.Certificate, ...]] = \
            (self.trust_anchors, self.intermediates)
        self._paths_lock = threading.Lock()

    @classmethod
    def from_files(cls, ca_pem_paths: Sequence[str | Path],
                   intermediate_pem_paths: Sequence[str | Path] = (), *,
                   revocation: RevocationChecker | None = None,
                   clock: Clock = SYSTEM_CLOCK) -> CertificateValidator:
        """Trust anchors (and intermediates) from PEM files, each holding one or more certificates."""
        return cls(_load_pems(ca_pem_paths), _load_pems(intermediate_pem_paths),
                   revocation=revocation, clock=clock)

    # ------------------------------------------------------------------ entry point

    def validate(self, cert: x509.Certificate, *, chain: Sequence[x509.Certificate] = (),
                 usage: Literal["sign", "auth"] | None = "sign", required_roles: Sequence[str] = (),
                 expect_bin: str | None = None, expect_iin: str | None = None,
                 at: dt.datetime | None = None) -> SignerInfo:
        """Return who holds ``cert`` if every rule passes; raise ``SignatureRefused`` otherwise.

        ``chain`` are extra certificates that came with the signature (e.g. from a PKCS#12 or a
        KeyInfo); ``at`` is the time to judge validity at (default: now).
        """
        when = at or self.clock.now()
        key = _PathKey((cert, *chain))
        cached = self._cached_path(key)
        if cached is None:
            path = self._build_path(cert, chain)
            info = None
        else:
            path, info = cached
        self._check_validity(path, when)
        if self.revocation is not None and len(path) > 1:
            self.revocation.check(cert, path[1])
        if info is None:
            info = signer_info(cert)
            self._remember_path(key, path, info)
        self._check_usage(cert, usage)
        self._check_roles(cert, info, required_roles)
        if expect_bin is not None and info.bin != expect_bin:
            found = f"BIN {info.bin}" if info.bin else "no BIN (not a legal entity's certificate)"
            raise SignatureRefused(RefusalReason.BIN_MISMATCH,
                                   f"{describe_certificate(cert)} carries {found}, the request names BIN {expect_bin}",
                                   serial=info.serial, expected=expect_bin, found=info.bin)
        if expect_iin is not None and info.iin != expect_iin:
            found = f"IIN {info.iin}" if info.iin else "no IIN"
            raise SignatureRefused(RefusalReason.IIN_MISMATCH,
                                   f"{describe_certificate(cert)} carries {found}, expected IIN {expect_iin}",
                                   serial=info.serial, expected=expect_iin, found=info.iin)
        return info

    # ------------------------------------------------------------------ path cache

    def _cached_path(self, key: _PathKey) -> tuple[list[x509.Certificate], SignerInfo] | None:
        with self._paths_lock:
            anchors, intermediates = self._paths_basis
            if anchors is not self.trust_anchors or intermediates is not self.intermediates:
                # the anchors or intermediates were replaced: paths found before may not hold
                self._paths.clear()
                self._paths_basis = (self.trust_anchors, self.intermediates)
                return None
            return self._paths.get(key)

    def _remember_path(self, key: _PathKey, path: list[x509.Certificate],
                       info: SignerInfo) -> None:
        with self._paths_lock:
            self._paths[key] = (path, info)

    # ------------------------------------------------------------------ rules

    def _build_path(self, cert: x509.Certificate,
                    chain: Sequence[x509.Certificate]) -> list[x509.Certificate]:
        """[cert, intermediates..., anchor], or UNTRUSTED_CHAIN."""
        if cert in self.trust_anchors:
            return [cert]
        pool = [c for c in (*chain, *self.intermediates) if c != cert]
        path = [cert]
        current = cert
        while len(path) <= MAX_PATH_LENGTH:
            for anchor in self.trust_anchors:
                if anchor.subject == current.issuer and _issued_by(current, anchor):
                    if not _is_ca(anchor):
                        break
                    path.append(anchor)
                    self._check_path_lengths(path)
                    return path
            candidates = [c for c in pool if c.subject == current.issuer and c not in path
                          and _is_ca(c) and _issued_by(current, c)]
            if not candidates:
                break
            current = candidates[0]
            path.append(current)
        raise SignatureRefused(
            RefusalReason.UNTRUSTED_CHAIN,
            f"{describe_certificate(cert)}: no chain to a trusted root (stopped at issuer "
            f"{describe_name(current.issuer)}: no trusted CA with that name and a matching signature)",
            serial=format(cert.serial_number, "x"))

    @staticmethod
    def _check_path_lengths(path: list[x509.Certificate]) -> None:
        for depth, ca in enumerate(path[1:], start=1):
            bc = _ext(ca, ExtensionOID.BASIC_CONSTRAINTS)
            below = depth - 1  # intermediate CAs between this CA and the end entity
            if isinstance(bc, x509.BasicConstraints) and bc.path_length is not None and below > bc.path_length:
                raise SignatureRefused(RefusalReason.UNTRUSTED_CHAIN,
                                       f"{describe_certificate(ca)}: pathLenConstraint {bc.path_length} exceeded",
                                       serial=format(path[0].serial_number, "x"))

    @staticmethod
    def _check_validity(path: list[x509.Certificate], when: dt.datetime) -> None:
        for index, c in enumerate(path):
            role = "" if index == 0 else "CA "
            if when > c.not_valid_after_utc:
                raise SignatureRefused(
                    RefusalReason.CERT_EXPIRED,
                    f"{role}{describe_certificate(c)} expired at {c.not_valid_after_utc:%Y-%m-%d %H:%M:%S}Z "
                    f"(checked at {when:%Y-%m-%d %H:%M:%S}Z)", serial=format(c.serial_number, "x"))
            if when < c.not_valid_before_utc:
                raise SignatureRefused(
                    RefusalReason.CERT_NOT_YET_VALID,
                    f"{role}{describe_certificate(c)} is valid only from {c.not_valid_before_utc:%Y-%m-%d %H:%M:%S}Z "
                    f"(checked at {when:%Y-%m-%d %H:%M:%S}Z)", serial=format(c.serial_number, "x"))

    @staticmethod
    def _check_usage(cert: x509.Certificate, usage: Literal["sign", "auth"] | None) -> None:
        if usage is None:
            return
        bc = _ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
        ku = _ext(cert, ExtensionOID.KEY_USAGE)
        eku = _ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
        serial = format(cert.serial_number, "x")
        if isinstance(bc, x509.BasicConstraints) and bc.ca:
            raise SignatureRefused(RefusalReason.KEY_USAGE,
                                   f"{describe_certificate(cert)} is a CA certificate, not a signer's", serial=serial)
        if not isinstance(ku, x509.KeyUsage) or not ku.digital_signature:
            raise SignatureRefused(RefusalReason.KEY_USAGE,
                                   f"{describe_certificate(cert)}: keyUsage lacks digitalSignature", serial=serial)
        if usage == "sign" and not ku.content_commitment:
            raise SignatureRefused(RefusalReason.KEY_USAGE,
                                   f"{describe_certificate(cert)} is not a signing key (keyUsage lacks nonRepudiation; "
                                   "an authentication key may not sign documents)", serial=serial)
        if usage == "auth" and not (isinstance(eku, x509.ExtendedKeyUsage) and CLIENT_AUTH in eku):
            raise SignatureRefused(RefusalReason.KEY_USAGE,
                                   f"{describe_certificate(cert)} is not an authentication key (no clientAuth in "
                                   "extendedKeyUsage)", serial=serial)

    @staticmethod
    def _check_roles(cert: x509.Certificate, info: SignerInfo, required: Sequence[str]) -> None:
        missing = [name for name in (role_name(r) for r in required) if name not in info.roles]
        if missing:
            raise SignatureRefused(RefusalReason.ROLE,
                                   f"{describe_certificate(cert)} lacks role(s) {', '.join(missing)} "
                                   f"(has: {', '.join(info.roles) or 'none'})",
                                   serial=info.serial, missing=",".join(missing))


def _load_pems(paths: Sequence[str | Path]) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    for p in paths:
        try:
            certs.extend(x509.load_pem_x509_certificates(Path(p).read_bytes()))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot load certificates from {p}: {exc}") from exc
    return certs
