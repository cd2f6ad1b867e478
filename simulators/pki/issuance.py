"""End-entity certificates in the NCA layout, and the PKCS#12 keys handed to their holders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from adapters.core.trust import roles as nca
from adapters.core.trust.keystore import KeyMaterial, PrivateKey
from simulators.pki.authority import Authority

Usage = Literal["sign", "auth"]
KeyType = Literal["rsa", "ec"]

LOCALITY = "ASTANA"
STATE = "ASTANA"


@dataclass(frozen=True)
class IssuedKey:
    """A key pair issued by the test PKI, as the NCA hands it out (PKCS#12 with the chain)."""

    key_material: KeyMaterial

    @property
    def certificate(self) -> x509.Certificate:
        return self.key_material.certificate

    @property
    def private_key(self) -> PrivateKey:
        return self.key_material.private_key

    @property
    def serial(self) -> str:
        """Serial number in lower-case hex (the form used by the index, the CLI and ``SignerInfo``)."""
        return format(self.certificate.serial_number, "x")

    def to_pkcs12(self, password: str) -> bytes:
        return self.key_material.to_pkcs12(password, name=self.serial)

    def write_pkcs12(self, path: str | Path, password: str) -> Path:
        """The PKCS#12 written to ``path``, readable by its owner only (0600)."""
        return self.key_material.write_pkcs12(path, password, name=self.serial)


@dataclass(frozen=True)
class SubjectSpec:
    """Who the certificate is for (already validated)."""

    iin: str
    surname: str
    given_name: str | None
    common_name: str
    bin: str | None = None
    org: str | None = None

    def name(self) -> x509.Name:
        attrs = [
            x509.NameAttribute(NameOID.COMMON_NAME, self.common_name),
            x509.NameAttribute(NameOID.SURNAME, self.surname),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{self.iin}"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, LOCALITY),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, STATE),
        ]
        if self.org is not None:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.org))
        if self.bin is not None:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{self.bin}"))
        if self.given_name:
            attrs.append(x509.NameAttribute(NameOID.GIVEN_NAME, self.given_name))
        return x509.Name(attrs)


def generate_key(key_type: KeyType) -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_usage(usage: Usage) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=usage == "sign",
                         key_encipherment=usage == "auth", data_encipherment=False, key_agreement=False,
                         key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False)


def build_certificate(issuer: Authority, subject: SubjectSpec, key: PrivateKey, *, usage: Usage,
                      role_oids: Sequence[x509.ObjectIdentifier], not_before: dt.datetime,
                      not_after: dt.datetime, base_url: str) -> x509.Certificate:
    ekus = list(role_oids) + ([nca.CLIENT_AUTH] if usage == "auth" else [])
    return (
        x509.CertificateBuilder()
        .subject_name(subject.name())
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(usage), critical=True)
        .add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(nca.POLICY_OID, None)]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityInformationAccess([
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                   x509.UniformResourceIdentifier(f"{base_url}/ocsp")),
            x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                   x509.UniformResourceIdentifier(f"{base_url}/certs/issuing.cer")),
        ]), critical=False)
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(f"{base_url}/crl/issuing.crl")],
            relative_name=None, reasons=None, crl_issuer=None)]), critical=False)
        .sign(issuer.key, hashes.SHA256())
    )
