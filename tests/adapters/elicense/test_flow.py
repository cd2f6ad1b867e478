"""End to end over real HTTP: portal applicant → signed application → provider decision → signed licence."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from adapters.elicense import ApplicationDetails
from tests.fixtures.elicense import ElicenseEnv


def _issue_flow(env: ElicenseEnv, client: Any) -> tuple[Any, ApplicationDetails]:
    person = env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    form = env.form(person)
    info = client.submit_application(session, form, person.signing, files={"charter.pdf": b"%PDF-1.4 charter"},
                                     idempotency_key=f"reg-{person.iin_bin}")
    officer = env.employee(client)
    client.start_processing(officer, info.number)
    decided = client.issue(officer, info.number, idempotency_key=f"dec-{info.number}",
                           special_conditions="Programmes listed in the appendix only")
    return person, decided


def test_catalogue_lists_five_services_and_licensors(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    catalogue = client.get_catalogue()
    assert [s.code for s in catalogue.services] == ["S1", "S2", "S3", "S4", "S5"]
    assert catalogue.activity_type.code == "M65"
    assert catalogue.activity_type.name_kz == "Білім беру саласындағы қызмет"  # as the regulation names it
    assert len(catalogue.licensors) == 21  # the Committee + 17 regions + 3 cities
    assert len([t for t in catalogue.territories if t.kind != "country"]) == 20
    assert {s.licensor_level for s in catalogue.services if s.code in ("S3", "S4")} == {"territorial"}
    assert all(s.sub_types for s in catalogue.services)


def test_issue_flow_returns_verified_signed_licence(elicense_env: ElicenseEnv, tmp_path: Path) -> None:
    client = elicense_env.client()
    person, decided = _issue_flow(elicense_env, client)
    app = decided.application
    assert app.status == "ISSUED"
    assert [h.status for h in app.status_history] == ["SENT", "IN_PROGRESS", "ISSUED"]
    assert app.registered_at >= app.submitted_at.replace(microsecond=0)
    assert app.signer.bin == person.iin_bin
    assert app.licensor.code == "KKSON"
    assert app.attachments[0].file_name == "charter.pdf"
    assert "16180.00000 KZT paid, document No. 90102 of 01.11.2012" in app.payment_information

    signed = decided.licence
    assert signed is not None
    lic = signed.licence
    assert lic.number == app.licence_number
    assert lic.number.startswith("KZ00LAA")
    assert lic.activity_type.code == "M65"
    assert lic.special_conditions == "Programmes listed in the appendix only"
    assert lic.head.iin == signed.signer.iin
    assert "first-head" in signed.signer.roles
    assert [st.code for st in lic.appendices[0].sub_types] == ["ED010100"]

    # the same bytes verify with xmlsec1, independently of our verifier
    pki = elicense_env.keys.pki
    (tmp_path / "licence.xml").write_bytes(signed.xml)
    from cryptography.hazmat.primitives.serialization import Encoding

    (tmp_path / "ca.pem").write_bytes(pki.root_certificate.public_bytes(Encoding.PEM)
                                      + pki.issuing_certificate.public_bytes(Encoding.PEM))
    done = subprocess.run(["xmlsec1", "--verify", "--trusted-pem", str(tmp_path / "ca.pem"),
                           "--id-attr:Id", "Licence", str(tmp_path / "licence.xml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

    fetched = client.get_licence(lic.number)
    assert fetched.status == "ACTIVE"
    assert fetched.licence == lic


def test_status_changes_are_notified_through_the_gateway(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    _, decided = _issue_flow(elicense_env, client)
    number = decided.application.number
    notices = elicense_env.notices(number)
    assert [n.status for n in notices] == ["SENT", "IN_PROGRESS", "ISSUED"]
    assert all(n.application_number == number for n in notices)
    assert notices[-1].licence_number == decided.application.licence_number
    assert notices[0].signer.bin is not None
    # acknowledged with sendDeliveryNotification: not delivered again
    assert elicense_env.notices(number) == []
    sent = elicense_env.backend.notifications()
    assert [n["status"] for n in sent if n["application_number"] == number] == ["SENT", "IN_PROGRESS", "ISSUED"]
    assert all(n["message_id"] and n["error"] is None for n in sent)


def test_refusal_lists_missing_documents_in_a_signed_letter(elicense_env: ElicenseEnv) -> None:
    from adapters.elicense import MissingDocument

    client = elicense_env.client()
    person = elicense_env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    info = client.submit_application(session, elicense_env.form(person), person.signing, idempotency_key="r-1")
    officer = elicense_env.employee(client)
    client.start_processing(officer, info.number)
    missing = [MissingDocument(document="notarised copy of the charter", comment="copy not notarised"),
               MissingDocument(document="payment document for the licence fee", comment="not provided")]
    decided = client.refuse(officer, info.number, missing, idempotency_key="r-dec-1")
    assert decided.application.status == "REFUSED"
    # the memo's status and the application's type and category, named in Kazakh and Russian; the code stays
    app = decided.application
    assert (app.status_name_kz, app.status_name) == ("беруден бас тарту шешімі қабылданды",
                                                     "принято решение об отказе в выдаче")
    assert (app.application_type_name_kz, app.category_kz) == ("Лицензия және қосымшаларды беруге өтініш",
                                                                "Қызмет түріне лицензия")
    first = app.status_history[0]
    assert (first.status, first.status_name_kz) == ("SENT", "мемлекеттік органға жөнелтілді")
    assert decided.licence is None and decided.refusal is not None
    letter = decided.refusal.letter
    assert letter.missing_documents == tuple(missing)
    # addressed to the applicant's head (here the signer of the application, on the portal), in both languages
    assert letter.addressee.full_name == decided.application.signer.full_name
    assert letter.salutation.kz == f"Құрметті {letter.addressee.full_name}!"
    assert letter.salutation.ru == f"Уважаемый(-ая) {letter.addressee.full_name}!"
    assert letter.application_type == "ISSUE" and letter.licence_number is None
    assert f"№ {info.number}" in letter.text.kz and "лицензия алу жөніндегі" in letter.text.kz
    assert letter.text.kz.endswith("қанағаттандыруға БАС ТАРТЫЛДЫ.")
    assert f"№ {info.number}" in letter.text.ru and "на получение лицензии" in letter.text.ru
    assert letter.text.ru.endswith("ОТКАЗАНО.")
    assert letter.state_body_address.kz.startswith("Астана қ.") and letter.state_body_address.ru.startswith("г. Астана")
    assert decided.refusal.signer.bin == letter.state_body.bin
    # the applicant reads the same decision
    seen = client.get_application(session, info.number)
    assert seen.refusal is not None and seen.refusal.letter == letter


def test_territorial_service_goes_to_the_department_of_the_applicants_region(elicense_env: ElicenseEnv) -> None:
    from adapters.elicense import AuthorisationDenied

    client = elicense_env.client()
    person = elicense_env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    form = elicense_env.form(person, service="S4", sub_types=("ED040100", "ED040300"), city_kato="750000000")
    info = client.submit_application(session, form, person.signing, idempotency_key="terr-1")
    assert info.licensor.code == "DKSO75"
    committee = elicense_env.employee(client)
    try:
        client.start_processing(committee, info.number)
        raise AssertionError("the Committee's employee must not process a department's application")
    except AuthorisationDenied as exc:
        assert exc.code == "ELC103"
    almaty = elicense_env.employee(client, "DKSO75")
    client.start_processing(almaty, info.number)
    decided = client.issue(almaty, info.number, idempotency_key="terr-dec")
    assert decided.licence is not None
    assert decided.licence.licence.number.startswith("KZ75LAA")
    assert decided.licence.licence.issuing_body.code == "DKSO75"
    assert {s.code for s in decided.licence.licence.appendices[0].sub_types} == {"ED040100", "ED040300"}


def test_reissue_duplicate_and_appendix_on_an_existing_licence(elicense_env: ElicenseEnv) -> None:
    from decimal import Decimal

    client = elicense_env.client()
    person, decided = _issue_flow(elicense_env, client)
    assert decided.licence is not None
    original = decided.licence.licence
    session = client.authorize_applicant(person.auth, person.password)
    officer = elicense_env.employee(client)

    def run(app_type: str, number: str, sub_types: tuple[str, ...] = ()) -> Any:
        form = elicense_env.form(person, app_type=app_type, licence_number=number, sub_types=sub_types,
                                 paid=Decimal("1618.00"))
        info = client.submit_application(session, form, person.signing, idempotency_key=f"{app_type}-{number}")
        assert info.target_licence_number == number
        client.start_processing(officer, info.number)
        done = client.issue(officer, info.number, idempotency_key=f"dec-{info.number}")
        assert done.licence is not None
        return done.licence

    appendix = run("APPENDIX", original.number, ("ED010200",))
    assert appendix.licence.number == original.number
    assert [a.number for a in appendix.licence.appendices] == [1, 2]
    assert appendix.licence.appendices[1].sub_types[0].code == "ED010200"

    duplicate = run("DUPLICATE", original.number)
    assert duplicate.licence.kind == "DUPLICATE"
    assert duplicate.licence.number == original.number
    assert duplicate.licence.issue_date == original.issue_date
    found = client.search(number=original.number).licenses[0]
    assert found.stop_suspend_duplicate_date is not None

    reissued = run("REISSUE", original.number)
    assert reissued.licence.kind == "REISSUED"
    assert reissued.licence.number != original.number
    assert reissued.licence.previous_licence_number == original.number
    assert len(reissued.licence.appendices) == 2
    assert client.get_licence(original.number).status == "REISSUED"
    assert client.get_licence(reissued.licence.number).status == "ACTIVE"


def test_employee_channel_registers_paper_application_signed_by_the_licensor(elicense_env: ElicenseEnv) -> None:
    """Diagram 2: the provider's employee enters the applicant's data and signs with the licensor's BIN."""
    from adapters.core.errors import RefusalReason, SignatureRefused
    from adapters.core.xmlsig import SigningService
    from simulators.elicense import catalogue as cat

    client = elicense_env.client()
    person = elicense_env.applicant(register=False)
    committee = cat.licensor(cat.COMMITTEE_CODE)
    assert committee is not None
    officer_key = elicense_env.keys.pki.issue(iin="871008401427", bin=committee.bin, org=committee.name_ru)
    officer = elicense_env.employee(client)
    form = elicense_env.form(person, payment=False).model_copy(update={"paper_documents": "charter (paper)"})
    info = client.register_application(officer, client.sign_application(form, SigningService(
        officer_key.key_material)), idempotency_key="paper-1")
    assert info.channel == "employee" and info.status == "SENT"
    assert info.signer.bin == committee.bin
    # the applicant's own key is not the licensor's: refused in this channel
    with pytest.raises(SignatureRefused) as exc:
        client.register_application(officer, client.sign_application(form, person.signing),
                                    idempotency_key="paper-2")
    assert exc.value.reason is RefusalReason.BIN_MISMATCH
