"""XML of the E-licensing contract <-> models: the application the applicant signs, and every
answer and document read back (application information, licence, refusal letter, status notice,
catalogue, search results)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from lxml import etree

from adapters.contracts.elicense import EL_NS, el, ul
from adapters.core.errors import InvalidResponseError
from adapters.elicense.models import (
    Address,
    Appendix,
    Applicant,
    ApplicationForm,
    ApplicationInfo,
    AttachmentRef,
    Catalogue,
    CodeName,
    IssuingBody,
    Licence,
    Licensee,
    LicensorInfo,
    MissingDocument,
    Payment,
    Person,
    RefusalLetter,
    ServiceInfo,
    Signer,
    StatusEntry,
    SystemInfo,
    TerritoryInfo,
    UniversalLicense,
    UniversalLicenseResponse,
)


def add_child(parent: etree._Element, name: str, text: object | None = None) -> etree._Element:
    """A new ``<el:name>`` under ``parent``, with ``text`` (``str()`` of it) when given."""
    child = etree.SubElement(parent, el(name))
    if text is not None:
        child.text = text if isinstance(text, str) else str(text)
    return child


def _opt(parent: etree._Element, name: str, value: object | None) -> None:
    if value is not None:
        add_child(parent, name, value)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def application_document(form: ApplicationForm) -> etree._Element:
    """The ``Application`` document (unsigned) for a form, in schema order."""
    root = etree.Element(el("Application"), nsmap={None: EL_NS})
    add_child(root, "ApplicationType", form.app_type)
    add_child(root, "ServiceCode", form.service_code)
    _opt(root, "LicenceNumber", form.licence_number)
    a = form.applicant
    ap = add_child(root, "Applicant")
    add_child(ap, "IinBin", a.iin_bin)
    add_child(ap, "Name", a.name)
    add_child(ap, "IsSmallBusiness", _bool(a.is_small_business))
    add_child(ap, "IsSoleProprietor", _bool(a.is_sole_proprietor))
    addr = add_child(ap, "Address")
    add_child(addr, "PostalIndex", a.address.postal_index)
    add_child(addr, "CityKato", a.address.city_kato)
    add_child(addr, "CityName", a.address.city_name)
    add_child(addr, "StreetRu", a.address.street_ru)
    _opt(addr, "StreetKz", a.address.street_kz)
    add_child(addr, "House", a.address.house)
    _opt(addr, "Flat", a.address.flat)
    add_child(ap, "Phone", a.phone)
    _opt(ap, "Fax", a.fax)
    add_child(root, "TerritoryCode", form.territory_code)
    add_child(root, "ActivityTypeCode", form.activity_code)
    if form.sub_types:
        st = add_child(root, "SubTypes")
        for code in form.sub_types:
            add_child(st, "SubTypeCode", code)
    if form.payment is not None:
        p = form.payment
        pay = add_child(root, "Payment")
        add_child(pay, "AmountPaid", _money(p.amount_paid))
        add_child(pay, "Currency", p.currency)
        add_child(pay, "DocumentNumber", p.document_number)
        add_child(pay, "DocumentDate", p.document_date.isoformat())
        add_child(pay, "AmountDue", _money(p.amount_due))
        _opt(pay, "ReceiptId", p.receipt_id)
    if form.attachments:
        atts = add_child(root, "Attachments")
        for ref in form.attachments:
            node = add_child(atts, "Attachment")
            add_child(node, "FileName", ref.file_name)
            add_child(node, "Sha256", ref.sha256)
            add_child(node, "Size", ref.size)
    _opt(root, "PaperDocuments", form.paper_documents)
    submitted = form.submitted_at if form.submitted_at.tzinfo else form.submitted_at.replace(tzinfo=dt.UTC)
    add_child(root, "SubmittedAt", submitted.isoformat())
    return root


# --------------------------------------------------------------------------- reading

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

    def date(self, name: str) -> dt.date:
        return dt.date.fromisoformat(self.req(name))

    def opt_date(self, name: str) -> dt.date | None:
        v = self.opt(name)
        return dt.date.fromisoformat(v) if v else None

    def datetime(self, name: str) -> dt.datetime:
        value = dt.datetime.fromisoformat(self.req(name).replace("Z", "+00:00"))
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _code_name(r: _Reader) -> CodeName:
    return CodeName(code=r.req("Code"), name_ru=r.opt("NameRu") or "", name_kz=r.opt("NameKz") or "",
                    name_en=r.opt("NameEn"))


def _cn_fields(r: _Reader) -> dict[str, Any]:
    return _code_name(r).model_dump()


def _applicant(r: _Reader) -> Applicant:
    a = r.sub("Address")
    return Applicant(
        iin_bin=r.req("IinBin"), name=r.req("Name"), is_small_business=r.req("IsSmallBusiness") in ("true", "1"),
        is_sole_proprietor=r.req("IsSoleProprietor") in ("true", "1"),
        address=Address(postal_index=a.req("PostalIndex"), city_kato=a.req("CityKato"),
                        city_name=a.req("CityName"), street_ru=a.req("StreetRu"), street_kz=a.opt("StreetKz"),
                        house=a.req("House"), flat=a.opt("Flat")),
        phone=r.req("Phone"), fax=r.opt("Fax"))


def _payment(r: _Reader) -> Payment:
    return Payment(amount_paid=Decimal(r.req("AmountPaid")), document_number=r.req("DocumentNumber"),
                   document_date=r.date("DocumentDate"), amount_due=Decimal(r.req("AmountDue")),
                   receipt_id=r.opt("ReceiptId"))


def _attachment(r: _Reader) -> AttachmentRef:
    return AttachmentRef(file_name=r.req("FileName"), sha256=r.req("Sha256"), size=int(r.req("Size")))


def application_info(node: etree._Element) -> ApplicationInfo:
    r = _Reader(node, what="application information")
    pay = r.child("Payment")
    signer = r.sub("Signer")
    return ApplicationInfo(
        number=r.req("Number"), application_type=r.req("ApplicationType"),  # type: ignore[arg-type]
        application_type_name=r.req("ApplicationTypeName"), category=r.req("Category"),
        channel=r.req("Channel"), status=r.req("Status"), status_name=r.req("StatusName"),  # type: ignore[arg-type]
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
                        changed_at=e.datetime("ChangedAt"), comment=e.opt("Comment"))
            for e in (_Reader(c) for c in r.sub("StatusHistory").children("Entry"))))


def _person(r: _Reader) -> Person:
    return Person(full_name=r.req("FullName"), iin=r.req("Iin"), position=r.req("Position"))


def _issuing_body(r: _Reader) -> IssuingBody:
    return IssuingBody(**_cn_fields(r), bin=r.req("Bin"))


def licence(root: etree._Element) -> Licence:
    r = _Reader(root, what="licence")
    ls = r.sub("Licensee")
    return Licence(
        number=r.req("Number"), global_unique_number=r.req("GlobalUniqueNumber"),
        kind=r.req("Kind"), application_number=r.req("ApplicationNumber"),  # type: ignore[arg-type]
        previous_licence_number=r.opt("PreviousLicenceNumber"),
        licensee=Licensee(iin_bin=ls.req("IinBin"), name=ls.req("Name"), address=ls.req("Address")),
        activity_type=_code_name(r.sub("ActivityType")), special_conditions=r.opt("SpecialConditions") or "",
        issuing_body=_issuing_body(r.sub("IssuingBody")), head=_person(r.sub("Head")),
        issue_date=r.date("IssueDate"), validity_start_date=r.date("ValidityStartDate"),
        validity_end_date=r.opt_date("ValidityEndDate"), territory=_code_name(r.sub("Territory")),
        appendices=tuple(
            Appendix(number=int(a.req("Number")), issue_date=a.date("IssueDate"),
                     sub_types=tuple(_code_name(_Reader(s)) for s in a.children("SubType")))
            for a in (_Reader(c) for c in r.sub("Appendices").children("Appendix"))))


def refusal_letter(root: etree._Element) -> RefusalLetter:
    r = _Reader(root, what="refusal letter")
    return RefusalLetter(
        date=r.date("Date"), state_body=_issuing_body(r.sub("StateBody")),
        state_body_address=r.opt("StateBodyAddress") or "", to=r.req("To"),
        application_number=r.req("ApplicationNumber"), sent_on=r.datetime("SentOn"),
        activity_type=_code_name(r.sub("ActivityType")), text=r.req("Text"),
        missing_documents=tuple(MissingDocument(document=m.req("Document"), comment=m.req("Comment"))
                                for m in (_Reader(c) for c in r.children("MissingDocument"))),
        head=_person(r.sub("Head")))


def status_notice_fields(root: etree._Element) -> dict[str, Any]:
    r = _Reader(root, what="status notice")
    return {"application_number": r.req("ApplicationNumber"), "status": r.req("Status"),
            "status_name": r.req("StatusName"), "changed_at": r.datetime("ChangedAt"),
            "licensor_code": r.req("LicensorCode"), "applicant_iin_bin": r.req("ApplicantIinBin"),
            "licence_number": r.opt("LicenceNumber"), "comment": r.opt("Comment")}


def catalogue(node: etree._Element) -> Catalogue:
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


# --------------------------------------------------------------------------- search

def universal_license_request(criteria: Any, system_info: SystemInfo) -> etree._Element:
    """``UniversalLicenseRequest`` for :class:`LicenseSearch` criteria."""
    from adapters.contracts.elicense import UL_NS

    root = etree.Element(ul("UniversalLicenseRequest"), nsmap={None: UL_NS})

    def add(parent: etree._Element, name: str, value: object | None) -> None:
        if value is not None:
            etree.SubElement(parent, ul(name)).text = str(value)

    si = etree.SubElement(root, ul("SystemInfo"))
    for name, value in (("MessageId", system_info.message_id), ("ChainId", system_info.chain_id),
                        ("MessageDate", system_info.message_date.isoformat()),
                        ("MessageType", system_info.message_type), ("ServiceId", system_info.service_id),
                        ("ResponseCode", system_info.response_code), ("AdditionalInfo", system_info.additional_info),
                        ("SenderId", system_info.sender_id), ("DigitalSignature", system_info.digital_signature),
                        ("SignatureType", system_info.signature_type)):
        add(si, name, value)
    add(root, "PageIndex", criteria.page_index)
    add(root, "PageSize", criteria.page_size)
    add(root, "IinBin", criteria.iin_bin)
    add(root, "NumberNikadUinrd", criteria.number)
    add(root, "IssueDate", criteria.issue_date.isoformat() if criteria.issue_date else None)
    if criteria.activity_codes:
        codes = etree.SubElement(root, ul("ActivityCodes"))
        for code in criteria.activity_codes:
            add(codes, "Code", code)
    add(root, "LicensiarCode", criteria.licensor_code)
    add(root, "Name", criteria.name)
    return root


def universal_license_response(node: etree._Element) -> UniversalLicenseResponse:
    from adapters.contracts.elicense import UL_NS

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
    return UniversalLicenseResponse(system_info=info, total_count=int(r.req("TotalCount")), licenses=licenses)
