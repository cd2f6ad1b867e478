"""What the licensor's head signs on the desk, through NCALayer, before the portal passes it on.

The regulation: the electronic licence is "formed with the EDS of the provider's authorised person".
So a decision to issue has E-licensing prepare the licence (``PrepareLicence``: the unsigned document,
number and all), the head signs that licence in the browser (NCALayer ``signXml``, SIGNATURE key),
and ``Decide`` carries it back: the licence the applicant receives is the head's own signature.

A refusal is a ``Decision`` document the portal makes (the missing documents, a comment each) and
the head signs the same way; E-licensing's contract has the refusal letter signed on its side, so
the head's signed decision is what the portal checks before it asks E-licensing to refuse.

Either way the portal keeps what it handed out (:class:`Pending`) and accepts it back only signed by
a first head of the employee's licensor (the certificate's BIN and role, chain, validity,
revocation), and only the very document handed out (compared canonically); E-licensing checks the
signed licence again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from lxml import etree

from adapters.core.errors import ValidationError
from adapters.core.xmlsig import VerificationService, VerifiedDocument
from adapters.elicense import MissingDocument

DECISION_NS = "urn:egov-adapters:portal:decision"


@dataclass(frozen=True)
class Pending:
    """A document handed to the browser for the head to sign, kept to compare with what comes back."""

    kind: str
    """``issue`` (the prepared licence) or ``refuse`` (the ``Decision`` document)."""
    document: bytes
    special_conditions: str | None = None
    """Of an issue: the special conditions the licence was prepared with (Decide repeats them)."""


def _el(name: str) -> str:
    return f"{{{DECISION_NS}}}{name}"


def decision_document(*, number: str, kind: str, licensor_bin: str, decided_at: dt.datetime,
                      special_conditions: str | None, missing: list[MissingDocument]) -> bytes:
    """The unsigned ``Decision``: issue or refuse application ``number`` (with the missing documents)."""
    if kind not in ("issue", "refuse"):
        raise ValidationError("kind", "must be 'issue' or 'refuse'", value=kind)
    if kind == "refuse" and not missing:
        raise ValidationError("missing", "a refusal names at least one missing document with a comment")
    root = etree.Element(_el("Decision"), nsmap={None: DECISION_NS})
    for name, value in (("ApplicationNumber", number), ("Kind", kind), ("LicensorBin", licensor_bin),
                        ("DecidedAt", decided_at.replace(microsecond=0).isoformat())):
        etree.SubElement(root, _el(name)).text = value
    if special_conditions:
        etree.SubElement(root, _el("SpecialConditions")).text = special_conditions
    if missing:
        rows = etree.SubElement(root, _el("MissingDocuments"))
        for m in missing:
            row = etree.SubElement(rows, _el("MissingDocument"))
            etree.SubElement(row, _el("Document")).text = m.document
            etree.SubElement(row, _el("Comment")).text = m.comment
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))


def _c14n(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, method="c14n", exclusive=True))


def accept_signed(signed: bytes, made: bytes, *, licensor_bin: str,
                  verification: VerificationService) -> VerifiedDocument:
    """The signed document, when it is ``made`` (the decision, the prepared licence) signed by a first
    head of the licensor ``licensor_bin`` (:class:`~adapters.core.errors.SignatureRefused` or
    :class:`ValidationError` naming why not)."""
    verified = verification.verify_document(signed, usage="sign", expect_bin=licensor_bin,
                                            required_roles=("first-head",))
    if _c14n(verified.root) != _c14n(etree.fromstring(made)):
        raise ValidationError("signed_xml", "the signed document is not the one the desk handed out to sign")
    return verified


def decision_key(number: str, made: bytes) -> str:
    """E-licensing's idempotency key of the decision: one per decision document."""
    return f"desk-{number}-{hashlib.sha256(made).hexdigest()[:24]}"


def read_decision(made: bytes) -> tuple[str, str | None, list[MissingDocument]]:
    """(kind, special conditions, missing documents) of a decision the desk made."""
    root = etree.fromstring(made)
    kind = root.findtext(_el("Kind")) or ""
    special = root.findtext(_el("SpecialConditions"))
    missing = [MissingDocument(document=row.findtext(_el("Document")) or "", comment=row.findtext(_el("Comment")) or "")
               for row in root.iterfind(f"{_el('MissingDocuments')}/{_el('MissingDocument')}")]
    return kind, special, missing
