"""What the steps need from each external system: one port per system, and the bundle of them.

The steps of both diagrams talk only through these protocols. :class:`~procedure.clients.ProcedureClients`
provides the systems' ports from the real adapters; the applicant's bank and the place documents
are written are given by the caller (the deployment, or a test harness playing the applicant).
Signatures name only what the steps pass; an adapter may accept more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from cryptography import x509

from adapters.core.clock import Clock
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.trust.subject import SignerInfo
from adapters.elicense import (
    ApplicationDetails,
    ApplicationForm,
    ApplicationInfo,
    Catalogue,
    MissingDocument,
    Session,
    SignedLicence,
    SignedRefusal,
    StatusNotice,
)
from adapters.elicense.models import AttachmentRef, RegisteredApplicant, UploadedAttachment
from adapters.elicense.upload import AttachmentSource
from adapters.legal_entities import LookupOutcome
from adapters.payment_gateway import CreateOutcome, PaymentOrder, PaymentOrderRequest, Receipt

__all__ = ["ApplicantBank", "Artefacts", "CertificateCheck", "Elicensing", "LegalEntities", "PaymentGateway",
           "ProcedurePorts", "StatusNotices", "StepJournal"]


class Elicensing(Protocol):
    """E-licensing: accounts and sessions, the catalogue, attachments, applications, decisions, licences."""

    def register_applicant(self, auth_key: KeyMaterial, password: str, *,
                           iin_bin: str | None = None) -> RegisteredApplicant: ...

    def authorize_applicant(self, auth_key: KeyMaterial, password: str, *, iin_bin: str | None = None) -> Session: ...

    def authorize_employee(self, login: str, password: str) -> Session: ...

    def get_catalogue(self) -> Catalogue: ...

    def attachment_refs(self, files: Mapping[str, AttachmentSource]) -> tuple[AttachmentRef, ...]: ...

    def upload_attachment(self, session: Session, file_name: str,
                          content: AttachmentSource) -> UploadedAttachment: ...

    def sign_application(self, form: ApplicationForm, signing: Any) -> bytes: ...

    def register_application(self, session: Session, signed_application: bytes, *,
                             idempotency_key: str) -> ApplicationInfo: ...

    def start_processing(self, session: Session, number: str) -> ApplicationInfo: ...

    def issue(self, session: Session, number: str, *, idempotency_key: str) -> ApplicationDetails: ...

    def refuse(self, session: Session, number: str, missing: Sequence[MissingDocument], *,
               idempotency_key: str) -> ApplicationDetails: ...

    def get_licence(self, number: str) -> SignedLicence: ...


class PaymentGateway(Protocol):
    """The e-Government payment gateway: the fee order, its status and its signed receipt."""

    def create_order(self, order: PaymentOrderRequest, *, message_id: str | None = None) -> CreateOutcome: ...

    def get_status(self, order_id: str) -> PaymentOrder: ...

    def wait_until_final(self, order_id: str, *, deadline: float, initial: float = 0.5) -> PaymentOrder: ...

    def get_receipt(self, order_id: str) -> Receipt: ...


class LegalEntities(Protocol):
    """The Legal Entities database, asked through the e-Government gateway."""

    def lookup_bin(self, bin_value: str, *, correlation_id: str | None = None) -> LookupOutcome: ...


class CertificateCheck(Protocol):
    """Certificate validation: chain, validity period, revocation, usage and the expected BIN."""

    def validate(self, cert: x509.Certificate, *, chain: Sequence[x509.Certificate] = (),
                 usage: Literal["sign", "auth"] | None = "sign", expect_bin: str | None = None) -> SignerInfo: ...


class StatusNotices(Protocol):
    """E-licensing's status notices, consumed from the gateway (each acknowledged once read)."""

    def fetch(self, *, application_number: str | None = None) -> list[StatusNotice]: ...

    def wait(self, *, application_number: str | None = None, deadline: float = 30.0) -> list[StatusNotice]: ...


class ApplicantBank(Protocol):
    """The applicant's bank (Diagram 1 step 4): asked to pay a fee order the payment gateway holds.

    The bank pays or declines; either way the gateway learns it, and Condition 2 reads the order's
    status from the gateway, not from here."""

    def pay(self, order: PaymentOrder) -> None: ...


class StepJournal(Protocol):
    """The exchange journal seen from the runner: the rows of one step's exchanges written in one
    transaction when the step's implementation ends (:meth:`adapters.core.journal.ExchangeJournal.batch`)."""

    def batch(self) -> AbstractContextManager[None]: ...


class Artefacts(Protocol):
    """Where the flow writes the documents it receives: the licence, the refusal letter (XML and PDF)."""

    def write_licence(self, signed: SignedLicence, *, suffix: str = "") -> tuple[Path, Path]: ...

    def write_refusal(self, signed: SignedRefusal, qualification_rows: Sequence[Mapping[str, Any]], *,
                      recipient: str | None = None) -> tuple[Path, Path]: ...


@dataclass(frozen=True)
class ProcedurePorts:
    """Every port the steps use, and the clock they read."""

    elicense: Elicensing
    payment: PaymentGateway
    legal_entities: LegalEntities
    certificates: CertificateCheck
    notices: StatusNotices
    bank: ApplicantBank
    artefacts: Artefacts
    clock: Clock
    journal: StepJournal | None = None
    """The exchange journal of the ports' adapters, batched per step by the runner; None: none (or
    rows written one by one)."""
