"""The keys a user of the simulated NCALayer holds: PKCS#12 files, chosen per request by key type.

Real NCALayer opens a dialog where the user picks a file and types its password; the simulator has
them picked ahead (``egov ncalayer --p12 F --password-file P``, repeatable) and answers each request
with the key of the type asked: ``AUTHENTICATION`` a key whose certificate is for client
authentication, ``SIGNATURE`` one for signing (non-repudiation), anything else the first key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from adapters.core.errors import KeystoreError
from adapters.core.private_files import read_secret_text
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.trust.subject import describe_name, signer_info

AUTHENTICATION = "AUTHENTICATION"
SIGNATURE = "SIGNATURE"


@dataclass(frozen=True)
class StoredKey:
    """One PKCS#12 key of the user, as NCALayer lists it."""

    alias: str
    material: KeyMaterial

    @property
    def usage(self) -> str:
        """``auth`` or ``sign``, as the certificate says (``adapters.core.trust.subject``)."""
        return signer_info(self.material.certificate).usage

    def info(self) -> dict[str, Any]:
        """The ``getKeyInfo`` answer's ``responseObject`` (NCALayer's field names; times in ms since the
        epoch, as strings)."""
        cert = self.material.certificate
        subject_cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        issuer_cn = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
        return {
            "alias": self.alias,
            "keyId": format(cert.serial_number, "x"),
            "algorithm": "RSA" if isinstance(self.material.private_key, rsa.RSAPrivateKey) else "ECDSA",
            "subjectCn": str(subject_cn[0].value) if subject_cn else "",
            "subjectDn": describe_name(cert.subject),
            "issuerCn": str(issuer_cn[0].value) if issuer_cn else "",
            "issuerDn": describe_name(cert.issuer),
            "serialNumber": format(cert.serial_number, "x"),
            "certNotBefore": str(int(cert.not_valid_before_utc.timestamp() * 1000)),
            "certNotAfter": str(int(cert.not_valid_after_utc.timestamp() * 1000)),
            "pem": cert.public_bytes(Encoding.PEM).decode("ascii"),
        }


class KeyChoice:
    """The keys the user chose, in the order given; picks one per key type."""

    def __init__(self, keys: list[StoredKey]) -> None:
        if not keys:
            raise KeystoreError("NCALayer needs at least one key (a PKCS#12 file)")
        self.keys = tuple(keys)

    @classmethod
    def from_files(cls, files: list[tuple[Path, str]]) -> KeyChoice:
        """Keys from (PKCS#12 path, password) pairs."""
        return cls([StoredKey(path.name, KeyMaterial.from_pkcs12(path, password)) for path, password in files])

    @classmethod
    def from_paths(cls, p12: list[Path], password_files: list[Path]) -> KeyChoice:
        """Keys from PKCS#12 paths and their password files: one password file per key, in the same
        order, or one for all."""
        if len(password_files) not in (1, len(p12)):
            raise KeystoreError(f"{len(p12)} keystores and {len(password_files)} password files: give one "
                                "password file per keystore, or one for all")
        passwords = [read_secret_text(p, what="keystore password") for p in password_files]
        pairs = [(path, passwords[i] if len(passwords) > 1 else passwords[0]) for i, path in enumerate(p12)]
        return cls.from_files(pairs)

    def pick(self, key_type: str) -> StoredKey:
        """The key for ``key_type`` (see the module); the first key for any other type."""
        wanted = {AUTHENTICATION: "auth", SIGNATURE: "sign"}.get(key_type)
        if wanted is None:
            return self.keys[0]
        for key in self.keys:
            if key.usage == wanted:
                return key
        raise LookupError(f"no {key_type} key among the chosen keystores")
