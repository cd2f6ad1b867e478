"""Pydantic models of the E-licensing contract: catalogue, application, statuses, decisions, licence,
search (UniversalLicense), survey. Field names are ours (snake_case); the XML names are in
``schemas/elicense``."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.core.identifiers import parse_identifier

ApplicationType = Literal["ISSUE", "REISSUE", "DUPLICATE", "APPENDIX"]
ApplicationStatus = Literal["SENT", "IN_PROGRESS", "ISSUED", "REFUSED"]
LicenceKind = Literal["ORIGINAL", "REISSUED", "DUPLICATE"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- catalogue

class CodeName(_Model):
    code: str
    name_ru: str
    name_kz: str
    name_en: str | None = None


class ServiceInfo(CodeName):
    """One of the five services and its sub-types (appendix data)."""

    licensor_level: Literal["committee", "territorial"]
    sub_types: tuple[CodeName, ...]


class LicensorInfo(CodeName):
    bin: str
    territory_code: str


class TerritoryInfo(CodeName):
    kind: Literal["country", "region", "city"]


class Catalogue(_Model):
    activity_type: CodeName
    services: tuple[ServiceInfo, ...]
    licensors: tuple[LicensorInfo, ...]
    territories: tuple[TerritoryInfo, ...]

    def service(self, code: str) -> ServiceInfo:
        for s in self.services:
            if s.code == code:
                return s
        raise KeyError(code)

    def licensor(self, code: str) -> LicensorInfo:
        for lic in self.licensors:
            if lic.code == code:
                return lic
        raise KeyError(code)


# --------------------------------------------------------------------------- sessions

class Session(_Model):
    """An authorised session (Condition 1)."""

    token: str = Field(repr=False)
    role: Literal["applicant", "employee"]
    subject: str
    """IIN/BIN of the applicant, or the employee's login."""
    licensor_code: str | None = None
    expires_at: dt.datetime
    email: str | None = None
    """An applicant's profile: the email typed at registration (None when none was given)."""
    phone: str | None = None
    """An applicant's profile: the phone typed at registration."""


class RegisteredApplicant(_Model):
    iin_bin: str
    name: str


class AuthChallenge(_Model):
    """A one-time challenge of E-licensing (``GetChallenge``): the applicant signs ``document``, as
    received, with the AUTH key before ``expires_at``."""

    document: bytes = Field(repr=False)
    """The exact bytes of the ``AuthChallenge`` document."""
    expires_at: dt.datetime


# --------------------------------------------------------------------------- application form

class Address(_Model):
    postal_index: str = Field(min_length=1)
    city_kato: str = Field(pattern=r"^\d{9}$")
    city_name: str = Field(min_length=1)
    street_ru: str = Field(min_length=1)
    street_kz: str | None = None
    house: str = Field(min_length=1)
    flat: str | None = None


class Applicant(_Model):
    """Personal data of the application form."""

    iin_bin: str
    name: str = Field(min_length=1)
    is_small_business: bool = False
    is_sole_proprietor: bool = False
    address: Address
    phone: str = Field(min_length=1)
    fax: str | None = None
    email: str | None = None
    head_name: str | None = None
    """The head (first executive) of the applicant: a refusal letter is addressed to them."""

    @field_validator("iin_bin")
    @classmethod
    def _valid_identifier(cls, value: str) -> str:
        return parse_identifier(value, "applicant.iin_bin").value


class Payment(_Model):
    """Payment information (e.g. 16180.00000 KZT paid, document No. 90102 of 01.11.2012)."""

    amount_paid: Decimal = Field(ge=0)
    currency: Literal["KZT"] = "KZT"
    document_number: str = Field(min_length=1)
    document_date: dt.date
    amount_due: Decimal = Field(ge=0)
    receipt_id: str | None = None


class AttachmentRef(_Model):
    """A file referenced from the signed application: name, SHA-256 (hex), size."""

    file_name: str = Field(min_length=1, max_length=255)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class UploadedAttachment(AttachmentRef):
    id: str


class AttachmentContent(AttachmentRef):
    """A file attached to an application, as E-licensing keeps it (its SHA-256 and size checked)."""

    content: bytes = Field(repr=False)


class ApplicationForm(_Model):
    """The application the applicant signs. ``registered_at`` is not here: the state body sets it."""

    app_type: ApplicationType = "ISSUE"
    service_code: str
    licence_number: str | None = None
    """The existing licence, for REISSUE, DUPLICATE and APPENDIX."""
    applicant: Applicant
    territory_code: str = Field(pattern=r"^\d{9}$")
    activity_code: str = "M65"
    sub_types: tuple[str, ...] = ()
    payment: Payment | None = None
    attachments: tuple[AttachmentRef, ...] = ()
    paper_documents: str | None = None
    """Employee channel: the paper documents brought in."""
    special_conditions: str | None = None
    """Special conditions of the licence's validity the applicant asks for (the licence carries them)."""
    submitted_at: dt.datetime


class StatusEntry(_Model):
    status: ApplicationStatus
    status_name: str
    """Russian (the memo's status); ``status_name_kz`` the Kazakh."""
    status_name_kz: str | None = None
    changed_at: dt.datetime
    comment: str | None = None


class Signer(_Model):
    """Who signed the application (full name, IIN, city)."""

    full_name: str
    iin: str
    bin: str | None = None
    city: str | None = None


class ApplicationInfo(_Model):
    """Application information, as the applicant sees it after submitting."""

    number: str
    application_type: ApplicationType
    application_type_name: str
    """Russian; ``application_type_name_kz``, ``category_kz``, ``status_name_kz`` the Kazakh."""
    application_type_name_kz: str | None = None
    category: str
    category_kz: str | None = None
    channel: Literal["portal", "employee"]
    status: ApplicationStatus
    status_name: str
    status_name_kz: str | None = None
    service_code: str
    applicant: Applicant
    applicant_details: str
    submitted_at: dt.datetime
    registered_at: dt.datetime
    licensor: CodeName
    payment: Payment | None = None
    payment_information: str
    territory: CodeName
    activity_type: CodeName
    sub_types: tuple[CodeName, ...] = ()
    attachments: tuple[AttachmentRef, ...] = ()
    signer: Signer
    licence_number: str | None = None
    target_licence_number: str | None = None
    status_history: tuple[StatusEntry, ...]


# --------------------------------------------------------------------------- decisions and documents

class MissingDocument(_Model):
    """A row of the refusal letter: ``document`` and ``comment`` in Russian, and in Kazakh."""

    document: str = Field(min_length=1)
    comment: str = Field(min_length=1)
    document_kz: str | None = None
    comment_kz: str | None = None


class KzRu(_Model):
    """One text in Kazakh and Russian, as a signed document carries it."""

    kz: str
    ru: str


class Person(_Model):
    full_name: str
    iin: str
    position: str


class IssuingBody(CodeName):
    bin: str


class Appendix(_Model):
    number: int
    licence_number: str
    """The licence the appendix belongs to."""
    issue_date: dt.date
    sub_types: tuple[CodeName, ...]


class Licensee(_Model):
    iin_bin: str
    name: str
    address: str


class Licence(_Model):
    """The electronic licence."""

    number: str
    global_unique_number: str
    kind: LicenceKind
    mark: KzRu | None = None
    """A duplicate's (ТЕЛНҰСҚА / ДУБЛИКАТ) or a re-issued licence's mark."""
    application_number: str
    previous_licence_number: str | None = None
    licensee: Licensee
    activity_type: CodeName
    special_conditions: str
    issuing_body: IssuingBody
    head: Person
    issue_date: dt.date
    issue_place: KzRu
    """The licensor's seat."""
    validity_start_date: dt.date
    validity_end_date: dt.date | None = None
    duplicate_date: dt.date | None = None
    territory: CodeName
    appendices: tuple[Appendix, ...] = ()


class Addressee(_Model):
    full_name: str
    """The applicant's head."""
    organisation: str
    address: str


class RefusalLetter(_Model):
    """The refusal letter, in Kazakh and Russian as the regulation's sample."""

    date: dt.date
    state_body: IssuingBody
    state_body_address: KzRu
    addressee: Addressee
    salutation: KzRu
    application_number: str
    application_type: ApplicationType
    licence_number: str | None = None
    sent_on: dt.datetime
    activity_type: CodeName
    text: KzRu
    missing_documents: tuple[MissingDocument, ...]
    head: Person


class SignedDocument(_Model):
    """A verified signed document: its exact bytes and who signed it."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    xml: bytes = Field(repr=False)
    signer: Any = None
    """``adapters.core.trust.subject.SignerInfo`` of the signer."""


class SignedLicence(SignedDocument):
    licence: Licence
    status: str | None = None
    """Registry status (ACTIVE, REISSUED...) when fetched by number."""


class SignedRefusal(SignedDocument):
    letter: RefusalLetter


class ApplicationDetails(_Model):
    """Application information with the decision's document, when there is one."""

    application: ApplicationInfo
    licence: SignedLicence | None = None
    refusal: SignedRefusal | None = None


class StatusNotice(_Model):
    """A status change pushed by E-licensing through the gateway's async channel."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    message_id: str
    application_number: str
    status: ApplicationStatus
    status_name: str
    status_name_kz: str | None = None
    changed_at: dt.datetime
    licensor_code: str
    applicant_iin_bin: str
    licence_number: str | None = None
    comment: str | None = None
    signer: Any = None


# --------------------------------------------------------------------------- survey

class SurveyAnswer(enum.StrEnum):
    NOT_SATISFIED = "NOT_SATISFIED"
    PARTLY_SATISFIED = "PARTLY_SATISFIED"
    SATISFIED = "SATISFIED"


class SurveyIndicator(_Model):
    """Answers to one question of the survey, of one service and licensor, over the period asked."""

    service_code: str
    licensor_code: str | None = None
    question: Literal["SERVICE_QUALITY", "INFORMATION_QUALITY"]
    answers: int
    satisfied: int
    partly_satisfied: int
    not_satisfied: int
    satisfied_share: Decimal
    partly_satisfied_share: Decimal
    satisfied_or_partly_share: Decimal


# --------------------------------------------------------------------------- search (UniversalLicense)

class SystemInfo(_Model):
    message_id: str
    chain_id: str | None = None
    message_date: dt.datetime
    message_type: Literal["Request", "Response", "Notification", "Error", "Other"]
    service_id: str
    response_code: str | None = None
    additional_info: str | None = None
    sender_id: str
    digital_signature: str | None = None
    signature_type: Literal["None", "XmlDsig", "Pkcs7", "Other"] = "None"


class LicenseSearch(_Model):
    """Criteria of ``UniversalLicenseRequest`` (plus our LicensiarCode and Name)."""

    iin_bin: str | None = None
    number: str | None = None
    """``NumberNikadUinrd``: the licence number."""
    issue_date: dt.date | None = None
    activity_codes: tuple[str, ...] = ()
    licensor_code: str | None = None
    name: str | None = None
    page_index: int = Field(0, ge=0)
    page_size: int = Field(20, ge=1, le=100)


class UniversalLicense(_Model):
    iin_bin: str
    series: str | None = None
    number: str
    global_unique_number: str
    issue_date: dt.date
    validity_start_date: dt.date | None = None
    validity_end_date: dt.date | None = None
    activity_type: CodeName
    licensiar: CodeName
    stop_suspend_duplicate_date: dt.date | None = None
    suspending_start_date: dt.date | None = None
    suspending_end_date: dt.date | None = None
    status: str
    document_url: str | None = None
    licensee_name: str | None = None


class UniversalLicenseResponse(_Model):
    system_info: SystemInfo
    total_count: int
    licenses: tuple[UniversalLicense, ...]
