"""Reading the signer out of an NCA certificate: IIN, BIN, names, roles, usage."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID
from pydantic import BaseModel, ConfigDict

from adapters.core.trust.roles import CLIENT_AUTH, ROLE_NAMES

Usage = Literal["sign", "auth"]


class SignerInfo(BaseModel):
    """Who holds a certificate, as the NCA writes it in the subject and the extensions."""

    model_config = ConfigDict(frozen=True)

    iin: str | None
    """12 digits from ``SERIALNUMBER=IIN...``; None when the certificate carries none."""
    bin: str | None
    """12 digits from ``OU=BIN...``: present only for legal-entity employees."""
    common_name: str
    surname: str | None
    given_name: str | None
    """The patronymic (GIVENNAME in the NCA layout)."""
    organisation: str | None
    roles: tuple[str, ...]
    """Role names from :mod:`adapters.core.trust.roles` ("individual", "right-to-sign", ...)."""
    usage: Usage
    serial: str
    """Certificate serial number in lower-case hex."""
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime

    def describe(self) -> str:
        """One line for logs and the CLI."""
        who = f"{self.common_name} (IIN {self.iin})"
        if self.bin:
            who += f", {self.organisation or '?'} (BIN {self.bin})"
        return f"{who}; roles {', '.join(self.roles) or '-'}; {self.usage} key; serial {self.serial}"


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    if not attrs:
        return None
    value = attrs[0].value
    return value.decode() if isinstance(value, bytes) else value


def _prefixed_digits(value: str | None, prefix: str) -> str | None:
    if value and value.upper().startswith(prefix) and value[len(prefix):].isdigit():
        return value[len(prefix):]
    return None


def _ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def certificate_usage(cert: x509.Certificate) -> Usage:
    """"auth" for authentication keys (clientAuth or keyEncipherment without nonRepudiation), else "sign"."""
    ku = _ext(cert, ExtensionOID.KEY_USAGE)
    eku = _ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    if isinstance(ku, x509.KeyUsage) and ku.content_commitment:
        return "sign"
    if isinstance(eku, x509.ExtendedKeyUsage) and CLIENT_AUTH in eku:
        return "auth"
    if isinstance(ku, x509.KeyUsage) and ku.key_encipherment:
        return "auth"
    return "sign"


def certificate_roles(cert: x509.Certificate) -> tuple[str, ...]:
    eku = _ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    if not isinstance(eku, x509.ExtendedKeyUsage):
        return ()
    return tuple(ROLE_NAMES[oid] for oid in eku if oid in ROLE_NAMES)


def serial_hex(serial: int) -> str:
    return format(serial, "x")


def signer_info(cert: x509.Certificate) -> SignerInfo:
    """Read an NCA certificate's subject and extensions into a :class:`SignerInfo`."""
    subject = cert.subject
    ou_values = [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    bin_ = next((b for b in (_prefixed_digits(str(v), "BIN") for v in ou_values) if b), None)
    return SignerInfo(
        iin=_prefixed_digits(_attr(subject, NameOID.SERIAL_NUMBER), "IIN"),
        bin=bin_,
        common_name=_attr(subject, NameOID.COMMON_NAME) or subject.rfc4514_string(),
        surname=_attr(subject, NameOID.SURNAME),
        given_name=_attr(subject, NameOID.GIVEN_NAME),
        organisation=_attr(subject, NameOID.ORGANIZATION_NAME),
        roles=certificate_roles(cert),
        usage=certificate_usage(cert),
        serial=serial_hex(cert.serial_number),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


_NCA_NAMES = {NameOID.SURNAME: "SURNAME", NameOID.GIVEN_NAME: "GIVENNAME", NameOID.SERIAL_NUMBER: "SERIALNUMBER"}
"""RFC 4514 leaves these as bare OIDs; NCA certificates are read with these names."""


def describe_name(name: x509.Name) -> str:
    """A distinguished name as people read it on NCA certificates (``CN=…,SURNAME=…,SERIALNUMBER=IIN…``)."""
    return name.rfc4514_string(_NCA_NAMES)


def describe_certificate(cert: x509.Certificate) -> str:
    """How every refusal names a certificate: its serial (lower-case hex) and its subject."""
    return f"certificate serial {serial_hex(cert.serial_number)} ({describe_name(cert.subject)})"
