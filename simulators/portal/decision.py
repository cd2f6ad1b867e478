"""What the licensor's head signs on the desk, through NCALayer, before the portal passes it on.

The regulation: the electronic licence is "formed with the EDS of the provider's authorised person".
So a decision has E-licensing prepare the document it gives (``PrepareLicence``: the unsigned licence,
number and all; ``PrepareRefusal``: the refusal letter with the missing documents), the head signs
that very document in the browser (NCALayer ``signXml``, SIGNATURE key), and ``Decide`` carries it
back: the licence or letter the applicant receives carries the head's own signature.

The portal keeps what it handed out (:class:`Pending`) and accepts it back only signed by a first head
of the employee's licensor (the certificate's BIN and role, chain, validity, revocation), and only the
very document handed out (compared canonically), before it asks E-licensing to decide; E-licensing
checks the signed document again against the one the decision gives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from adapters.core.errors import ValidationError
from adapters.core.xmlsig import VerificationService, VerifiedDocument
from adapters.elicense import MissingDocument

KINDS = ("issue", "refuse")


@dataclass(frozen=True)
class Pending:
    """A document handed to the browser for the head to sign, kept to compare with what comes back."""

    kind: str
    """``issue`` (the prepared licence) or ``refuse`` (the prepared refusal letter)."""
    document: bytes
    special_conditions: str | None = None
    """Of an issue: the special conditions the licence was prepared with (Decide repeats them)."""
    missing: tuple[MissingDocument, ...] = field(default_factory=tuple)
    """Of a refusal: the missing documents the letter was prepared with (Decide repeats them)."""

    def __post_init__(self) -> None:
        check_decision(self.kind, self.missing)


def check_decision(kind: str, missing: Sequence[MissingDocument]) -> None:
    """A decision is to issue or to refuse, and a refusal names at least one missing document."""
    if kind not in KINDS:
        raise ValidationError("kind", "must be 'issue' or 'refuse'", value=kind)
    if kind == "refuse" and not missing:
        raise ValidationError("missing", "a refusal names at least one missing document with a comment")


def _c14n(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, method="c14n", exclusive=True))


def accept_signed(signed: bytes, made: bytes, *, licensor_bin: str,
                  verification: VerificationService) -> VerifiedDocument:
    """The signed document, when it is ``made`` (the prepared licence or letter) signed by a first head
    of the licensor ``licensor_bin`` (:class:`~adapters.core.errors.SignatureRefused` or
    :class:`ValidationError` naming why not)."""
    verified = verification.verify_document(signed, usage="sign", expect_bin=licensor_bin,
                                            required_roles=("first-head",))
    if _c14n(verified.root) != _c14n(etree.fromstring(made)):
        raise ValidationError("signed_xml", "the signed document is not the one the desk handed out to sign")
    return verified


def decision_key(number: str, made: bytes) -> str:
    """E-licensing's idempotency key of the decision: one per document signed."""
    return f"desk-{number}-{hashlib.sha256(made).hexdigest()[:24]}"
