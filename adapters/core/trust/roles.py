"""The object identifiers of Kazakhstan's National Certification Authority (NCA).

The NCA puts the signer's *role* in the extended key usage extension of the certificate: whether
the key belongs to an individual or to an employee of a legal entity, and which power the employee
holds (first head, right to sign, financial signing, HR, ordinary employee).
"""

from __future__ import annotations

from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from adapters.core.errors import ValidationError

#: Certificate policy of the NCA's end-entity certificates.
POLICY_OID = ObjectIdentifier("1.2.398.3.3.2.4")

INDIVIDUAL = ObjectIdentifier("1.2.398.3.3.4.1.1")
LEGAL_ENTITY = ObjectIdentifier("1.2.398.3.3.4.1.2")
FIRST_HEAD = ObjectIdentifier("1.2.398.3.3.4.1.2.1")
RIGHT_TO_SIGN = ObjectIdentifier("1.2.398.3.3.4.1.2.2")
FINANCIAL = ObjectIdentifier("1.2.398.3.3.4.1.2.3")
HR = ObjectIdentifier("1.2.398.3.3.4.1.2.4")
EMPLOYEE = ObjectIdentifier("1.2.398.3.3.4.1.2.5")

#: Role name -> OID, in the order used when printing roles.
ROLE_OIDS: dict[str, ObjectIdentifier] = {
    "individual": INDIVIDUAL,
    "legal-entity": LEGAL_ENTITY,
    "first-head": FIRST_HEAD,
    "right-to-sign": RIGHT_TO_SIGN,
    "financial": FINANCIAL,
    "hr": HR,
    "employee": EMPLOYEE,
}
ROLE_NAMES: dict[ObjectIdentifier, str] = {oid: name for name, oid in ROLE_OIDS.items()}

CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH


def role_oid(role: str) -> ObjectIdentifier:
    """The OID of a role given by name ("right-to-sign") or by dotted OID ("1.2.398.3.3.4.1.2.2")."""
    if role in ROLE_OIDS:
        return ROLE_OIDS[role]
    for oid in ROLE_OIDS.values():
        if role == oid.dotted_string:
            return oid
    raise ValidationError("roles", f"unknown NCA role {role!r}; known: {', '.join(ROLE_OIDS)}")


def role_name(role: str) -> str:
    """Normalise a role given by name or by OID to its name."""
    return ROLE_NAMES[role_oid(role)]
