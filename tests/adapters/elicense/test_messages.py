"""The E-licensing requests (``adapters.elicense.messages``) against zeep, the WSDL's interpreter:
each builder gives the Body zeep's ``create_message`` renders for the same values (C14N, prefixes
aside), valid against the schema; the SOAPAction of every operation is the WSDL's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from adapters.contracts.elicense import ELICENSE_WSDL, soap_action, validate
from adapters.elicense import LicenseSearch, MissingDocument, Session, SurveyAnswer, messages
from adapters.elicense.models import SystemInfo
from tests.adapters.contracts import zeep_oracle

SESSION = Session(token="tok-<&>-1", role="employee", subject="officer", licensor_code="KKSON",
                  expires_at=dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC))
NUMBER = "00001234"
CHALLENGE = b"<AuthChallenge>signed \x00\xff</AuthChallenge>"
APPLICANT = "940140000385"
SIGNED = b"<Application>signed</Application>"
KEY = "dec-00001234"

# (builder, operation, what zeep is given for the same values)
CASES: list[tuple[Callable[[], etree._Element], str, dict[str, Any]]] = [
    (messages.challenge_request, "GetChallenge", {}),
    (lambda: messages.register_applicant_request(APPLICANT, CHALLENGE, "pw ж"), "RegisterApplicant",
     {"IinBin": APPLICANT, "SignedChallenge": CHALLENGE, "Password": "pw ж"}),
    (lambda: messages.register_applicant_request(APPLICANT, CHALLENGE, "pw", email="a@b.kz", phone="+7 701 1234567"),
     "RegisterApplicant", {"IinBin": APPLICANT, "SignedChallenge": CHALLENGE, "Password": "pw", "Email": "a@b.kz",
                           "Phone": "+7 701 1234567"}),
    (lambda: messages.authorize_applicant_request(APPLICANT, CHALLENGE, "pw"), "Authorize",
     {"Applicant": {"IinBin": APPLICANT, "SignedChallenge": CHALLENGE, "Password": "pw"}}),
    (lambda: messages.change_password_request(APPLICANT, "new <&>", old_password="old"), "ChangePassword",
     {"IinBin": APPLICANT, "OldPassword": "old", "NewPassword": "new <&>"}),
    (lambda: messages.change_password_request(APPLICANT, "new", signed_challenge=CHALLENGE), "ChangePassword",
     {"IinBin": APPLICANT, "SignedChallenge": CHALLENGE, "NewPassword": "new"}),
    (lambda: messages.authorize_employee_request("officer", "pw"), "Authorize",
     {"Employee": {"Login": "officer", "Password": "pw"}}),
    (messages.catalogue_request, "GetCatalogue", {}),
    (lambda: messages.upload_attachment_request(SESSION, "устав.pdf", "JVBERi0xLjQ="), "UploadAttachment",
     {"SessionToken": SESSION.token, "FileName": "устав.pdf", "Content": b"%PDF-1.4"}),
    (lambda: messages.register_application_request(SESSION, SIGNED, idempotency_key="reg-1"), "RegisterApplication",
     {"SessionToken": SESSION.token, "IdempotencyKey": "reg-1", "SignedApplication": SIGNED}),
    (lambda: messages.get_attachment_request(SESSION, NUMBER, "устав.pdf"), "GetAttachment",
     {"SessionToken": SESSION.token, "ApplicationNumber": NUMBER, "FileName": "устав.pdf"}),
    (lambda: messages.get_application_request(SESSION, NUMBER), "GetApplication",
     {"SessionToken": SESSION.token, "ApplicationNumber": NUMBER}),
    (lambda: messages.list_applications_request(SESSION), "ListApplications", {"SessionToken": SESSION.token}),
    (lambda: messages.list_applications_request(SESSION, "IN_PROGRESS"), "ListApplications",
     {"SessionToken": SESSION.token, "Status": "IN_PROGRESS"}),
    (lambda: messages.start_processing_request(SESSION, NUMBER), "StartProcessing",
     {"SessionToken": SESSION.token, "ApplicationNumber": NUMBER}),
    (lambda: messages.issue_request(SESSION, NUMBER, idempotency_key=KEY), "Decide",
     {"SessionToken": SESSION.token, "ApplicationNumber": NUMBER, "IdempotencyKey": KEY, "Issue": {}}),
    (lambda: messages.issue_request(SESSION, NUMBER, idempotency_key=KEY, special_conditions="Only <these>",
                                    validity_end=dt.date(2029, 12, 31)), "Decide",
     {"SessionToken": SESSION.token, "ApplicationNumber": NUMBER, "IdempotencyKey": KEY,
      "Issue": {"SpecialConditions": "Only <these>", "ValidityEndDate": dt.date(2029, 12, 31)}}),
    (lambda: messages.prepare_licence_request(SESSION, NUMBER, special_conditions="Only <these>"), "PrepareLicence",
     {"SessionToken": SESSION.token, "ApplicationNumber": NUMBER, "SpecialConditions": "Only <these>"}),
    (lambda: messages.issue_request(SESSION, NUMBER, idempotency_key=KEY, signed_licence=SIGNED), "Decide",
     {"SessionToken": SESSION.token, "ApplicationNumber": NUMBER, "IdempotencyKey": KEY,
      "Issue": {"SignedLicence": SIGNED}}),
    (lambda: messages.prepare_refusal_request(SESSION, NUMBER, [MissingDocument(document="Charter", comment="absent")]),
     "PrepareRefusal", {"SessionToken": SESSION.token, "ApplicationNumber": NUMBER,
                        "MissingDocument": [{"Document": "Charter", "Comment": "absent"}]}),
    (lambda: messages.refuse_request(SESSION, NUMBER, [MissingDocument(document="Charter", comment="absent")],
                                     idempotency_key=KEY, signed_refusal=SIGNED), "Decide",
     {"SessionToken": SESSION.token, "ApplicationNumber": NUMBER, "IdempotencyKey": KEY,
      "Refuse": {"MissingDocument": [{"Document": "Charter", "Comment": "absent"}], "SignedRefusal": SIGNED}}),
    (lambda: messages.refuse_request(SESSION, NUMBER, [MissingDocument(document="Charter", comment="absent"),
                                                       MissingDocument(document="Lease", comment="expired")],
                                     idempotency_key=KEY), "Decide",
     {"SessionToken": SESSION.token, "ApplicationNumber": NUMBER, "IdempotencyKey": KEY,
      "Refuse": {"MissingDocument": [{"Document": "Charter", "Comment": "absent"},
                                     {"Document": "Lease", "Comment": "expired"}]}}),
    (lambda: messages.licence_request("KZ71LAA00000012"), "GetLicence", {"LicenceNumber": "KZ71LAA00000012"}),
    (lambda: messages.survey_request(SESSION, NUMBER, SurveyAnswer.SATISFIED, "PARTLY_SATISFIED"), "SubmitSurvey",
     {"SessionToken": SESSION.token, "ApplicationNumber": NUMBER, "ServiceQuality": "SATISFIED",
      "InformationQuality": "PARTLY_SATISFIED"}),
    (messages.survey_indicators_request, "GetSurveyIndicators", {}),
    (lambda: messages.survey_indicators_request("S1"), "GetSurveyIndicators", {"ServiceCode": "S1"}),
]


@pytest.mark.parametrize(("build", "operation", "arguments"), CASES,
                         ids=[f"{operation}-{i}" for i, (_, operation, _) in enumerate(CASES)])
def test_request_is_what_zeep_renders(build: Callable[[], etree._Element], operation: str,
                                      arguments: dict[str, Any]) -> None:
    built = build()
    zeep = zeep_oracle.rendered_payload(ELICENSE_WSDL, operation, **arguments)
    assert zeep_oracle.c14n(built) == zeep_oracle.c14n(zeep)
    validate(built, what=f"{operation} request")


SYSTEM_INFO = SystemInfo(message_id="m-1", message_date=dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC),
                         message_type="Request", service_id="ElicenseUniversalLicense", sender_id="MINISTRY_EDU",
                         signature_type="None")


@pytest.mark.parametrize("criteria", [
    LicenseSearch(),
    LicenseSearch(iin_bin="940140000385", number="KZ71LAA00000012", issue_date=dt.date(2024, 5, 1),
                  activity_codes=("M65", "M66"), licensor_code="KKSON", name="Колледж", page_index=2, page_size=50),
])
def test_search_request_is_what_zeep_renders(criteria: LicenseSearch) -> None:
    built = messages.universal_license_request(criteria, SYSTEM_INFO)
    zeep = zeep_oracle.rendered_payload(
        ELICENSE_WSDL, "GetUniversalLicenses",
        SystemInfo={"MessageId": "m-1", "MessageDate": SYSTEM_INFO.message_date.isoformat(),
                    "MessageType": "Request", "ServiceId": "ElicenseUniversalLicense", "SenderId": "MINISTRY_EDU",
                    "SignatureType": "None"},
        PageIndex=criteria.page_index, PageSize=criteria.page_size, IinBin=criteria.iin_bin,
        NumberNikadUinrd=criteria.number, IssueDate=criteria.issue_date,
        ActivityCodes={"Code": list(criteria.activity_codes)} if criteria.activity_codes else None,
        LicensiarCode=criteria.licensor_code, Name=criteria.name)
    assert zeep_oracle.c14n(built) == zeep_oracle.c14n(zeep)
    validate(built, what="search request")


def test_soap_action_of_every_operation_is_the_wsdls() -> None:
    operations = zeep_oracle.operations(ELICENSE_WSDL)
    assert len(operations) == 18
    for operation, action in operations.items():
        assert soap_action(operation) == action
