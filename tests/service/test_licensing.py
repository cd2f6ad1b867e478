"""``/api/v1/licences`` and ``/api/v1/applications``: search, the verified licence as JSON, signed XML
and PDF, an application's status and decision — and their refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest

from harness.landscape import Landscape
from service import ServiceRuntime, ServiceServer, create_app
from service.callers import add_caller
from tests.service.conftest import Issued, Running, error_of, service_settings


def test_search_by_number_licensor_and_licensee(service: Running, issued: Issued) -> None:
    for params in ({"number": issued.licence_number}, {"licensor": issued.licensor},
                   {"iin_bin": issued.licensee_bin}):
        answer = service.get("/api/v1/licences", params=params)
        assert answer.status_code == 200, answer.text
        numbers = [lic["number"] for lic in answer.json()["licences"]]
        assert issued.licence_number in numbers, params
    assert service.get("/api/v1/licences", params={"number": "KZ99LAA99999999"}).json()["total_count"] == 0


def test_search_needs_a_criterion_and_sane_paging(service: Running) -> None:
    assert error_of(service.get("/api/v1/licences"), 422, "EGOV100")["field"] == "query"
    assert error_of(service.get("/api/v1/licences", params={"name": "x", "page_size": 1000}), 422,
                    "EGOV100")["field"] == "page_size"


def test_the_licence_verified_as_json(service: Running, issued: Issued) -> None:
    answer = service.get(f"/api/v1/licences/{issued.licence_number}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["number"] == issued.licence_number and body["status"] == "ACTIVE"
    assert body["licence"]["licensee"]["iin_bin"] == issued.licensee_bin
    assert "first-head" in body["signer"]["roles"]
    assert body["signer"]["bin"] == body["licence"]["issuing_body"]["bin"]


def test_the_signed_licence_xml_verifies_again(service: Running, issued: Issued) -> None:
    answer = service.get(f"/api/v1/licences/{issued.licence_number}/xml")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
    assert "first-head" in answer.headers["X-Egov-Signer"]
    again = service.runtime.clients.elicense.verify_licence(answer.content)
    assert again.licence.number == issued.licence_number


def test_the_licence_pdf(service: Running, issued: Issued, tmp_path: Path) -> None:
    answer = service.get(f"/api/v1/licences/{issued.licence_number}/pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert f'filename="licence-{issued.licence_number}.pdf"' in answer.headers["content-disposition"]
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(answer.content)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert issued.licence_number in text and "ЛИЦЕНЗИЯ" in text


def test_an_unknown_licence_is_not_found(service: Running) -> None:
    for suffix in ("", "/xml", "/pdf"):
        error_of(service.get(f"/api/v1/licences/KZ99LAA99999999{suffix}"), 404, "ELC501")


def test_an_application_and_its_decision(service: Running, issued: Issued) -> None:
    answer = service.get(f"/api/v1/applications/{issued.application_number}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["application"]["status"] == "ISSUED"
    assert [h["status"] for h in body["application"]["status_history"]] == ["SENT", "IN_PROGRESS", "ISSUED"]
    assert body["licence"]["number"] == issued.licence_number and body["refusal"] is None
    # named for people in Kazakh and Russian; the codes as on the wire
    application = body["application"]
    assert (application["status_name_kz"], application["status_name"]) == ("беру шешімі қабылданды",
                                                                           "принято решение о выдаче")
    assert application["application_type"] == "ISSUE" and application["application_type_name_kz"]
    assert body["service"]["code"] == application["service_code"] == "S4"
    assert body["service"]["kk"].startswith("Бастауыш") and body["service"]["ru"].startswith("Образовательные")


def test_an_unknown_application_and_a_bad_number(service: Running) -> None:
    error_of(service.get("/api/v1/applications/99999999"), 404, "ELC501")
    assert error_of(service.get("/api/v1/applications/12 34"), 422, "EGOV100")["field"] == "number"


@pytest.fixture(scope="module")
def no_employee(landscape: Landscape, manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[str, str]]:
    """A service with no E-licensing employee configured."""
    settings = service_settings(manifest, tmp_path_factory.mktemp("no-employee"))
    key = add_caller(settings.service_callers_file, "full", ["*"])
    with ServiceRuntime.from_settings(settings) as runtime, ServiceServer(create_app(runtime)) as server:
        yield server.url, key


def test_applications_need_a_configured_employee(no_employee: tuple[str, str], issued: Issued) -> None:
    import requests

    url, key = no_employee
    answer = requests.get(f"{url}/api/v1/applications/{issued.application_number}", headers={"X-API-Key": key},
                          timeout=30)
    error = error_of(answer, 503, "EGOV110")
    assert "EGOV_ELICENSE_EMPLOYEE_LOGIN" in error["message"]


def test_an_employee_login_refused_by_elicense_is_a_setting_problem(service: Running, issued: Issued) -> None:
    from adapters.core.errors import ConfigurationError
    from service.employee import EmployeeSession

    refused = EmployeeSession(service.runtime.clients.elicense, f"{issued.licensor.lower()}.officer", "wrong")
    with pytest.raises(ConfigurationError, match="E-licensing refuses the employee") as caught:
        refused.run(lambda session: session)
    assert caught.value.context["setting"] == "elicense_employee_login"
    working = service.runtime.employee
    first = working.run(lambda session: session.token)
    assert working.run(lambda session: session.token) == first  # one login, kept while it is valid
