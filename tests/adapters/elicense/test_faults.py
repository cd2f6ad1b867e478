"""Fault injection, retries with idempotency keys, the control API, contract files."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from adapters.contracts.elicense import ELICENSE_WSDL
from adapters.core.errors import RefusalReason, RetriesExhaustedError, SignatureRefused, SoapFaultError
from adapters.core.resilience import ResilientCaller, RetryPolicy
from tests.adapters.contracts import zeep_oracle
from tests.fixtures.control import control_session
from tests.fixtures.elicense import ElicenseEnv

FAST = RetryPolicy(max_attempts=3, initial_backoff=0.0, max_backoff=0.0, jitter=0.0)


def _caller() -> ResilientCaller:
    return ResilientCaller(FAST, sleep=lambda _s: None)


def _signed(env: ElicenseEnv) -> tuple[Any, Any, Any, bytes]:
    client = env.client(caller=_caller())
    person = env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    return client, person, session, client.sign_application(env.form(person), person.signing)


def test_answer_lost_after_registration_is_retried_without_a_second_application(elicense_env: ElicenseEnv) -> None:
    client, _, session, signed = _signed(elicense_env)
    elicense_env.faults.add("reset", operation="RegisterApplication", when="after", times=1)
    info = client.register_application(session, signed, idempotency_key="crash-resume")
    assert len(elicense_env.backend.list_applications(None)) == 1
    journal = elicense_env.sim.journal.entries(operation="RegisterApplication")
    assert [e.outcome for e in journal] == ["injected:reset", "ok"]
    assert all(e.backend_called for e in journal)
    assert info.number == elicense_env.backend.list_applications(None)[0].number


def test_server_fault_then_success_and_exhaustion(elicense_env: ElicenseEnv) -> None:
    client, _, session, signed = _signed(elicense_env)
    elicense_env.faults.add("soap_fault", operation="RegisterApplication", times=2, code="ELC909")
    info = client.register_application(session, signed, idempotency_key="flaky")
    assert info.status == "SENT"
    elicense_env.faults.add("http_status", operation="GetCatalogue", http_status=503)
    with pytest.raises(RetriesExhaustedError) as exc:
        client.get_catalogue()
    assert exc.value.attempts == 3


def test_soap_fault_without_retry_is_typed(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    elicense_env.faults.add("soap_fault", operation="GetCatalogue", times=1, code="ELC909", message="down")
    with pytest.raises(SoapFaultError) as exc:
        client.get_catalogue()
    assert exc.value.code == "ELC909" and exc.value.retryable


def test_tampered_licence_is_refused_by_the_adapter(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    person = elicense_env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    info = client.submit_application(session, elicense_env.form(person), person.signing, idempotency_key="t")
    officer = elicense_env.employee(client)
    client.start_processing(officer, info.number)
    number = client.issue(officer, info.number, idempotency_key="t-dec").application.licence_number
    assert number is not None
    elicense_env.faults.add("invalid_signature", operation="GetLicence", times=1)
    with pytest.raises(SignatureRefused) as exc:
        client.get_licence(number)
    assert exc.value.reason is RefusalReason.DIGEST_MISMATCH
    assert client.get_licence(number).licence.number == number


def test_control_api_lists_and_resets(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    person = elicense_env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    info = client.submit_application(session, elicense_env.form(person), person.signing, idempotency_key="c")
    base = elicense_env.sim.url
    http = control_session(elicense_env.sim.control_token)
    listed = http.get(f"{base}/_control/applications", timeout=10).json()
    assert listed["count"] == 1 and listed["applications"][0]["number"] == info.number
    one = http.get(f"{base}/_control/applications/{info.number}", timeout=10).json()
    assert one["history"][0]["status"] == "SENT"
    cat = http.get(f"{base}/_control/catalogue", timeout=10).json()
    assert cat["licensors"][0]["employee_login"] == "kkson.officer"
    added = http.post(f"{base}/_control/seed", timeout=10, json={
        "employees": [{"login": "qa", "password": "qa-pass", "licensor_code": "DKSO71"}]}).json()
    assert added["employees"] == 1
    assert client.authorize_employee("qa", "qa-pass").licensor_code == "DKSO71"
    assert http.post(f"{base}/_control/reset", timeout=10).json() == {"reset": True}
    assert http.get(f"{base}/_control/applications", timeout=10).json()["count"] == 0


def test_malformed_request_is_refused_by_the_simulator(elicense_env: ElicenseEnv) -> None:
    body = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b'<GetLicenceRequest xmlns="http://elicense.kz/Elicense/v10/Types"><LicenceNumber>bad</LicenceNumber>'
            b'</GetLicenceRequest></soap:Body></soap:Envelope>')
    resp = requests.post(elicense_env.sim.endpoint, data=body, timeout=10,
                         headers={"Content-Type": "text/xml; charset=utf-8"})
    assert resp.status_code == 500
    assert b"<errorCode>ELC001</errorCode>" in resp.content
    dtd = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + body
    resp = requests.post(elicense_env.sim.endpoint, data=dtd, timeout=10)
    assert b"ELC001" in resp.content and b"DTD" in resp.content


def test_wsdl_describes_both_services() -> None:
    client = zeep_oracle.wsdl(ELICENSE_WSDL)  # local files only
    services = client.wsdl.services
    assert set(services) == {"ElicenseService", "UniversalLicenseService"}
    ops = set(services["ElicenseService"].ports["ElicensePort"].binding._operations)
    assert {"Authorize", "UploadAttachment", "RegisterApplication", "Decide", "GetLicence",
            "SubmitSurvey", "GetSurveyIndicators"} <= ops
