"""The E-licensing requests, built with lxml (``wsdl/elicense/elicense.wsdl``, ``schemas/elicense/``).

One function per request, each returning the Body's element of its operation, plus the
``Application`` document the applicant signs. Contract, for every builder: elements in the
E-licensing types namespace (the search in the UniversalLicense namespace), in schema order; an
optional field whose value is None (or empty, for lists) is left out; dates as ``isoformat()``,
money with two decimals, booleans as ``true``/``false``, binary content in base64. The client
validates every request against the schema before sending it.
``tests/adapters/elicense/test_messages.py`` checks every builder against zeep's
``create_message`` (C14N) and the schema.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from lxml import etree

from adapters.contracts.elicense import EL_NS, UL_NS, el, ul
from adapters.elicense.models import ApplicationForm, MissingDocument, Session, SurveyAnswer, SystemInfo


def _child(parent: etree._Element, name: str, text: object | None = None) -> etree._Element:
    """A new ``<el:name>`` under ``parent``, with ``text`` (``str()`` of it) when given."""
    child = etree.SubElement(parent, el(name))
    if text is not None:
        child.text = text if isinstance(text, str) else str(text)
    return child


def _opt(parent: etree._Element, name: str, value: object | None) -> None:
    if value is not None:
        _child(parent, name, value)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def application_document(form: ApplicationForm) -> etree._Element:
    """The ``Application`` document (unsigned) for a form, in schema order."""
    root = etree.Element(el("Application"), nsmap={None: EL_NS})
    _child(root, "ApplicationType", form.app_type)
    _child(root, "ServiceCode", form.service_code)
    _opt(root, "LicenceNumber", form.licence_number)
    a = form.applicant
    ap = _child(root, "Applicant")
    _child(ap, "IinBin", a.iin_bin)
    _child(ap, "Name", a.name)
    _child(ap, "IsSmallBusiness", _bool(a.is_small_business))
    _child(ap, "IsSoleProprietor", _bool(a.is_sole_proprietor))
    addr = _child(ap, "Address")
    _child(addr, "PostalIndex", a.address.postal_index)
    _child(addr, "CityKato", a.address.city_kato)
    _child(addr, "CityName", a.address.city_name)
    _child(addr, "StreetRu", a.address.street_ru)
    _opt(addr, "StreetKz", a.address.street_kz)
    _child(addr, "House", a.address.house)
    _opt(addr, "Flat", a.address.flat)
    _child(ap, "Phone", a.phone)
    _opt(ap, "Fax", a.fax)
    _opt(ap, "Email", a.email)
    _opt(ap, "HeadName", a.head_name)
    _child(root, "TerritoryCode", form.territory_code)
    _child(root, "ActivityTypeCode", form.activity_code)
    if form.sub_types:
        st = _child(root, "SubTypes")
        for code in form.sub_types:
            _child(st, "SubTypeCode", code)
    if form.payment is not None:
        p = form.payment
        pay = _child(root, "Payment")
        _child(pay, "AmountPaid", _money(p.amount_paid))
        _child(pay, "Currency", p.currency)
        _child(pay, "DocumentNumber", p.document_number)
        _child(pay, "DocumentDate", p.document_date.isoformat())
        _child(pay, "AmountDue", _money(p.amount_due))
        _opt(pay, "ReceiptId", p.receipt_id)
    if form.attachments:
        atts = _child(root, "Attachments")
        for ref in form.attachments:
            node = _child(atts, "Attachment")
            _child(node, "FileName", ref.file_name)
            _child(node, "Sha256", ref.sha256)
            _child(node, "Size", ref.size)
    _opt(root, "PaperDocuments", form.paper_documents)
    _opt(root, "SpecialConditions", form.special_conditions)
    submitted = form.submitted_at if form.submitted_at.tzinfo else form.submitted_at.replace(tzinfo=dt.UTC)
    _child(root, "SubmittedAt", submitted.isoformat())
    return root


def _request(name: str) -> etree._Element:
    return etree.Element(el(name), nsmap={None: EL_NS})


def _with_session(name: str, session: Session) -> etree._Element:
    request = _request(name)
    _child(request, "SessionToken", session.token)
    return request


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --------------------------------------------------------------------------- requests

def challenge_request() -> etree._Element:
    """``GetChallengeRequest`` (empty)."""
    return _request("GetChallengeRequest")


def register_applicant_request(iin_bin: str, signed_challenge: bytes, password: str, *,
                               email: str | None = None, phone: str | None = None) -> etree._Element:
    """``RegisterApplicantRequest``: the account's IIN/BIN, the challenge signed with the AUTH key (the
    signed document's bytes), a password, and the profile's email and phone when given."""
    request = _request("RegisterApplicantRequest")
    _child(request, "IinBin", iin_bin)
    _child(request, "SignedChallenge", _base64(signed_challenge))
    _child(request, "Password", password)
    _opt(request, "Email", email)
    _opt(request, "Phone", phone)
    return request


def authorize_applicant_request(iin_bin: str, signed_challenge: bytes, password: str) -> etree._Element:
    """``AuthorizeRequest`` of an applicant: IIN/BIN, the challenge signed with the AUTH key, password."""
    request = _request("AuthorizeRequest")
    applicant = _child(request, "Applicant")
    _child(applicant, "IinBin", iin_bin)
    _child(applicant, "SignedChallenge", _base64(signed_challenge))
    _child(applicant, "Password", password)
    return request


def change_password_request(iin_bin: str, new_password: str, *, old_password: str | None = None,
                            signed_challenge: bytes | None = None) -> etree._Element:
    """``ChangePasswordRequest``, proven by ``old_password`` or, when it is None, by ``signed_challenge``."""
    request = _request("ChangePasswordRequest")
    _child(request, "IinBin", iin_bin)
    if old_password is not None:
        _child(request, "OldPassword", old_password)
    else:
        _child(request, "SignedChallenge", _base64(signed_challenge or b""))
    _child(request, "NewPassword", new_password)
    return request


def authorize_employee_request(login: str, password: str) -> etree._Element:
    """``AuthorizeRequest`` of a state body's employee."""
    request = _request("AuthorizeRequest")
    employee = _child(request, "Employee")
    _child(employee, "Login", login)
    _child(employee, "Password", password)
    return request


def catalogue_request() -> etree._Element:
    """``GetCatalogueRequest`` (empty)."""
    return _request("GetCatalogueRequest")


def upload_attachment_request(session: Session, file_name: str, content_base64: str) -> etree._Element:
    """``UploadAttachmentRequest``; a streamed upload passes a placeholder as ``content_base64``."""
    request = _with_session("UploadAttachmentRequest", session)
    _child(request, "FileName", file_name)
    _child(request, "Content", content_base64)
    return request


def register_application_request(session: Session, signed_application: bytes, *,
                                 idempotency_key: str) -> etree._Element:
    """``RegisterApplicationRequest``: the signed application, in base64."""
    request = _with_session("RegisterApplicationRequest", session)
    _child(request, "IdempotencyKey", idempotency_key)
    _child(request, "SignedApplication", _base64(signed_application))
    return request


def get_application_request(session: Session, number: str) -> etree._Element:
    """``GetApplicationRequest``."""
    request = _with_session("GetApplicationRequest", session)
    _child(request, "ApplicationNumber", number)
    return request


def get_attachment_request(session: Session, number: str, file_name: str) -> etree._Element:
    """``GetAttachmentRequest``: the file ``file_name`` attached to application ``number``."""
    request = _with_session("GetAttachmentRequest", session)
    _child(request, "ApplicationNumber", number)
    _child(request, "FileName", file_name)
    return request


def list_applications_request(session: Session, status: str | None = None) -> etree._Element:
    """``ListApplicationsRequest``, all of the session's applications or those in ``status``."""
    request = _with_session("ListApplicationsRequest", session)
    if status:
        _child(request, "Status", status)
    return request


def start_processing_request(session: Session, number: str) -> etree._Element:
    """``StartProcessingRequest``."""
    request = _with_session("StartProcessingRequest", session)
    _child(request, "ApplicationNumber", number)
    return request


def _decide_request(session: Session, number: str, idempotency_key: str) -> etree._Element:
    request = _with_session("DecideRequest", session)
    _child(request, "ApplicationNumber", number)
    _child(request, "IdempotencyKey", idempotency_key)
    return request


def issue_request(session: Session, number: str, *, idempotency_key: str, special_conditions: str | None = None,
                  validity_end: dt.date | None = None, signed_licence: bytes | None = None) -> etree._Element:
    """``DecideRequest`` to issue the licence (``signed_licence``: the prepared licence, signed by the head)."""
    request = _decide_request(session, number, idempotency_key)
    issue = _child(request, "Issue")
    if special_conditions:
        _child(issue, "SpecialConditions", special_conditions)
    if validity_end:
        _child(issue, "ValidityEndDate", validity_end.isoformat())
    if signed_licence is not None:
        _child(issue, "SignedLicence", _base64(signed_licence))
    return request


def prepare_licence_request(session: Session, number: str, *, special_conditions: str | None = None,
                            validity_end: dt.date | None = None) -> etree._Element:
    """``PrepareLicenceRequest``: the unsigned licence a decision to issue gives now."""
    request = _with_session("PrepareLicenceRequest", session)
    _child(request, "ApplicationNumber", number)
    if special_conditions:
        _child(request, "SpecialConditions", special_conditions)
    if validity_end:
        _child(request, "ValidityEndDate", validity_end.isoformat())
    return request


def _missing_documents(parent: etree._Element, missing: Sequence[MissingDocument]) -> None:
    for document in missing:
        node = _child(parent, "MissingDocument")
        _child(node, "Document", document.document)
        _child(node, "Comment", document.comment)
        _opt(node, "DocumentKz", document.document_kz)
        _opt(node, "CommentKz", document.comment_kz)


def refuse_request(session: Session, number: str, missing: Sequence[MissingDocument], *,
                   idempotency_key: str, signed_refusal: bytes | None = None) -> etree._Element:
    """``DecideRequest`` to refuse, with the missing documents and a comment for each
    (``signed_refusal``: the prepared letter, signed by the head)."""
    request = _decide_request(session, number, idempotency_key)
    refuse = _child(request, "Refuse")
    _missing_documents(refuse, missing)
    if signed_refusal is not None:
        _child(refuse, "SignedRefusal", _base64(signed_refusal))
    return request


def prepare_refusal_request(session: Session, number: str, missing: Sequence[MissingDocument]) -> etree._Element:
    """``PrepareRefusalRequest``: the unsigned refusal letter a decision to refuse gives now."""
    request = _with_session("PrepareRefusalRequest", session)
    _child(request, "ApplicationNumber", number)
    _missing_documents(request, missing)
    return request


def licence_request(number: str) -> etree._Element:
    """``GetLicenceRequest``."""
    request = _request("GetLicenceRequest")
    _child(request, "LicenceNumber", number)
    return request


def survey_request(session: Session, number: str, service_quality: SurveyAnswer | str,
                   information_quality: SurveyAnswer | str) -> etree._Element:
    """``SubmitSurveyRequest``: the two answers of the quality survey."""
    request = _with_session("SubmitSurveyRequest", session)
    _child(request, "ApplicationNumber", number)
    _child(request, "ServiceQuality", SurveyAnswer(service_quality).value)
    _child(request, "InformationQuality", SurveyAnswer(information_quality).value)
    return request


def survey_indicators_request(service_code: str | None = None, licensor_code: str | None = None,
                              first_day: dt.date | None = None, last_day: dt.date | None = None) -> etree._Element:
    """``GetSurveyIndicatorsRequest``: for all services or one, all licensors or one, over a period
    (days of submission, inclusive) or all time."""
    request = _request("GetSurveyIndicatorsRequest")
    _opt(request, "ServiceCode", service_code or None)
    _opt(request, "LicensorCode", licensor_code or None)
    _opt(request, "From", None if first_day is None else first_day.isoformat())
    _opt(request, "To", None if last_day is None else last_day.isoformat())
    return request


# --------------------------------------------------------------------------- search

def universal_license_request(criteria: Any, system_info: SystemInfo) -> etree._Element:
    """``UniversalLicenseRequest`` for :class:`LicenseSearch` criteria."""
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
