"""The rules the E-licensing simulator applies (REGULATION.md), each refusing with an ``ElicenseFault``.

- Condition 1: an applicant (an account registered with proof of possession of an AUTH key,
  ``challenges``, logging in with a fresh proof and the password) or an employee (login + password)
  is authorised; a registered account is never replaced; a session is valid until it expires, and
  only for its own applications (the applicant's) or its own licensor's (the employee's);
- Condition 2 (portal channel): the service is paid, in the payment gateway's word: the receipt the
  application names is a PAID order of the applicant for at least the state fee of the type (the
  backend records each receipt once, for one application);
- Condition 3: the application's enveloped signature verifies and the signer's certificate is
  valid, not revoked, and carries the applicant's BIN (or IIN for an individual); in the employee
  channel the certificate carries the licensor's BIN;
- the application's business data: a known service, territory, activity and sub-types, the
  licensor the applicant's city gives, and for re-issue, duplicate and appendix an ACTIVE licence
  of the applicant under the same service;
- attachments referenced by name + SHA-256 + size, total at most 30 MB;
- statuses SENT -> IN_PROGRESS -> ISSUED | REFUSED, decided once by the licensor's employee; a licence
  the licensor's first head signed (their own EDS) is kept only when it is the licensor's first head
  who signed and the licence is exactly the one the decision gives;
- the survey answered once per application, by its applicant, after the decision.

The functions here read no database and no clock: what they judge (stored rows, the time, a
licence lookup, the verifier) is passed in. Each raises, or returns what the backend goes on with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from adapters.contracts.elicense import ATTACHMENTS_MAX_TOTAL_BYTES, validate
from adapters.core.errors import EgovError, SignatureRefused, XmlError
from adapters.core.identifiers import parse_identifier
from adapters.core.trust.subject import SignerInfo, signer_info
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import VerificationService
from simulators.elicense import catalogue as cat
from simulators.elicense import documents as docs
from simulators.elicense import errors as E
from simulators.elicense.models import SURVEY_ANSWERS, Application, Attachment, FeeSchedule, Licence, Session
from simulators.elicense.passwords import ProvenPasswords
from simulators.elicense.payments import PaymentConfirmation

# --------------------------------------------------------------------------- Condition 1


def load_certificate(der: bytes) -> x509.Certificate:
    """The certificate a portal applicant presents (MALFORMED unless DER X.509)."""
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise E.ElicenseFault(E.MALFORMED, f"Certificate is not a DER X.509 certificate: {exc}",
                              data="Certificate") from exc


def registration_identity(certificate_der: bytes) -> tuple[str, str]:
    """(subject, name) a seeded portal account takes from the certificate: the BIN (else the IIN), and
    :func:`registration_name`; AUTH_DENIED when it carries neither."""
    info = signer_info(load_certificate(certificate_der))
    subject = info.bin or info.iin
    if subject is None:
        raise E.ElicenseFault(E.AUTH_DENIED, "authorisation denied: the certificate carries neither IIN nor "
                                             "BIN", data="Certificate")
    return subject, registration_name(info)


def registration_name(info: SignerInfo) -> str:
    """The name a portal account takes from its certificate: the organisation (a BIN's certificate),
    else the common name."""
    return info.organisation if info.bin and info.organisation else info.common_name


def check_not_registered(subject: str, password_hash: str, password: str, passwords: ProvenPasswords) -> None:
    """Registering an existing account again: allowed as a repeat (its own password: nothing changes),
    else a CONFLICT: an account is never replaced, its password changes through ChangePassword."""
    if not passwords.check(password, password_hash):
        raise E.ElicenseFault(E.CONFLICT, f"applicant {subject} is already registered; change its password with "
                                          "ChangePassword (the old password or a signed challenge)", data="IinBin")


def check_credentials(kind: str, subject: str, password_hash: str | None, password: str,
                      passwords: ProvenPasswords) -> None:
    """The account (its stored ``password_hash``; None: no such account) is proven by ``password``.

    One message for an unknown account and a wrong password: the answer does not reveal which
    accounts exist."""
    if password_hash is None or not passwords.check(password, password_hash):
        raise E.ElicenseFault(E.AUTH_DENIED, f"authorisation denied: {kind} {subject!r} is not registered "
                                             "or the password is wrong", data=kind)


def check_session(session: Session | None, now: dt.datetime, kind: str | None = None) -> Session:
    """The session (None: unknown token) is still valid at ``now`` and, when ``kind`` is given, of that kind."""
    if session is None or session.expires_at <= now:
        raise E.ElicenseFault(E.SESSION_INVALID, "session is unknown or expired; authorise again",
                              data="SessionToken")
    if kind is not None and session.kind != kind:
        raise E.ElicenseFault(E.FORBIDDEN, f"this operation needs an {kind} session, not an {session.kind} one",
                              data="SessionToken")
    return session


def check_access(session: Session, app: Application) -> None:
    """An applicant sees only their own applications; an employee only those of their licensor."""
    if session.kind == "applicant" and app.data["applicant"]["iin_bin"] != session.subject:
        raise E.ElicenseFault(E.FORBIDDEN, f"application {app.number} is not the caller's", data=app.number)
    if session.kind == "employee" and app.licensor_code != session.licensor_code:
        raise E.ElicenseFault(E.FORBIDDEN, f"application {app.number} is addressed to licensor "
                                           f"{app.licensor_code}, not {session.licensor_code}", data=app.number)


# --------------------------------------------------------------------------- the application


def accept_application(session: Session, signed: bytes, *, verifier: VerificationService, fees: FeeSchedule,
                       payments: PaymentConfirmation,
                       licence: Callable[[str], Licence]) -> tuple[dict[str, Any], dict[str, Any], cat.Licensor]:
    """Schema, business data, addressing, Condition 2 and Condition 3, in this order; returns (data,
    signer, licensor): the application's fields, its signer and the licensor it is addressed to.

    ``payments`` is the payment gateway Condition 2 asks; ``licence`` looks up the licence a re-issue,
    duplicate or appendix names (NOT_FOUND when absent).
    """
    root = _signed_application(signed)
    data = docs.parse_application(root)
    applicant = data["applicant"]["iin_bin"]
    svc = check_business(data, licence)
    if session.kind == "applicant" and session.subject != applicant:
        raise E.ElicenseFault(E.FORBIDDEN, f"the application names applicant {applicant}, the session belongs "
                                           f"to {session.subject}", data="Applicant/IinBin")
    licensor = cat.licensor_for(svc, data["applicant"]["address"]["city_kato"] or "")
    if licensor is None:
        raise E.ElicenseFault(E.INVALID_DATA, "no territorial department for the applicant's city KATO "
                                              f"{data['applicant']['address']['city_kato']}",
                              data="Applicant/Address/CityKato")
    if session.kind == "employee" and session.licensor_code != licensor.code:
        raise E.ElicenseFault(E.FORBIDDEN, f"the application belongs to licensor {licensor.code}, the employee "
                                           f"works for {session.licensor_code}", data="LicensorCode")
    if session.kind == "applicant":
        check_payment(data, fees, payments)
    signer = verify_signature(verifier, signed, session, licensor, applicant)
    return data, signer, licensor


def _signed_application(signed: bytes) -> etree._Element:
    """The signed document, well-formed, an ``Application`` and schema-valid (MALFORMED otherwise)."""
    try:
        root = parse_xml(signed, what="signed application")
        if etree.QName(root).localname != "Application":
            raise E.ElicenseFault(E.MALFORMED, f"SignedApplication holds <{etree.QName(root).localname}>, "
                                               "expected <Application>", data="SignedApplication")
        validate(root, what="signed application")
    except XmlError as exc:
        raise E.ElicenseFault(E.MALFORMED, str(exc), data="SignedApplication") from exc
    return root


def check_business(data: dict[str, Any], licence: Callable[[str], Licence]) -> cat.Service:
    """The application's business data (see the module's list); returns its service."""
    try:
        parse_identifier(data["applicant"]["iin_bin"], "Applicant/IinBin")
    except EgovError as exc:
        raise E.ElicenseFault(E.INVALID_DATA, str(exc), data="Applicant/IinBin") from exc
    svc = cat.service(data["service_code"])
    if svc is None:
        raise E.ElicenseFault(E.INVALID_DATA, f"unknown service {data['service_code']!r}", data="ServiceCode")
    if cat.territory(data["territory_code"]) is None:
        raise E.ElicenseFault(E.INVALID_DATA, f"territory {data['territory_code']} is not in the directory",
                              data="TerritoryCode")
    if data["activity_code"] != cat.ACTIVITY_CODE:
        raise E.ElicenseFault(E.INVALID_DATA, f"activity type {data['activity_code']!r}; this system licenses "
                                              f"{cat.ACTIVITY_CODE}", data="ActivityTypeCode")
    known = {st.code for st in svc.sub_types}
    for code in data["sub_types"]:
        if code not in known:
            raise E.ElicenseFault(E.INVALID_DATA, f"sub-type {code!r} does not belong to service {svc.code}",
                                  data="SubTypes")
    app_type = data["app_type"]
    if app_type in ("ISSUE", "APPENDIX") and not data["sub_types"]:
        raise E.ElicenseFault(E.INVALID_DATA, f"{app_type} needs at least one sub-type for the appendix",
                              data="SubTypes")
    if app_type == "ISSUE":
        if data["licence_number"]:
            raise E.ElicenseFault(E.INVALID_DATA, "ISSUE names no existing licence", data="LicenceNumber")
    else:
        number = data["licence_number"]
        if not number:
            raise E.ElicenseFault(E.INVALID_DATA, f"{app_type} needs the number of the existing licence",
                                  data="LicenceNumber")
        lic = licence(number)
        if lic.iin_bin != data["applicant"]["iin_bin"]:
            raise E.ElicenseFault(E.FORBIDDEN, f"licence {number} belongs to {lic.iin_bin}, not to the applicant",
                                  data="LicenceNumber")
        if lic.status != "ACTIVE":
            raise E.ElicenseFault(E.CONFLICT, f"licence {number} is {lic.status}, not ACTIVE",
                                  data="LicenceNumber")
        if lic.service_code != svc.code:
            raise E.ElicenseFault(E.INVALID_DATA, f"licence {number} was issued under service {lic.service_code}",
                                  data="ServiceCode")
    return svc


def check_payment(data: dict[str, Any], fees: FeeSchedule, payments: PaymentConfirmation) -> None:
    """Condition 2 of the portal diagram, in the payment gateway's word (NOT_PAID otherwise): the
    application names a receipt (``Payment/ReceiptId``), and the gateway holds under it a PAID order
    of the applicant for at least the state fee of the application's type.

    The amount the applicant wrote (``Payment/AmountPaid``) is not evidence. An unknown receipt and
    another payer's receipt get the same answer: the refusal does not tell whose payments exist.
    That a receipt pays for one application only is the backend's check (it records receipts).
    """
    fee = fees.for_type(data["app_type"])
    payment = data["payment"]
    if payment is None:
        raise E.ElicenseFault(E.NOT_PAID, f"refusal: no payment for the service (state fee {fee} KZT)",
                              data="Payment")
    receipt = payment.get("receipt_id")
    if not receipt:
        raise E.ElicenseFault(E.NOT_PAID, "refusal: no payment for the service: the application names no receipt "
                                          "of the payment gateway", data="Payment/ReceiptId")
    confirmed = payments.confirm(receipt)
    if confirmed is None or confirmed.payer_iin_bin != data["applicant"]["iin_bin"]:
        raise E.ElicenseFault(E.NOT_PAID, f"refusal: no payment for the service: the payment gateway holds no "
                                          f"payment of the applicant under receipt {receipt}",
                              data="Payment/ReceiptId")
    if confirmed.status != "PAID":
        raise E.ElicenseFault(E.NOT_PAID, f"refusal: no payment for the service: order {receipt} is "
                                          f"{confirmed.status} at the payment gateway", data="Payment/ReceiptId")
    if confirmed.amount < fee:
        raise E.ElicenseFault(E.NOT_PAID, f"refusal: no payment for the service: {confirmed.amount} KZT paid, the "
                                          f"state fee is {fee} KZT", data="Payment/ReceiptId")


def verify_signature(verifier: VerificationService, signed: bytes, session: Session, licensor: cat.Licensor,
                     applicant: str) -> dict[str, Any]:
    """Condition 3; returns the signer as the application stores it (full name, IIN, BIN, city).

    The signer's certificate must carry the licensor's BIN (employee channel), else the applicant's
    BIN or, for an individual, IIN; a refusal's code names its reason (``errors.signature_code``).
    """
    kind = parse_identifier(applicant, "Applicant/IinBin").kind
    try:
        if session.kind == "employee":
            verified = verifier.verify_document(signed, expect_bin=licensor.bin)
        elif kind == "BIN":
            verified = verifier.verify_document(signed, expect_bin=applicant)
        else:
            verified = verifier.verify_document(signed, expect_iin=applicant)
    except SignatureRefused as exc:
        raise E.ElicenseFault(E.signature_code(exc.reason), f"the applicant's EDS is not confirmed: {exc.detail}",
                              data=exc.reason.value) from exc
    info = verified.signer
    return {"full_name": info.common_name, "iin": info.iin or "", "bin": info.bin,
            "city": _city(verified.certificate)}


def _city(cert: x509.Certificate) -> str | None:
    attrs = cert.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)
    if not attrs:
        return None
    value = attrs[0].value
    return value.decode() if isinstance(value, bytes) else value


# --------------------------------------------------------------------------- attachments


def check_upload_size(file_name: str, size: int) -> None:
    """One upload alone may not exceed the 30 MB the attachments of an application may total."""
    if size > ATTACHMENTS_MAX_TOTAL_BYTES:
        raise E.ElicenseFault(E.ATTACHMENTS_TOO_LARGE,
                              f"attachment {file_name!r} has {size} bytes; the total of attachments "
                              f"is limited to 30 MB ({ATTACHMENTS_MAX_TOTAL_BYTES} bytes)", data=file_name)


def check_attachments(refs: Sequence[dict[str, Any]], uploads: Callable[[str], Sequence[Attachment]]) -> list[str]:
    """The attachments' total is within 30 MB and each reference matches an upload of the owner by
    name, SHA-256 and size; returns the matching uploads' ids, in the references' order.

    ``uploads(file_name)``: the owner's uploads of that name, oldest first.
    """
    total = sum(int(r["size"]) for r in refs)
    if total > ATTACHMENTS_MAX_TOTAL_BYTES:
        raise E.ElicenseFault(E.ATTACHMENTS_TOO_LARGE,
                              f"attachments total {total} bytes, over the limit of 30 MB "
                              f"({ATTACHMENTS_MAX_TOTAL_BYTES} bytes)", data=str(total))
    ids: list[str] = []
    for ref in refs:
        found = uploads(ref["file_name"])
        if not found:
            raise E.ElicenseFault(E.ATTACHMENT_MISSING,
                                  f"attachment {ref['file_name']!r} is referenced by the application but was "
                                  "never uploaded", data=ref["file_name"])
        match = next((u for u in found if u.sha256 == ref["sha256"]), None)
        if match is None:
            raise E.ElicenseFault(E.ATTACHMENT_DIGEST,
                                  f"attachment {ref['file_name']!r}: the signed application names SHA-256 "
                                  f"{ref['sha256']}, the uploaded file has {found[-1].sha256}",
                                  data=ref["file_name"])
        if match.size != int(ref["size"]):
            raise E.ElicenseFault(E.ATTACHMENT_DIGEST,
                                  f"attachment {ref['file_name']!r}: the signed application names "
                                  f"{ref['size']} bytes, the upload has {match.size}", data=ref["file_name"])
        ids.append(match.id)
    return ids


# --------------------------------------------------------------------------- statuses and decisions


def processing_started(app: Application) -> bool:
    """Whether the application is already IN_PROGRESS (taking it into work again changes nothing);
    CONFLICT unless it is SENT or IN_PROGRESS."""
    if app.status == "IN_PROGRESS":
        return True
    if app.status != "SENT":
        raise E.ElicenseFault(E.CONFLICT, f"application {app.number} is {app.status}; only a SENT application "
                                          "can be taken into work", data=app.number)
    return False


def check_decider(session: Session) -> None:
    """Decisions are taken by the provider's employee."""
    if session.kind != "employee":
        raise E.ElicenseFault(E.FORBIDDEN, "decisions are taken by the provider's employee", data="SessionToken")


def decision_repeated(app: Application, stored_key: str | None, key: str, decision: str) -> bool:
    """Whether ``decision`` (``issue`` | ``refuse``) under idempotency ``key`` was already taken
    (``stored_key``: the application's recorded ``<decision>:<key>``, None while undecided).

    True: a retry of the same decision (same answer, nothing taken again). An application decided
    otherwise is a CONFLICT (IDEMPOTENCY_CONFLICT when the key is the same); an undecided one must be
    IN_PROGRESS (CONFLICT).
    """
    if stored_key is not None:
        if stored_key == f"{decision}:{key}":
            return True
        raise E.ElicenseFault(E.CONFLICT if not stored_key.endswith(f":{key}") else E.IDEMPOTENCY_CONFLICT,
                              f"application {app.number} is already decided ({app.status})", data=app.number)
    if app.status != "IN_PROGRESS":
        raise E.ElicenseFault(E.CONFLICT, f"application {app.number} is {app.status}; take it into work before "
                                          "deciding", data=app.number)
    return False


def check_undecided(app: Application) -> None:
    """A licence is prepared for an application in work (IN_PROGRESS), not yet decided."""
    if app.status != "IN_PROGRESS":
        raise E.ElicenseFault(E.CONFLICT, f"application {app.number} is {app.status}; a licence is prepared for an "
                                          "application in work", data=app.number)


@dataclass(frozen=True)
class HeadSigned:
    """A licence signed by the licensor's first head: the bytes as signed, and what they sign."""

    data: bytes
    content: etree._Element
    """The document without its signature."""


def verify_head_signature(verifier: VerificationService, signed: bytes, lic: cat.Licensor, *,
                          what: str = "licence") -> HeadSigned:
    """The head-signed document (``what``: licence, refusal letter), when its signature verifies and the
    certificate (trusted, valid, not revoked) is a first head's, carrying the licensor's BIN; a
    signature refusal's code otherwise."""
    try:
        verified = verifier.verify_document(signed, expect_bin=lic.bin, required_roles=("first-head",))
    except SignatureRefused as exc:
        raise E.ElicenseFault(E.signature_code(exc.reason), f"the {what} is not signed by the first head of "
                              f"licensor {lic.code}: {exc.detail}", data=exc.reason.value) from exc
    except XmlError as exc:
        raise E.ElicenseFault(E.MALFORMED, f"the signed {what} is not a document: {exc}", data=what) from exc
    return HeadSigned(signed, verified.root)


def _c14n(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, method="c14n", exclusive=True))


def check_same_document(head_signed: HeadSigned, made: etree._Element) -> None:
    """The head signed exactly ``made``, the licence or letter the decision gives now; CONFLICT
    otherwise (another licence took the prepared number, the day changed, other special conditions or
    missing documents): prepare and sign again."""
    if _c14n(head_signed.content) != _c14n(made):
        what = etree.QName(made).localname
        raise E.ElicenseFault(E.CONFLICT, f"the signed {what} is not the {what} this decision gives now: prepare it "
                                          "and sign it again", data=what)


def applicant_head(app: Application) -> str:
    """Who a letter to the applicant is addressed to: the head the application names; else the
    signer, when the applicant signed it (the portal channel: the head's own certificate, carrying
    the applicant's BIN); else the applicant's name."""
    applicant = app.data["applicant"]
    if applicant.get("head_name"):
        return str(applicant["head_name"])
    signer = app.data.get("signer") or {}
    if signer.get("full_name") and applicant["iin_bin"] in (signer.get("bin"), signer.get("iin")):
        return str(signer["full_name"])
    return str(applicant["name"])


def check_refusal(missing: Sequence[dict[str, str]]) -> None:
    """A refusal lists at least one missing document."""
    if not missing:
        raise E.ElicenseFault(E.INVALID_DATA, "a refusal lists at least one missing document",
                              data="MissingDocument")


# --------------------------------------------------------------------------- survey


def check_survey(session: Session, app: Application, service_quality: str, information_quality: str) -> None:
    """The survey is answered by the applicant, after the decision, with one of ``SURVEY_ANSWERS`` each."""
    if session.kind != "applicant":
        raise E.ElicenseFault(E.FORBIDDEN, "the survey is answered by the applicant", data="SessionToken")
    if app.status not in ("ISSUED", "REFUSED"):
        raise E.ElicenseFault(E.CONFLICT, f"application {app.number} is {app.status}; the survey follows the "
                                          "decision", data=app.number)
    for name, value in (("ServiceQuality", service_quality), ("InformationQuality", information_quality)):
        if value not in SURVEY_ANSWERS:
            raise E.ElicenseFault(E.INVALID_DATA, f"{name} must be one of {', '.join(SURVEY_ANSWERS)}", data=name)


def survey_repeated(number: str, answered: tuple[str, str] | None, given: tuple[str, str]) -> bool:
    """Whether the answers ``given`` (service, information quality) are those already recorded
    (``answered``; None: none yet): a repeat succeeds without storing; other answers are a CONFLICT."""
    if answered is None:
        return False
    if answered == given:
        return True
    raise E.ElicenseFault(E.CONFLICT, f"the survey of application {number} is already answered "
                                      "with other answers", data=number)
