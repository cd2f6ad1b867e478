"""Key material loaded once from a PKCS#12 keystore (the form in which the NCA delivers keys).

A keystore file that other users may read is refused (:func:`adapters.core.private_files.refuse_if_exposed`):
its password is all that stands between them and the key. :meth:`KeyMaterial.write_pkcs12` writes
one readable by its owner only (0600).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from adapters.core.errors import KeystoreError
from adapters.core.private_files import refuse_if_exposed, write_private

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class KeyMaterial:
    """A private key, its certificate and the chain that came with it. Immutable, load once."""

    private_key: PrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = field(default=())

    @classmethod
    def from_pkcs12(cls, source: str | Path | bytes, password: str | bytes | None) -> KeyMaterial:
        """The key, certificate and chain of a PKCS#12 file (or its bytes). :class:`KeystoreError` when
        the file cannot be read, other users may read it, the password is wrong, or it holds no key."""
        if isinstance(source, bytes):
            data = source
        else:
            refuse_if_exposed(source, what="PKCS#12 keystore", error=KeystoreError)
            try:
                data = Path(source).read_bytes()
            except OSError as exc:
                raise KeystoreError(f"cannot read PKCS#12 keystore {source}: {exc}") from exc
        pw = password.encode() if isinstance(password, str) else password
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, pw)
        except ValueError as exc:
            raise KeystoreError(f"cannot open PKCS#12 keystore: {exc}") from exc
        if key is None or cert is None:
            raise KeystoreError("PKCS#12 keystore holds no private key or no certificate")
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeystoreError(f"unsupported key type {type(key).__name__}; RSA and ECDSA are supported")
        return cls(private_key=key, certificate=cert, chain=tuple(extra))

    def to_pkcs12(self, password: str, name: str = "key") -> bytes:
        """The key, its certificate and chain as PKCS#12 under ``password`` (an empty one is refused:
        :class:`KeystoreError`)."""
        if not password:
            raise KeystoreError("a PKCS#12 keystore needs a password of at least one character")
        return pkcs12.serialize_key_and_certificates(
            name.encode(), self.private_key, self.certificate, list(self.chain) or None,
            serialization.BestAvailableEncryption(password.encode()),
        )

    def write_pkcs12(self, path: str | Path, password: str, name: str = "key") -> Path:
        """:meth:`to_pkcs12` written to ``path``, readable by its owner only (0600), atomically."""
        return write_private(path, self.to_pkcs12(password, name))

    def private_key_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)
