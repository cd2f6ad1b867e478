"""The demo's documents read back as a licensing officer reads them: the signed XML (verified) and the
PDF's text, for refusal letters (languages, addressee, wording per operation, no provided document
listed as missing) and licences (duplicate mark and date, re-issue's previous number and mark, the
appendix naming its licence, the licensor's seat as place of issue, special conditions)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from adapters.elicense.models import Licence, RefusalLetter
from harness.env import ProcedureEnv, procedure_env
from harness.scenario import Fault, Scenario
from procedure.machine import FlowResult
from procedure.models import FlowStatus, Operation, Service


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcedureEnv]:
    root = tmp_path_factory.mktemp("documents")
    with procedure_env(manifest=None, db=f"sqlite:///{root / 'egov.db'}", out_dir=root / "out") as made:
        yield made


def pdf_text(path: Path) -> str:
    """The PDF's text without whitespace (lines wrap wherever a cell's width ends)."""
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "".join("".join(page.extract_text() for page in reader.pages).split())


def in_pdf(text: str, needle: str) -> bool:
    return "".join(needle.split()) in text


def refusal(env: ProcedureEnv, result: FlowResult) -> tuple[RefusalLetter, str]:
    assert result.status is FlowStatus.REFUSED, result.detail
    xml = Path(str(result.data["refusal_xml"])).read_bytes()
    return env.clients.elicense.verify_refusal(xml).letter, pdf_text(Path(str(result.data["refusal_pdf"])))


def licence(env: ProcedureEnv, result: FlowResult) -> tuple[Licence, str]:
    assert result.status is FlowStatus.COMPLETED, result.detail
    xml = Path(str(result.data["licence_xml"])).read_bytes()
    return env.clients.elicense.verify_licence(xml).licence, pdf_text(Path(str(result.data["licence_pdf"])))


def test_portal_refusal_letter_is_the_samples_in_both_languages(env: ProcedureEnv) -> None:
    scenario = env.scenario("higher-postgraduate", "issue", 1, Fault.QUALIFICATION_NOT_MET)
    letter, pdf = refusal(env, env.run(scenario))
    head = scenario.applicant.identity.head_name
    assert head and letter.addressee.full_name == head
    assert letter.addressee.organisation == scenario.applicant.identity.name
    assert (letter.salutation.kz, letter.salutation.ru) == (f"Құрметті {head}!", f"Уважаемый(-ая) {head}!")
    # the Committee's address in Kazakh and Russian, not a region's English name
    assert letter.state_body_address.kz.startswith("Астана қ., Мәңгілік Ел даңғылы, 8")
    assert letter.state_body_address.ru.startswith("г. Астана, проспект Мангилик Ел, 8")
    assert "лицензия алу жөніндегі" in letter.text.kz and "қанағаттандыруға БАС ТАРТЫЛДЫ" in letter.text.kz
    assert "на получение лицензии на вид деятельности" in letter.text.ru and "ОТКАЗАНО" in letter.text.ru
    # the fee was paid (Condition 2): its payment document is not listed as missing
    names = [m.document for m in letter.missing_documents]
    assert names == ["Заявление установленной формы",
                     "Доля преподавателей с учёными степенями и званиями по специальностям не менее 50 процентов"]
    assert all(m.document_kz and m.comment_kz for m in letter.missing_documents)
    for text in (letter.salutation.kz, letter.salutation.ru, letter.text.kz, letter.text.ru,
                 letter.state_body_address.kz, letter.state_body_address.ru,
                 letter.missing_documents[0].document_kz or "", letter.missing_documents[0].comment_kz or ""):
        assert in_pdf(pdf, text), text
    assert "лицензиялықалым" not in pdf and "лицензионногосбора" not in pdf


@pytest.mark.parametrize(("operation", "kk", "ru"), [
    ("reissue", "лицензияны қайта ресімдеу жөніндегі", "на переоформление лицензии №"),
    ("duplicate", "лицензияның телнұсқасын алу жөніндегі", "на получение дубликата лицензии №"),
    ("appendix", "лицензияға қосымша алу жөніндегі", "на получение приложения к лицензии №"),
])
def test_refusal_wording_follows_the_operation(env: ProcedureEnv, operation: str, kk: str, ru: str) -> None:
    scenario = env.scenario("religious", operation, 2, Fault.QUALIFICATION_NOT_MET)
    letter, pdf = refusal(env, env.run(scenario))
    assert letter.application_type == operation.upper() and letter.licence_number == scenario.licence_number
    assert f"№ {scenario.licence_number} {kk}" in letter.text.kz
    assert f"{ru} {scenario.licence_number}" in letter.text.ru
    assert "лицензия алу жөніндегі" not in letter.text.kz
    assert in_pdf(pdf, letter.text.kz) and in_pdf(pdf, letter.text.ru)


def test_licence_kinds_read_alike_in_xml_and_pdf(env: ProcedureEnv) -> None:
    land = env.landscape
    applicant = land.new_applicant()
    officer = land.officer(land.licensor_for("S4", applicant.city_kato).code)
    seat = land.licensor_for("S4", applicant.city_kato)
    results: dict[str, FlowResult] = {}
    number: str | None = None
    for op in ("issue", "duplicate", "appendix", "reissue"):
        scenario = Scenario(service=Service.SCHOOL, operation=Operation(op), diagram=1,  # type: ignore[arg-type]
                            applicant=applicant, officer=officer, licence_number=number)
        app = env.application(scenario)
        if op == "issue":  # special conditions asked for in the application reach the licence
            app = app.model_copy(update={"special_conditions": "Оқыту тек күндізгі нысанда / только очная форма"})
        results[op] = env.steps.start(app, env.store)
        number = str(results[op].data["licence_number"])
    issued, issued_pdf = licence(env, results["issue"])
    assert issued.kind == "ORIGINAL" and issued.mark is None
    assert issued.special_conditions == "Оқыту тек күндізгі нысанда / только очная форма"
    assert in_pdf(issued_pdf, issued.special_conditions)
    # place of issue: the licensor's seat (a department sits in its regional centre), not the territory
    assert issued.issue_place.kz.endswith("қ.") and issued.issue_place.ru.startswith("г. ")
    assert issued.issue_place.kz != issued.territory.name_kz
    assert in_pdf(issued_pdf, issued.issue_place.kz) and in_pdf(issued_pdf, issued.issue_place.ru)
    assert seat.code == issued.issuing_body.code
    # the activity as the regulation names it
    assert issued.activity_type.name_kz == "Білім беру саласындағы қызмет"
    assert in_pdf(issued_pdf, "Білім беру саласындағы қызмет (M65)")
    assert in_pdf(issued_pdf, "Образовательная деятельность (M65)")

    duplicate, duplicate_pdf = licence(env, results["duplicate"])
    assert duplicate.kind == "DUPLICATE" and duplicate.number == issued.number
    assert duplicate.mark is not None and (duplicate.mark.kz, duplicate.mark.ru) == ("ТЕЛНҰСҚА", "ДУБЛИКАТ")
    assert duplicate.duplicate_date is not None and duplicate.issue_date == issued.issue_date
    assert in_pdf(duplicate_pdf, "ТЕЛНҰСҚА / ДУБЛИКАТ")
    assert in_pdf(duplicate_pdf, f"Дата выдачи дубликата {duplicate.duplicate_date:%d.%m.%Y}")

    appended, appended_pdf = licence(env, results["appendix"])
    assert [a.licence_number for a in appended.appendices] == [issued.number, issued.number]
    assert in_pdf(appended_pdf, f"Приложение № 2 к лицензии № {issued.number}")
    assert in_pdf(appended_pdf, f"№ {issued.number} лицензияға № 2 қосымша")

    reissued, reissued_pdf = licence(env, results["reissue"])
    assert reissued.kind == "REISSUED" and reissued.previous_licence_number == issued.number
    assert reissued.mark is not None and reissued.mark.ru == "ПЕРЕОФОРМЛЕНА"
    assert in_pdf(reissued_pdf, f"Номер предыдущей лицензии {issued.number}")
    assert in_pdf(reissued_pdf, "ҚАЙТА РЕСІМДЕЛДІ / ПЕРЕОФОРМЛЕНА")
    assert [a.licence_number for a in reissued.appendices] == [reissued.number] * 2


def test_provider_form_is_filled_from_the_register_and_shows_what_differs(env: ProcedureEnv) -> None:
    scenario = env.scenario("school", "issue", 2, Fault.NONE)
    identity = scenario.applicant.identity
    register_house = identity.house
    changed = scenario.model_copy(update={"applicant": scenario.applicant.model_copy(update={
        "identity": identity.model_copy(update={"house": "999", "head_name": ""})})})
    result = env.run(changed)
    assert result.status is FlowStatus.COMPLETED, result.detail
    assert result.data["register_mismatches"] == [{"field": "house", "register": register_house, "brought": "999"}]
    [step6] = [h for h in result.history if h.step == "6"]
    assert "differs from what was brought: house: register" in step6.detail
    issued, _ = licence(env, result)
    assert f", {register_house}" in issued.licensee.address and "999" not in issued.licensee.address


def test_my_permit_documents_list_the_licences_with_appendices_and_start_an_appendix(
        env: ProcedureEnv, tmp_path: Path) -> None:
    from harness.documents import application_documents, write_scans
    from procedure.permits import appendix_request, my_permit_documents, view, write_documents

    land = env.landscape
    applicant = land.new_applicant()
    officer = land.officer(land.licensor_for("S1", applicant.city_kato).code)
    first = Scenario(service=Service.HIGHER_POSTGRADUATE, operation=Operation.ISSUE, diagram=1,  # type: ignore[arg-type]
                     applicant=applicant, officer=officer)
    template = env.application(first)
    issued = env.steps.start(template, env.store)
    assert issued.status is FlowStatus.COMPLETED, issued.detail
    [permit] = my_permit_documents(env.clients.elicense, applicant.bin)
    assert permit.number == issued.data["licence_number"] and permit.status == "ACTIVE" and permit.appendices == [1]
    # the appendix request started from the licence
    documents = application_documents(Service.HIGHER_POSTGRADUATE, Operation.APPENDIX)
    scans = write_scans(documents, applicant.bin, tmp_path / "scans")
    appended = env.steps.start(appendix_request(template, permit, documents, scans), env.store)
    assert appended.status is FlowStatus.COMPLETED, appended.detail
    [permit] = my_permit_documents(env.clients.elicense, applicant.bin)
    assert permit.appendices == [1, 2] and view(env.clients.elicense, permit.number).appendices == [1, 2]
    [(xml, pdf)] = write_documents(tmp_path / "mine", [permit])
    assert env.clients.elicense.verify_licence(xml.read_bytes()).licence.number == permit.number
    text = pdf_text(pdf)
    assert in_pdf(text, f"Приложение № 1 к лицензии № {permit.number}")
    assert in_pdf(text, f"Приложение № 2 к лицензии № {permit.number}")
