"""The application being filled in the wizard, step by step, and the form it becomes when signed.

The draft's id is the application's idempotency key at E-licensing: pressing "Sign and send" twice
(or a lost answer retried) registers one application. The submission time is fixed when the
document to sign is first made, so the browser signs the same bytes the portal then sends.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from adapters.contracts.elicense import ATTACHMENTS_MAX_TOTAL_BYTES
from adapters.core.errors import ValidationError
from adapters.elicense import Address, Applicant, ApplicationForm, Payment
from adapters.elicense.models import AttachmentRef


@dataclass
class UploadedFile:
    """A document attached in the wizard: its name on the form, the file's name, digest and size."""

    document: str
    file_name: str
    sha256: str
    size: int


@dataclass
class Draft:
    service_code: str
    app_type: str = "ISSUE"
    licence_number: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    territory_code: str | None = None
    sub_types: list[str] = field(default_factory=list)
    applicant: dict[str, str] = field(default_factory=dict)
    """Name, address, phone: pre-filled from the profile (the Legal Entities register), editable."""
    attachments: list[UploadedFile] = field(default_factory=list)
    payment: dict[str, str] | None = None
    """amount_paid, document_number, document_date, amount_due, receipt_id."""
    payment_order: str | None = None
    """The payment gateway's order, when paid through it."""
    submitted_at: dt.datetime | None = None
    channel: str = "portal"
    """``portal``: the applicant applies; ``desk``: the licensor's employee enters the application of an
    applicant who brought paper documents (Diagram 2), and signs it with the employee's key."""
    applicant_iin_bin: str | None = None
    """The applicant, on the desk (on the portal it is the one logged in)."""
    paper_documents: str | None = None
    """On the desk: the paper documents the applicant brought."""

    def total_bytes(self) -> int:
        return sum(a.size for a in self.attachments)

    def check_room(self, size: int) -> None:
        """Refuse a file that would take the attachments past 30 MB in total."""
        if self.total_bytes() + size > ATTACHMENTS_MAX_TOTAL_BYTES:
            raise ValidationError("attachments", f"{self.total_bytes() + size} bytes in total, more than "
                                                 f"{ATTACHMENTS_MAX_TOTAL_BYTES} (30 MB)")

    def form(self, iin_bin: str, now: dt.datetime) -> ApplicationForm:
        """The application form of this draft for the applicant ``iin_bin``; the submission time is
        fixed on the first call."""
        if self.territory_code is None:
            raise ValidationError("territory", "not chosen (step 1 of the wizard)")
        if not self.applicant:
            raise ValidationError("applicant", "personal data not confirmed (step 2 of the wizard)")
        if self.payment is None and self.channel == "portal":
            raise ValidationError("payment", "no payment information (step 4 of the wizard)")
        if self.submitted_at is None:
            self.submitted_at = now.replace(microsecond=0)
        a = self.applicant
        address = Address(postal_index=a["postal_index"], city_kato=a["city_kato"], city_name=a["city_name"],
                          street_ru=a["street_ru"], street_kz=a.get("street_kz") or None, house=a["house"],
                          flat=a.get("flat") or None)
        applicant = Applicant(iin_bin=iin_bin, name=a["name"], is_small_business=a.get("small_business") == "1",
                              is_sole_proprietor=a.get("sole_proprietor") == "1", address=address, phone=a["phone"],
                              fax=a.get("fax") or None, email=a.get("email") or None)
        p = self.payment
        payment = None if p is None else Payment(
            amount_paid=Decimal(p["amount_paid"]), document_number=p["document_number"],
            document_date=dt.date.fromisoformat(p["document_date"]), amount_due=Decimal(p["amount_due"]),
            receipt_id=p.get("receipt_id") or None)
        return ApplicationForm(app_type=self.app_type, service_code=self.service_code,  # type: ignore[arg-type]
                               licence_number=self.licence_number, applicant=applicant,
                               territory_code=self.territory_code, sub_types=tuple(self.sub_types), payment=payment,
                               attachments=tuple(AttachmentRef(file_name=f.file_name, sha256=f.sha256, size=f.size)
                                                 for f in self.attachments),
                               paper_documents=self.paper_documents or None, submitted_at=self.submitted_at)
