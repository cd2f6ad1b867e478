"""The E-licensing answers and signed documents, read with lxml into the adapter's models.

Each reader takes what has passed the schema check (``schemas/elicense/``): the payload
:class:`adapters.core.soap.ResponsePipeline` hands over, or a signed document (licence, refusal
letter, status notice) whose signature was verified and whose signed content matches the schema.
Contract, for every reader: texts are stripped, an empty element is no value; a required value
missing, a value that does not convert (a date, a number, base64) and a value the model refuses
are an :class:`InvalidResponseError` naming the field.
``tests/adapters/elicense/test_answers.py`` checks the readers against zeep's ``deserialize``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, ParamSpec, TypeVar

import pydantic
from lxml import etree

from adapters.contracts.elicense import EL_NS, UL_NS
from adapters.core.errors import InvalidResponseError
from adapters.elicense.models import (
    Address,
    Addressee,
    Appendix,
    Applicant,
    ApplicationInfo,
    AttachmentContent,
    AttachmentRef,
    AuthChallenge,
    Catalogue,
    CodeName,
    IssuingBody,
    KzRu,
    Licence,
    Licensee,
    LicensorInfo,
    MissingDocument,
    Payment,
    Person,
    RefusalLetter,
    RegisteredApplicant,
    ServiceInfo,
    Session,
    Signer,
    StatusEntry,
    StatusNotice,
    SurveyIndicator,
    SystemInfo,
    TerritoryInfo,
    UniversalLicense,
    UniversalLicenseResponse,
    UploadedAttachment,
)

P = ParamSpec("P")
T = TypeVar("T")


def _answer(what: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """A reader whose model refusals are :class:`InvalidResponseError` naming the field."""
    def decorate(read: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(read)
        def reading(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return read(*args, **kwargs)
            except pydantic.ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(part) for part in first["loc"]) or None
                raise InvalidResponseError(f"{what}: {field}: {first['msg']}", field=field) from exc
        return reading
    return decorate


class _Reader:
    """Reads children of one element in one namespace; a missing required child is an invalid answer."""

    def __init__(self, node: etree._Element, ns: str = EL_NS, what: str = "answer") -> None:
        self.node = node
        self.ns = ns
        self.what = what
        self._first: dict[Any, etree._Element] | None = None

    def child(self, name: str) -> etree._Element | None:
        """The first child called ``name`` (as ``find``), from an index of the children built once:
        readers ask for most children of their node, and the answer is not changed while read."""
        first = self._first
        if first is None:
            first = {}
            for c in self.node:
                first.setdefault(c.tag, c)
            self._first = first
        return first.get(f"{{{self.ns}}}{name}")

    def children(self, name: str) -> list[etree._Element]:
        return list(self.node.iterfind(f"{{{self.ns}}}{name}"))

    def opt(self, name: str) -> str | None:
        c = self.child(name)
        return None if c is None or c.text is None else c.text.strip()

    def req(self, name: str) -> str:
        value = self.opt(name)
        if value is None:
            raise InvalidResponseError(f"{self.what}: <{name}> is missing in <{etree.QName(self.node).localname}>",
                                       field=name)
        return value

    def sub(self, name: str) -> _Reader:
        c = self.child(name)
        if c is None:
            raise InvalidResponseError(f"{self.what}: <{name}> is missing", field=name)
        return _Reader(c, self.ns, self.what)

    def _converted(self, name: str, text: str, convert: Callable[[str], T]) -> T:
        try:
            return convert(text)
        except (ValueError, InvalidOperation, binascii.Error) as exc:
            raise InvalidResponseError(f"{self.what}: <{name}> {text[:40]!r} cannot be read", field=name) from exc

    def date(self, name: str) -> dt.date:
        return self._converted(name, self.req(name), dt.date.fromisoformat)

    def opt_date(self, name: str) -> dt.date | None:
        v = self.opt(name)
        return self._converted(name, v, dt.date.fromisoformat) if v else None

    def datetime(self, name: str) -> dt.datetime:
        value = self._converted(name, self.req(name), dt.datetime.fromisoformat)
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    def integer(self, name: str) -> int:
        return self._converted(name, self.req(name), int)

    def decimal(self, name: str) -> Decimal:
        return self._converted(name, self.req(name), Decimal)

    def boolean(self, name: str) -> bool:
        return self.req(name) in ("true", "1")

    def base64(self, name: str) -> bytes | None:
        """The decoded content of an optional ``xsd:base64Binary`` child (None when absent or empty)."""
        v = self.opt(name)
        return self._converted(name, v, lambda text: base64.b64decode(text, validate=True)) if v else None


def _code_name(r: _Reader) -> CodeName:
    return CodeName(code=r.req("Code"), name_ru=r.opt("NameRu") or "", name_kz=r.opt("NameKz") or "",
                    name_en=r.opt("NameEn"))


def _cn_fields(r: _Reader) -> dict[str, Any]:
    return _code_name(r).model_dump()


def _applicant(r: _Reader) -> Applicant:
    a = r.sub("Address")
    return Applicant(
        iin_bin=r.req("IinBin"), name=r.req("Name"), is_small_business=r.boolean("IsSmallBusiness"),
        is_sole_proprietor=r.boolean("IsSoleProprietor"),
        address=Address(postal_index=a.req("PostalIndex"), city_kato=a.req("CityKato"),
                        city_name=a.req("CityName"), street_ru=a.req("StreetRu"), street_kz=a.opt("StreetKz"),
                        house=a.req("House"), flat=a.opt("Flat")),
        phone=r.req("Phone"), fax=r.opt("Fax"), email=r.opt("Email"), head_name=r.opt("HeadName"))


def _payment(r: _Reader) -> Payment:
    return Payment(amount_paid=r.decimal("AmountPaid"), document_number=r.req("DocumentNumber"),
                   document_date=r.date("DocumentDate"), amount_due=r.decimal("AmountDue"),
                   receipt_id=r.opt("ReceiptId"))


def _attachment(r: _Reader) -> AttachmentRef:
    return AttachmentRef(file_name=r.req("FileName"), sha256=r.req("Sha256"), size=r.integer("Size"))


@_answer("application information")
def application_info(node: etree._Element) -> ApplicationInfo:
    """An ``ApplicationInfo`` element (of a registration, decision, look-up or list answer)."""
    r = _Reader(node, what="application information")
    pay = r.child("Payment")
    signer = r.sub("Signer")
    return ApplicationInfo(
        number=r.req("Number"), application_type=r.req("ApplicationType"),  # type: ignore[arg-type]
        application_type_name=r.req("ApplicationTypeName"), application_type_name_kz=r.opt("ApplicationTypeNameKz"),
        category=r.req("Category"), category_kz=r.opt("CategoryKz"), channel=r.req("Channel"),  # type: ignore[arg-type]
        status=r.req("Status"), status_name=r.req("StatusName"),  # type: ignore[arg-type]
        status_name_kz=r.opt("StatusNameKz"),
        service_code=r.req("ServiceCode"), applicant=_applicant(r.sub("Applicant")),
        applicant_details=r.req("ApplicantDetails"), submitted_at=r.datetime("SubmittedAt"),
        registered_at=r.datetime("RegisteredAt"), licensor=_code_name(r.sub("Licensor")),
        payment=_payment(_Reader(pay)) if pay is not None else None,
        payment_information=r.req("PaymentInformation"), territory=_code_name(r.sub("Territory")),
        activity_type=_code_name(r.sub("ActivityType")),
        sub_types=tuple(_code_name(_Reader(c)) for c in r.children("SubType")),
        attachments=tuple(_attachment(_Reader(c)) for c in r.children("Attachment")),
        signer=Signer(full_name=signer.req("FullName"), iin=signer.req("Iin"), bin=signer.opt("Bin"),
                      city=signer.opt("City")),
        licence_number=r.opt("LicenceNumber"), target_licence_number=r.opt("TargetLicenceNumber"),
        status_history=tuple(
            StatusEntry(status=e.req("Status"), status_name=e.req("StatusName"),  # type: ignore[arg-type]
                        status_name_kz=e.opt("StatusNameKz"),
                        changed_at=e.datetime("ChangedAt"), comment=e.opt("Comment"))
            for e in (_Reader(c) for c in r.sub("StatusHistory").children("Entry"))))


def _person(r: _Reader) -> Person:
    return Person(full_name=r.req("FullName"), iin=r.req("Iin"), position=r.req("Position"))


def _kz_ru(r: _Reader) -> KzRu:
    return KzRu(kz=r.opt("Kz") or "", ru=r.opt("Ru") or "")


def _issuing_body(r: _Reader) -> IssuingBody:
    return IssuingBody(**_cn_fields(r), bin=r.req("Bin"))


@_answer("licence")
def licence(root: etree._Element) -> Licence:
    """A verified ``Licence`` document."""
    r = _Reader(root, what="licence")
    ls = r.sub("Licensee")
    return Licence(
        number=r.req("Number"), global_unique_number=r.req("GlobalUniqueNumber"),
        kind=r.req("Kind"), application_number=r.req("ApplicationNumber"),  # type: ignore[arg-type]
        mark=_kz_ru(r.sub("Mark")) if r.child("Mark") is not None else None,
        previous_licence_number=r.opt("PreviousLicenceNumber"),
        licensee=Licensee(iin_bin=ls.req("IinBin"), name=ls.req("Name"), address=ls.req("Address")),
        activity_type=_code_name(r.sub("ActivityType")), special_conditions=r.opt("SpecialConditions") or "",
        issuing_body=_issuing_body(r.sub("IssuingBody")), head=_person(r.sub("Head")),
        issue_date=r.date("IssueDate"), issue_place=_kz_ru(r.sub("IssuePlace")),
        validity_start_date=r.date("ValidityStartDate"), validity_end_date=r.opt_date("ValidityEndDate"),
        duplicate_date=r.opt_date("DuplicateDate"), territory=_code_name(r.sub("Territory")),
        appendices=tuple(
            Appendix(number=a.integer("Number"), licence_number=a.req("LicenceNumber"),
                     issue_date=a.date("IssueDate"),
                     sub_types=tuple(_code_name(_Reader(s)) for s in a.children("SubType")))
            for a in (_Reader(c) for c in r.sub("Appendices").children("Appendix"))))


@_answer("refusal letter")
def refusal_letter(root: etree._Element) -> RefusalLetter:
    """A verified ``RefusalLetter`` document."""
    r = _Reader(root, what="refusal letter")
    ad = r.sub("Addressee")
    return RefusalLetter(
        date=r.date("Date"), state_body=_issuing_body(r.sub("StateBody")),
        state_body_address=_kz_ru(r.sub("StateBodyAddress")),
        addressee=Addressee(full_name=ad.req("FullName"), organisation=ad.opt("Organisation") or "",
                            address=ad.opt("Address") or ""),
        salutation=_kz_ru(r.sub("Salutation")), application_number=r.req("ApplicationNumber"),
        application_type=r.req("ApplicationType"),  # type: ignore[arg-type]
        licence_number=r.opt("LicenceNumber"), sent_on=r.datetime("SentOn"),
        activity_type=_code_name(r.sub("ActivityType")), text=_kz_ru(r.sub("Text")),
        missing_documents=tuple(MissingDocument(document=m.req("Document"), comment=m.req("Comment"),
                                                document_kz=m.opt("DocumentKz"), comment_kz=m.opt("CommentKz"))
                                for m in (_Reader(c) for c in r.children("MissingDocument"))),
        head=_person(r.sub("Head")))


@_answer("status notice")
def status_notice(root: etree._Element, *, message_id: str, signer: Any) -> StatusNotice:
    """A verified ``StatusNotice`` document, pulled from the gateway as message ``message_id``."""
    r = _Reader(root, what="status notice")
    return StatusNotice(
        message_id=message_id, signer=signer, application_number=r.req("ApplicationNumber"),
        status=r.req("Status"), status_name=r.req("StatusName"),  # type: ignore[arg-type]
        status_name_kz=r.opt("StatusNameKz"), changed_at=r.datetime("ChangedAt"), licensor_code=r.req("LicensorCode"),
        applicant_iin_bin=r.req("ApplicantIinBin"), licence_number=r.opt("LicenceNumber"), comment=r.opt("Comment"))


@_answer("catalogue")
def catalogue(node: etree._Element) -> Catalogue:
    """A ``GetCatalogueResponse``."""
    r = _Reader(node, what="catalogue")
    return Catalogue(
        activity_type=_code_name(r.sub("ActivityType")),
        services=tuple(ServiceInfo(**_cn_fields(s), licensor_level=s.req("LicensorLevel"),  # type: ignore[arg-type]
                                   sub_types=tuple(_code_name(_Reader(x)) for x in s.children("SubType")))
                       for s in (_Reader(c) for c in r.children("Service"))),
        licensors=tuple(LicensorInfo(**_cn_fields(s), bin=s.req("Bin"), territory_code=s.req("TerritoryCode"))
                        for s in (_Reader(c) for c in r.children("Licensor"))),
        territories=tuple(TerritoryInfo(**_cn_fields(s), kind=s.req("Kind"))  # type: ignore[arg-type]
                          for s in (_Reader(c) for c in r.children("Territory"))))


@_answer("registration answer")
def registered_applicant(payload: etree._Element) -> RegisteredApplicant:
    """A ``RegisterApplicantResponse``: the login (IIN/BIN) and the name from the certificate."""
    r = _Reader(payload, what="registration answer")
    return RegisteredApplicant(iin_bin=r.req("IinBin"), name=r.req("Name"))


@_answer("challenge answer")
def challenge(payload: etree._Element) -> AuthChallenge:
    """A ``GetChallengeResponse``: the challenge document's bytes and its expiry."""
    r = _Reader(payload, what="challenge answer")
    document = r.base64("Challenge")
    if document is None:
        raise InvalidResponseError("challenge answer: <Challenge> is empty", field="Challenge")
    return AuthChallenge(document=document, expires_at=r.datetime("ExpiresAt"))


def password_changed(payload: etree._Element) -> str:
    """A ``ChangePasswordResponse``: the account whose password changed."""
    return _Reader(payload, what="password change answer").req("IinBin")


@_answer("authorisation answer")
def session(payload: etree._Element) -> Session:
    """An ``AuthorizeResponse``."""
    r = _Reader(payload, what="authorisation answer")
    return Session(token=r.req("SessionToken"), role=r.req("Role"), subject=r.req("Subject"),  # type: ignore[arg-type]
                   licensor_code=r.opt("LicensorCode"), expires_at=r.datetime("ExpiresAt"), email=r.opt("Email"),
                   phone=r.opt("Phone"))


@_answer("upload answer")
def uploaded_attachment(payload: etree._Element, file_name: str) -> UploadedAttachment:
    """An ``UploadAttachmentResponse``: the stored file's id, SHA-256 and size (checked by the caller)."""
    r = _Reader(payload, what="upload answer")
    return UploadedAttachment(id=r.req("AttachmentId"), file_name=file_name, sha256=r.req("Sha256"),
                              size=r.integer("Size"))


@_answer("attachment answer")
def attachment_content(payload: etree._Element) -> AttachmentContent:
    """A ``GetAttachmentResponse``: the file's name, SHA-256, size and content (matched by the caller)."""
    r = _Reader(payload, what="attachment answer")
    return AttachmentContent(file_name=r.req("FileName"), sha256=r.req("Sha256"), size=r.integer("Size"),
                             content=r.base64("Content") or b"")


def application(payload: etree._Element) -> ApplicationInfo:
    """The one ``Application`` of a registration, processing, decision or look-up answer."""
    return application_info(_Reader(payload).sub("Application").node)


def applications(payload: etree._Element) -> list[ApplicationInfo]:
    """Every ``Application`` of a ``ListApplicationsResponse``."""
    return [application_info(node) for node in _Reader(payload).children("Application")]


def signed_document(payload: etree._Element, name: str) -> bytes | None:
    """The document (``SignedLicence``, ``SignedRefusal``, a prepared ``UnsignedLicence``) an answer carries
    in base64, if any."""
    return _Reader(payload).base64(name)


def licence_status(payload: etree._Element) -> str | None:
    """The ``Status`` of a ``GetLicenceResponse``."""
    return _Reader(payload).opt("Status")


@_answer("survey indicators")
def survey_indicators(payload: etree._Element) -> list[SurveyIndicator]:
    """The ``Indicator`` elements of a ``GetSurveyIndicatorsResponse``."""
    return [SurveyIndicator(
        service_code=r.req("ServiceCode"), licensor_code=r.opt("LicensorCode"),
        question=r.req("Question"),  # type: ignore[arg-type]
        answers=r.integer("Answers"), satisfied=r.integer("Satisfied"), partly_satisfied=r.integer("PartlySatisfied"),
        not_satisfied=r.integer("NotSatisfied"), satisfied_share=r.decimal("SatisfiedShare"),
        partly_satisfied_share=r.decimal("PartlySatisfiedShare"),
        satisfied_or_partly_share=r.decimal("SatisfiedOrPartlyShare"))
        for r in (_Reader(node, what="survey indicators") for node in _Reader(payload).children("Indicator"))]


# --------------------------------------------------------------------------- search

@_answer("search answer")
def universal_license_response(node: etree._Element) -> UniversalLicenseResponse:
    """A ``UniversalLicenseResponse``."""
    r = _Reader(node, UL_NS, "search answer")
    si = r.sub("SystemInfo")
    info = SystemInfo(message_id=si.req("MessageId"), chain_id=si.opt("ChainId"),
                      message_date=si.datetime("MessageDate"), message_type=si.req("MessageType"),  # type: ignore[arg-type]
                      service_id=si.req("ServiceId"), response_code=si.opt("ResponseCode"),
                      additional_info=si.opt("AdditionalInfo"), sender_id=si.req("SenderId"),
                      digital_signature=si.opt("DigitalSignature"),
                      signature_type=si.req("SignatureType"))  # type: ignore[arg-type]

    def ref(x: _Reader) -> CodeName:
        return CodeName(code=x.req("Code"), name_ru=x.opt("NameRu") or "", name_kz=x.opt("NameKz") or "",
                        name_en=x.opt("NameEn"))

    licenses = tuple(
        UniversalLicense(
            iin_bin=x.req("IinBin"), series=x.opt("Series"), number=x.req("Number"),
            global_unique_number=x.req("GlobalUniqueNumber"), issue_date=x.date("IssueDate"),
            validity_start_date=x.opt_date("ValidityStartDate"), validity_end_date=x.opt_date("ValidityEndDate"),
            activity_type=ref(x.sub("ActivityType")), licensiar=ref(x.sub("Licensiar")),
            stop_suspend_duplicate_date=x.opt_date("StopSuspendDuplicateDate"),
            suspending_start_date=x.opt_date("SuspendingStartDate"),
            suspending_end_date=x.opt_date("SuspendingEndDate"), status=x.req("Status"),
            document_url=x.opt("DocumentUrl"), licensee_name=x.opt("LicenseeName"))
        for x in (_Reader(c, UL_NS, "search answer") for c in r.sub("Licenses").children("UniversalLicense")))
    return UniversalLicenseResponse(system_info=info, total_count=r.integer("TotalCount"), licenses=licenses)
