"""Signer backends: who turns canonical SignedInfo bytes into a signature value.

A backend is built once from :class:`KeyMaterial` (the key is loaded once and reused for every
signature). RSA and ECDSA are implemented with ``cryptography``; GOST needs the national crypto
provider and is a documented future backend (see docs/signing.md).
"""

from __future__ import annotations

import hashlib
from typing import Protocol, runtime_checkable

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from adapters.core.errors import ConfigurationError
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.xmlsig import algorithms as alg
from adapters.core.xmlsig.config import SignatureConfig

_SIG_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    alg.RSA_SHA1: hashes.SHA1, alg.RSA_SHA256: hashes.SHA256,
    alg.RSA_SHA384: hashes.SHA384, alg.RSA_SHA512: hashes.SHA512,
    alg.ECDSA_SHA1: hashes.SHA1, alg.ECDSA_SHA256: hashes.SHA256,
    alg.ECDSA_SHA384: hashes.SHA384, alg.ECDSA_SHA512: hashes.SHA512,
}

_DIGESTS: dict[str, str] = {alg.SHA1: "sha1", alg.SHA256: "sha256", alg.SHA384: "sha384", alg.SHA512: "sha512"}


def digest(algorithm: str, data: bytes) -> bytes:
    """Digest ``data`` with the DigestMethod ``algorithm`` (a URI we know; checked by the caller)."""
    return hashlib.new(_DIGESTS[algorithm], data).digest()


def known_digest(algorithm: str) -> bool:
    return algorithm in _DIGESTS


def known_signature(algorithm: str) -> bool:
    return algorithm in _SIG_HASHES


@runtime_checkable
class SignerBackend(Protocol):
    """Produces XML-DSig signature values. Implementations hold their key; nothing is reloaded per call."""

    @property
    def algorithm(self) -> str:
        """SignatureMethod URI written into SignedInfo."""
        ...

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate, put into KeyInfo."""
        ...

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Intermediate certificates that came with the key (may be empty)."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Signature value over ``data`` (canonical SignedInfo), in XML-DSig encoding."""
        ...


class _KeyBackend:
    """What the RSA and ECDSA backends share: the algorithm, the certificate and its chain."""

    def __init__(self, key: KeyMaterial, algorithm: str) -> None:
        self._hash = _SIG_HASHES[algorithm]
        self._algorithm = algorithm
        self._certificate = key.certificate
        self._chain = key.chain

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self._chain


class RsaBackend(_KeyBackend):
    """RSA PKCS#1 v1.5 signatures (rsa-sha256 by default)."""

    def __init__(self, key: KeyMaterial, algorithm: str = alg.RSA_SHA256) -> None:
        if not isinstance(key.private_key, rsa.RSAPrivateKey):
            raise ConfigurationError("RsaBackend needs an RSA private key", setting="key")
        if algorithm not in (alg.RSA_SIGNATURES | {alg.RSA_SHA1}):
            raise ConfigurationError(f"{algorithm} is not an RSA signature algorithm", setting="algorithm")
        super().__init__(key, algorithm)
        self._key = key.private_key

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, padding.PKCS1v15(), self._hash())


class EcdsaBackend(_KeyBackend):
    """ECDSA signatures; the value is r || s, each padded to the curve size (RFC 4050 / XML-DSig 1.1)."""

    def __init__(self, key: KeyMaterial, algorithm: str = alg.ECDSA_SHA256) -> None:
        if not isinstance(key.private_key, ec.EllipticCurvePrivateKey):
            raise ConfigurationError("EcdsaBackend needs an EC private key", setting="key")
        if algorithm not in (alg.ECDSA_SIGNATURES | {alg.ECDSA_SHA1}):
            raise ConfigurationError(f"{algorithm} is not an ECDSA signature algorithm", setting="algorithm")
        super().__init__(key, algorithm)
        self._key = key.private_key
        self._size = (key.private_key.curve.key_size + 7) // 8

    def sign(self, data: bytes) -> bytes:
        r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(self._hash())))
        return r.to_bytes(self._size, "big") + s.to_bytes(self._size, "big")


def backend_for(key: KeyMaterial, config: SignatureConfig) -> SignerBackend:
    """The backend matching the key type, with the algorithm chosen by ``config``."""
    if isinstance(key.private_key, rsa.RSAPrivateKey):
        return RsaBackend(key, config.signature_algorithm)
    if isinstance(key.private_key, ec.EllipticCurvePrivateKey):
        return EcdsaBackend(key, config.ecdsa_signature_algorithm)
    raise ConfigurationError(f"no signer backend for key type {type(key.private_key).__name__}",
                             setting="key")


def verify_value(certificate: x509.Certificate, algorithm: str, data: bytes, value: bytes) -> bool:
    """True when ``value`` is a valid ``algorithm`` signature over ``data`` by ``certificate``'s key."""
    public_key = certificate.public_key()
    hash_cls = _SIG_HASHES[algorithm]
    try:
        if algorithm in alg.RSA_SIGNATURES | {alg.RSA_SHA1}:
            if not isinstance(public_key, rsa.RSAPublicKey):
                return False
            public_key.verify(value, data, padding.PKCS1v15(), hash_cls())
            return True
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or len(value) % 2:
            return False
        half = len(value) // 2
        der = encode_dss_signature(int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big"))
        public_key.verify(der, data, ec.ECDSA(hash_cls()))
        return True
    except InvalidSignature:
        return False
