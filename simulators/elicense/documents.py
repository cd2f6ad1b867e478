"""Business documents of the E-licensing simulator: reading the signed application, building the
licence, the refusal letter and the status notice (each signed afterwards by the backend)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from lxml import etree

from adapters.contracts.elicense import EL_NS, el
from simulators.elicense import wording
from simulators.elicense.catalogue import ACTIVITY_CODE, ACTIVITY_NAMES, Licensor, SubType, Territory

NSMAP = {None: EL_NS}


def _text(parent: etree._Element, name: str) -> str | None:
    child = parent.find(el(name))
    return None if child is None or child.text is None else child.text.strip()


def _req(parent: etree._Element, name: str) -> str:
    value = _text(parent, name)
    return value if value is not None else ""


def _bool(parent: etree._Element, name: str) -> bool:
    return _req(parent, name) in ("true", "1")


def parse_application(root: etree._Element) -> dict[str, Any]:
    """Fields of a schema-valid ``Application`` document as plain data (JSON-serialisable)."""
    ap = root.find(el("Applicant"))
    assert ap is not None  # schema-valid
    addr = ap.find(el("Address"))
    assert addr is not None
    applicant = {
        "iin_bin": _req(ap, "IinBin"), "name": _req(ap, "Name"),
        "is_small_business": _bool(ap, "IsSmallBusiness"), "is_sole_proprietor": _bool(ap, "IsSoleProprietor"),
        "address": {k: _text(addr, n) for k, n in (
            ("postal_index", "PostalIndex"), ("city_kato", "CityKato"), ("city_name", "CityName"),
            ("street_ru", "StreetRu"), ("street_kz", "StreetKz"), ("house", "House"), ("flat", "Flat"))},
        "phone": _req(ap, "Phone"), "fax": _text(ap, "Fax"), "email": _text(ap, "Email"),
        "head_name": _text(ap, "HeadName"),
    }
    payment = None
    pay = root.find(el("Payment"))
    if pay is not None:
        payment = {"amount_paid": _req(pay, "AmountPaid"), "currency": _req(pay, "Currency"),
                   "document_number": _req(pay, "DocumentNumber"), "document_date": _req(pay, "DocumentDate"),
                   "amount_due": _req(pay, "AmountDue"), "receipt_id": _text(pay, "ReceiptId")}
    attachments = [{"file_name": _req(a, "FileName"), "sha256": _req(a, "Sha256"), "size": int(_req(a, "Size"))}
                   for a in root.iterfind(f"{el('Attachments')}/{el('Attachment')}")]
    return {
        "app_type": _req(root, "ApplicationType"),
        "service_code": _req(root, "ServiceCode"),
        "licence_number": _text(root, "LicenceNumber"),
        "applicant": applicant,
        "territory_code": _req(root, "TerritoryCode"),
        "activity_code": _req(root, "ActivityTypeCode"),
        "sub_types": [e.text.strip() for e in root.iterfind(f"{el('SubTypes')}/{el('SubTypeCode')}") if e.text],
        "payment": payment,
        "attachments": attachments,
        "paper_documents": _text(root, "PaperDocuments"),
        "special_conditions": _text(root, "SpecialConditions"),
        "submitted_at": _req(root, "SubmittedAt"),
    }


def address_line(address: dict[str, Any]) -> str:
    """The applicant's details as the application information shows them (one line)."""
    parts = [address.get("postal_index"), address.get("city_name"), address.get("street_ru"),
             address.get("house")]
    line = ", ".join(p for p in parts if p)
    return f"{line}, {address['flat']}" if address.get("flat") else line


def payment_line(payment: dict[str, Any] | None) -> str:
    """e.g. "16180.00000 KZT paid, document No. 90102 of 01.11.2012, amount to pay 16180.00000"."""
    if not payment:
        return "no payment information"
    paid = Decimal(payment["amount_paid"]).quantize(Decimal("0.00001"))
    due = Decimal(payment["amount_due"]).quantize(Decimal("0.00001"))
    date = dt.date.fromisoformat(payment["document_date"]).strftime("%d.%m.%Y")
    return (f"{paid} {payment.get('currency') or 'KZT'} paid, document No. {payment['document_number']} "
            f"of {date}, amount to pay {due}")


def sub(parent: etree._Element, name: str, text: object | None = None) -> etree._Element:
    child = etree.SubElement(parent, el(name))
    if text is not None:
        child.text = text if isinstance(text, str) else str(text)
    return child


def code_name(parent: etree._Element, name: str, code: str, ru: str, kz: str, en: str | None) -> etree._Element:
    node = sub(parent, name)
    sub(node, "Code", code)
    sub(node, "NameRu", ru)
    sub(node, "NameKz", kz)
    if en is not None:
        sub(node, "NameEn", en)
    return node


def activity(parent: etree._Element, name: str = "ActivityType") -> etree._Element:
    return code_name(parent, name, ACTIVITY_CODE, ACTIVITY_NAMES["ru"], ACTIVITY_NAMES["kz"],
                     f"{ACTIVITY_NAMES['en']} ({ACTIVITY_CODE})")


def issuing_body(parent: etree._Element, name: str, lic: Licensor) -> etree._Element:
    node = code_name(parent, name, lic.code, lic.name_ru, lic.name_kz, lic.name_en)
    sub(node, "Bin", lic.bin)
    return node


def head(parent: etree._Element, lic: Licensor) -> etree._Element:
    node = sub(parent, "Head")
    sub(node, "FullName", lic.head_name)
    sub(node, "Iin", lic.head_iin)
    sub(node, "Position", "Chairman of the Committee" if lic.code == "KKSON" else "Head of the Department")
    return node


def kz_ru(parent: etree._Element, name: str, kz: str, ru: str) -> etree._Element:
    node = sub(parent, name)
    sub(node, "Kz", kz)
    sub(node, "Ru", ru)
    return node


def build_licence(*, number: str, global_number: str, kind: str, application_number: str,
                  previous_number: str | None, licensee: dict[str, str], special_conditions: str,
                  lic: Licensor, issue_date: dt.date, validity_start: dt.date, validity_end: dt.date | None,
                  duplicate_date: dt.date | None, territory: Territory, appendices: list[dict[str, Any]],
                  sub_types: dict[str, SubType]) -> etree._Element:
    """The licence: its kind's mark (a duplicate's, a re-issue's), the licensor's seat as the place of
    issue, the duplicate's date, each appendix naming the licence."""
    root = etree.Element(el("Licence"), nsmap=NSMAP)
    sub(root, "Number", number)
    sub(root, "GlobalUniqueNumber", global_number)
    sub(root, "Kind", kind)
    mark = wording.licence_mark(kind)
    if mark is not None:
        kz_ru(root, "Mark", *mark)
    sub(root, "ApplicationNumber", application_number)
    if previous_number:
        sub(root, "PreviousLicenceNumber", previous_number)
    ls = sub(root, "Licensee")
    sub(ls, "IinBin", licensee["iin_bin"])
    sub(ls, "Name", licensee["name"])
    sub(ls, "Address", licensee["address"])
    activity(root)
    sub(root, "SpecialConditions", special_conditions)
    issuing_body(root, "IssuingBody", lic)
    head(root, lic)
    sub(root, "IssueDate", issue_date.isoformat())
    kz_ru(root, "IssuePlace", lic.seat_kz, lic.seat_ru)
    sub(root, "ValidityStartDate", validity_start.isoformat())
    if validity_end is not None:
        sub(root, "ValidityEndDate", validity_end.isoformat())
    if duplicate_date is not None:
        sub(root, "DuplicateDate", duplicate_date.isoformat())
    code_name(root, "Territory", territory.code, territory.name_ru, territory.name_kz, territory.name_en)
    apps = sub(root, "Appendices")
    for a in appendices:
        node = sub(apps, "Appendix")
        sub(node, "Number", a["number"])
        sub(node, "LicenceNumber", number)
        sub(node, "IssueDate", a["issue_date"])
        for code in a["sub_types"]:
            st = sub_types[code]
            code_name(node, "SubType", st.code, st.name_ru, st.name_kz, st.name_en)
    return root


def build_refusal(*, date: dt.date, lic: Licensor, head_name: str, applicant: dict[str, Any],
                  application_number: str, app_type: str, licence_number: str | None, sent_on: dt.datetime,
                  missing: list[dict[str, str]]) -> etree._Element:
    """The refusal letter as the regulation's sample: the state body and its address, addressed to the
    applicant's head by name, the refusal worded per operation, in Kazakh and Russian; the table of
    documents not provided (Russian, and Kazakh when the decision gave it)."""
    root = etree.Element(el("RefusalLetter"), nsmap=NSMAP)
    sub(root, "Date", date.isoformat())
    issuing_body(root, "StateBody", lic)
    kz_ru(root, "StateBodyAddress", lic.address_kz, lic.address_ru)
    addressee = sub(root, "Addressee")
    sub(addressee, "FullName", head_name)
    sub(addressee, "Organisation", applicant["name"])
    sub(addressee, "Address", address_line(applicant["address"]))
    kz_ru(root, "Salutation", *wording.salutation(head_name))
    sub(root, "ApplicationNumber", application_number)
    sub(root, "ApplicationType", app_type)
    if licence_number:
        sub(root, "LicenceNumber", licence_number)
    sub(root, "SentOn", sent_on.isoformat())
    activity(root)
    kz_ru(root, "Text", *wording.refusal_text(
        app_type, number=application_number, sent_on=sent_on, activity_kz=f"{ACTIVITY_NAMES['kz']} ({ACTIVITY_CODE})",
        activity_ru=f"{ACTIVITY_NAMES['ru']} ({ACTIVITY_CODE})", licence=licence_number))
    for m in missing:
        node = sub(root, "MissingDocument")
        sub(node, "Document", m["document"])
        sub(node, "Comment", m["comment"])
        if m.get("document_kz"):
            sub(node, "DocumentKz", m["document_kz"])
        if m.get("comment_kz"):
            sub(node, "CommentKz", m["comment_kz"])
    head(root, lic)
    return root


def build_status_notice(*, number: str, status: str, status_name: str, status_name_kz: str | None = None,
                        changed_at: dt.datetime,
                        licensor_code: str, applicant: str, licence_number: str | None,
                        comment: str | None) -> etree._Element:
    root = etree.Element(el("StatusNotice"), nsmap=NSMAP)
    sub(root, "ApplicationNumber", number)
    sub(root, "Status", status)
    sub(root, "StatusName", status_name)
    if status_name_kz:
        sub(root, "StatusNameKz", status_name_kz)
    sub(root, "ChangedAt", changed_at.isoformat())
    sub(root, "LicensorCode", licensor_code)
    sub(root, "ApplicantIinBin", applicant)
    if licence_number:
        sub(root, "LicenceNumber", licence_number)
    if comment:
        sub(root, "Comment", comment)
    return root
