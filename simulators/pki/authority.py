"""The two certification authorities of the test PKI: a root and an issuing CA.

Modelled on the NCA's hierarchy (a root "ҰКО" certificate that relying parties trust and an
issuing CA that signs end-entity certificates, CRLs and OCSP answers). Keys are stored as
unencrypted PKCS#8 PEM readable only by the owner: this is a *test* PKI.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from adapters.core.errors import ConfigurationError
from adapters.core.private_files import refuse_if_exposed, write_private
from adapters.core.trust.keystore import PrivateKey

ROOT_NAME = x509.Name([
    x509.NameAttribute(NameOID.COMMON_NAME, "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (TEST ROOT)"),
    x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
])
ISSUING_NAME = x509.Name([
    x509.NameAttribute(NameOID.COMMON_NAME, "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (TEST RSA)"),
    x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
])


@dataclass(frozen=True)
class Authority:
    """A CA: its key and certificate."""

    key: PrivateKey
    certificate: x509.Certificate

    def save(self, cert_path: Path, key_path: Path) -> None:
        cert_path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        write_private(key_path, self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))

    @classmethod
    def load(cls, cert_path: Path, key_path: Path) -> Authority:
        refuse_if_exposed(key_path, what="test PKI: CA key")
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"test PKI: cannot load CA from {cert_path} / {key_path}: {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigurationError(f"test PKI: {key_path} is not an RSA key")
        return cls(key=key, certificate=cert)


def _ski(key: PrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def make_root(now: dt.datetime, *, years: int = 20) -> Authority:
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    cert = (
        x509.CertificateBuilder()
        .subject_name(ROOT_NAME).issuer_name(ROOT_NAME)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     key_cert_sign=True, crl_sign=True, encipher_only=False,
                                     decipher_only=False), critical=True)
        .add_extension(_ski(key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(key=key, certificate=cert)


def make_issuing(root: Authority, now: dt.datetime, *, years: int = 10) -> Authority:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(ISSUING_NAME).issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     key_cert_sign=True, crl_sign=True, encipher_only=False,
                                     decipher_only=False), critical=True)
        .add_extension(_ski(key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()),
                       critical=False)
        .sign(root.key, hashes.SHA256())
    )
    return Authority(key=key, certificate=cert)
