"""The E-licensing readers (``adapters.elicense.answers``) against zeep, the WSDL's interpreter:
the answers of a whole procedure, recorded as the client received them (after the schema check),
are read by our readers as zeep's ``deserialize`` reads them; what cannot be read is an
``InvalidResponseError`` naming the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree

from adapters.contracts.elicense import ELICENSE_WSDL, el
from adapters.core.errors import InvalidResponseError
from adapters.elicense import ApplicationInfo, MissingDocument, answers
from tests.adapters.contracts import zeep_oracle
from tests.fixtures.elicense import ElicenseEnv


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


@pytest.fixture
def recorded(elicense_env: ElicenseEnv) -> Iterator[dict[str, list[etree._Element]]]:
    """Every answer payload of a procedure (registration, upload, issue, refusal, survey, search)."""
    client = elicense_env.client()
    seen: dict[str, list[etree._Element]] = {}
    exchange = client._exchange

    def recording(operation: str, body: Any, **kwargs: Any) -> etree._Element:
        payload = exchange(operation, body, **kwargs)
        seen.setdefault(operation, []).append(payload)
        return payload

    client._exchange = recording  # type: ignore[method-assign]
    newcomer = elicense_env.applicant(register=False)
    client.register_applicant(newcomer.auth, newcomer.password)
    client.change_applicant_password("renewed-pass", old_password=newcomer.password, iin_bin=newcomer.iin_bin)
    person = elicense_env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    client.get_catalogue()
    issued = client.submit_application(session, elicense_env.form(person), person.signing,
                                       files={"charter.pdf": b"%PDF-1.4 charter"}, idempotency_key="ans-1")
    refused = client.submit_application(session, elicense_env.form(person), person.signing, idempotency_key="ans-2")
    officer = elicense_env.employee(client)
    for number in (issued.number, refused.number):
        client.start_processing(officer, number)
    decided = client.issue(officer, issued.number, idempotency_key="ans-dec-1", special_conditions="Only these")
    client.refuse(officer, refused.number, [MissingDocument(document="charter", comment="absent")],
                  idempotency_key="ans-dec-2")
    client.list_applications(session)
    client.get_application(session, issued.number)
    assert decided.licence is not None
    client.get_licence(decided.licence.licence.number)
    client.submit_survey(session, issued.number, "SATISFIED", "PARTLY_SATISFIED")
    client.survey_indicators()
    client.search(iin_bin=person.iin_bin)
    yield seen


def _zeep(operation: str, payload: etree._Element) -> Any:
    return zeep_oracle.deserialize(ELICENSE_WSDL, operation, payload)


def _application(ours: ApplicationInfo, zeep: Any) -> None:
    assert (ours.number, ours.application_type, ours.status, ours.status_name, ours.service_code,
            ours.applicant.iin_bin, ours.applicant.name, ours.applicant.address.city_kato, ours.submitted_at,
            ours.registered_at, ours.licensor.code, ours.territory.code, ours.activity_type.code,
            ours.signer.iin, ours.licence_number) == (
        zeep.Number, zeep.ApplicationType, zeep.Status, zeep.StatusName, zeep.ServiceCode,
        zeep.Applicant.IinBin, zeep.Applicant.Name, zeep.Applicant.Address.CityKato, _utc(zeep.SubmittedAt),
        _utc(zeep.RegisteredAt), zeep.Licensor.Code, zeep.Territory.Code, zeep.ActivityType.Code,
        zeep.Signer.Iin, zeep.LicenceNumber)
    assert [s.code for s in ours.sub_types] == [s.Code for s in zeep.SubType]
    assert [(a.file_name, a.sha256, a.size) for a in ours.attachments] == [
        (a.FileName, a.Sha256, a.Size) for a in zeep.Attachment]
    assert [(h.status, h.changed_at) for h in ours.status_history] == [
        (h.Status, _utc(h.ChangedAt)) for h in zeep.StatusHistory.Entry]
    if ours.payment is not None:
        assert (ours.payment.amount_paid, ours.payment.document_date) == (
            zeep.Payment.AmountPaid, zeep.Payment.DocumentDate)


def test_every_answer_of_a_procedure_is_what_zeep_reads(recorded: dict[str, list[etree._Element]]) -> None:
    for payload in recorded["RegisterApplicant"]:
        ours, zeep = answers.registered_applicant(payload), _zeep("RegisterApplicant", payload)
        assert (ours.iin_bin, ours.name) == (zeep.IinBin, zeep.Name)
    for payload in recorded["GetChallenge"]:
        challenge, zeep = answers.challenge(payload), _zeep("GetChallenge", payload)
        assert (challenge.document, challenge.expires_at) == (zeep.Challenge, _utc(zeep.ExpiresAt))
    for payload in recorded["ChangePassword"]:  # the only child, handed over itself
        assert answers.password_changed(payload) == _zeep("ChangePassword", payload)
    for payload in recorded["Authorize"]:
        session, zeep = answers.session(payload), _zeep("Authorize", payload)
        assert (session.token, session.role, session.subject, session.licensor_code, session.expires_at) == (
            zeep.SessionToken, zeep.Role, zeep.Subject, zeep.LicensorCode, _utc(zeep.ExpiresAt))
    for payload in recorded["UploadAttachment"]:
        uploaded, zeep = answers.uploaded_attachment(payload, "charter.pdf"), _zeep("UploadAttachment", payload)
        assert (uploaded.id, uploaded.sha256, uploaded.size) == (zeep.AttachmentId, zeep.Sha256, zeep.Size)
    for operation in ("RegisterApplication", "StartProcessing", "Decide", "GetApplication"):
        for payload in recorded[operation]:
            zeep = _zeep(operation, payload)
            # zeep hands over the only child of an answer itself, not the answer
            _application(answers.application(payload), getattr(zeep, "Application", zeep))
            for name in ("SignedLicence", "SignedRefusal"):
                assert answers.signed_document(payload, name) == getattr(zeep, name, None)
    for payload in recorded["ListApplications"]:
        listed, zeep = answers.applications(payload), _zeep("ListApplications", payload)
        assert len(listed) == len(zeep) == 2  # the only child, a list, handed over itself
        for ours, theirs in zip(listed, zeep, strict=True):
            _application(ours, theirs)
    for payload in recorded["GetLicence"]:
        zeep = _zeep("GetLicence", payload)
        assert answers.licence_status(payload) == zeep.Status
        assert answers.signed_document(payload, "SignedLicence") == zeep.SignedLicence
    for payload in recorded["GetCatalogue"]:
        catalogue, zeep = answers.catalogue(payload), _zeep("GetCatalogue", payload)
        assert (catalogue.activity_type.code, catalogue.activity_type.name_kz) == (
            zeep.ActivityType.Code, zeep.ActivityType.NameKz)
        assert [(s.code, s.licensor_level, [t.code for t in s.sub_types]) for s in catalogue.services] == [
            (s.Code, s.LicensorLevel, [t.Code for t in s.SubType]) for s in zeep.Service]
        assert [(x.code, x.bin, x.territory_code) for x in catalogue.licensors] == [
            (x.Code, x.Bin, x.TerritoryCode) for x in zeep.Licensor]
        assert [(t.code, t.kind) for t in catalogue.territories] == [(t.Code, t.Kind) for t in zeep.Territory]
    for payload in recorded["GetSurveyIndicators"]:
        indicators, zeep = answers.survey_indicators(payload), _zeep("GetSurveyIndicators", payload)
        assert indicators
        assert [(i.service_code, i.question, i.answers, i.satisfied, i.partly_satisfied, i.not_satisfied,
                 i.satisfied_share, i.partly_satisfied_share, i.satisfied_or_partly_share) for i in indicators] == [
            (i.ServiceCode, i.Question, i.Answers, i.Satisfied, i.PartlySatisfied, i.NotSatisfied, i.SatisfiedShare,
             i.PartlySatisfiedShare, i.SatisfiedOrPartlyShare) for i in zeep]  # a list, handed over itself
    for payload in recorded["GetUniversalLicenses"]:
        found, zeep = answers.universal_license_response(payload), _zeep("GetUniversalLicenses", payload)
        assert (found.total_count, found.system_info.message_id, found.system_info.message_date) == (
            zeep.TotalCount, zeep.SystemInfo.MessageId, _utc(zeep.SystemInfo.MessageDate))
        assert [(x.number, x.iin_bin, x.issue_date, x.status, x.licensiar.code) for x in found.licenses] == [
            (x.Number, x.IinBin, x.IssueDate, x.Status, x.Licensiar.Code) for x in zeep.Licenses.UniversalLicense]
        assert found.total_count == 1


def test_a_value_that_cannot_be_read_is_an_invalid_answer_naming_the_field(
        recorded: dict[str, list[etree._Element]]) -> None:
    authorised = etree.fromstring(etree.tostring(recorded["Authorize"][0]))
    expires = authorised.find(el("ExpiresAt"))
    assert expires is not None
    expires.text = "tomorrow"
    with pytest.raises(InvalidResponseError) as info:
        answers.session(authorised)
    assert info.value.context["field"] == "ExpiresAt"

    role = etree.fromstring(etree.tostring(recorded["Authorize"][0]))
    found = role.find(el("Role"))
    assert found is not None
    found.text = "administrator"  # the schema says xsd:string; the model knows two roles
    with pytest.raises(InvalidResponseError) as info:
        answers.session(role)
    assert info.value.context["field"] == "role"

    uploaded = etree.fromstring(etree.tostring(recorded["UploadAttachment"][0]))
    size = uploaded.find(el("Size"))
    assert size is not None
    size.text = "big"
    with pytest.raises(InvalidResponseError) as info:
        answers.uploaded_attachment(uploaded, "charter.pdf")
    assert info.value.context["field"] == "Size"

    decided = etree.fromstring(etree.tostring(recorded["Decide"][0]))
    signed = decided.find(el("SignedLicence"))
    assert signed is not None
    signed.text = "not base64!"
    with pytest.raises(InvalidResponseError) as info:
        answers.signed_document(decided, "SignedLicence")
    assert info.value.context["field"] == "SignedLicence"
