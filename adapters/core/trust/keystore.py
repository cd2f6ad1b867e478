"""Key material loaded once from a PKCS#12 keystore (the form in which the NCA delivers keys)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from adapters.core.errors import KeystoreError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class KeyMaterial:
    """A private key, its certificate and the chain that came with it. Immutable, load once."""

    private_key: PrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = field(default=())

    @classmethod
    def from_pkcs12(cls, source: str | Path | bytes, password: str | bytes | None) -> KeyMaterial:
        if isinstance(source, bytes):
            data = source
        else:
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
        return pkcs12.serialize_key_and_certificates(
            name.encode(), self.private_key, self.certificate, list(self.chain) or None,
            serialization.BestAvailableEncryption(password.encode()),
        )

    def private_key_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)
