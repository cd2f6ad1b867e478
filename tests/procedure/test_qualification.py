"""Qualification rules per service: the refusal letter's rows, loadable from YAML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adapters.core.clock import FrozenClock
from adapters.core.errors import ConfigurationError, ValidationError
from procedure.diagrams import DIAGRAM_PORTAL, StepKind
from procedure.machine import FlowRunner, StepFn
from procedure.models import (
    ApplicationDocuments,
    FlowStatus,
    Operation,
    ProvidedDocument,
    QualificationResult,
    Service,
)
from procedure.qualification import default_rules, evaluate, load_rules, qualification_step
from procedure.store import FlowStore

FULL_DOCUMENTS = [
    ProvidedDocument(code="application", attributes={"form": "issue"}),
    ProvidedDocument(code="charter_copy", attributes={"notarised": True}),
    ProvidedDocument(code="licence_fee_payment", attributes={"number": "90102", "amount": "16180.00"}),
    ProvidedDocument(code="foreign_scholar_letters"),
    ProvidedDocument(code="doctoral_exchange_contracts", attributes={"kind": "contract"}),
    ProvidedDocument(code="practice_base_contracts"),
    ProvidedDocument(code="catering_contract"),
    ProvidedDocument(code="medical_contract"),
]
FULL_FACTS = {"teaching_staff_degree_share": 0.62}
SERVICE_DOCUMENTS = {
    Service.HIGHER_POSTGRADUATE: [],
    Service.RELIGIOUS: [ProvidedDocument(code="religious_affairs_conclusion")],
    Service.TECHNICAL_VOCATIONAL: [ProvidedDocument(code="training_workshops")],
    Service.SCHOOL: [ProvidedDocument(code="sanitary_conclusion")],
    Service.REPUBLICAN_BUDGET: [ProvidedDocument(code="budget_funding")],
}
STAFF_RULES = {  # service -> (rule, declared fact, threshold)
    Service.HIGHER_POSTGRADUATE: ("teaching_staff_degrees", "teaching_staff_degree_share", 0.5),
    Service.RELIGIOUS: ("religious_teachers", "religious_teachers_share", 0.5),
    Service.TECHNICAL_VOCATIONAL: ("vocational_teachers", "profile_teachers_share", 0.5),
    Service.SCHOOL: ("school_teachers", "pedagogical_teachers_share", 0.7),
    Service.REPUBLICAN_BUDGET: ("budget_teachers", "profile_teachers_share", 0.5),
}


def full(service: Service, share: object = 0.8) -> ApplicationDocuments:
    """Every document of every service, and the service's staff share declared as ``share``."""
    _, fact, _ = STAFF_RULES[service]
    return ApplicationDocuments(service=service, documents=FULL_DOCUMENTS + SERVICE_DOCUMENTS[service],
                                facts={fact: share})


@pytest.mark.parametrize("service", list(Service))
def test_complete_application_meets_every_service(service: Service) -> None:
    result = evaluate(full(service))
    assert result.met is True
    assert result.missing == []
    assert result.checked[:3] == ["application_form", "charter_copy", "licence_fee"]
    assert {"catering", "medical", STAFF_RULES[service][0]} <= set(result.checked)


@pytest.mark.parametrize("service", list(Service))
def test_each_service_has_its_own_documents_and_staff_rule(service: Service) -> None:
    rules = default_rules()
    required = {r.document for r in rules.required_documents(service, Operation.ISSUE)}
    for own in SERVICE_DOCUMENTS[service]:
        assert own.code in required
    others = {d.code for s, docs in SERVICE_DOCUMENTS.items() if s is not service for d in docs}
    assert not required & others
    # the sample letter's higher-education staff rule applies to service 1 only
    ids = [r.id for r in rules.rules_for(service, Operation.ISSUE)]
    assert ("teaching_staff_degrees" in ids) is (service is Service.HIGHER_POSTGRADUATE)
    assert ("foreign_scholars" in ids) is (service is Service.HIGHER_POSTGRADUATE)


def test_rule_sets_differ_by_service() -> None:
    rules = default_rules()
    higher = [r.id for r in rules.rules_for(Service.HIGHER_POSTGRADUATE, Operation.ISSUE)]
    school = [r.id for r in rules.rules_for(Service.SCHOOL, Operation.ISSUE)]
    assert higher == ["application_form", "charter_copy", "licence_fee", "teaching_staff_degrees",
                      "foreign_scholars", "doctoral_exchange", "practice_bases", "catering", "medical"]
    assert school == ["application_form", "charter_copy", "licence_fee", "school_teachers", "sanitary_conclusion",
                      "catering", "medical"]
    assert "practice_bases" in [r.id for r in rules.rules_for(Service.TECHNICAL_VOCATIONAL, Operation.ISSUE)]


def test_every_rule_names_its_source() -> None:
    rules = default_rules()
    sample = {i for i, r in rules.rules.items() if not r.assumed}
    assert sample == {"application_form", "charter_copy", "licence_fee", "teaching_staff_degrees",
                      "foreign_scholars", "doctoral_exchange", "practice_bases", "catering", "medical"}
    for rule in rules.rules.values():
        if rule.assumed:
            assert rule.source.startswith("assumption: ") and len(rule.source) > 40, rule.id


def test_the_seed_refusal_letter_is_reproduced() -> None:
    """The regulation's example letter (application No. 128): every row and its comment."""
    application = ApplicationDocuments(
        service=Service.HIGHER_POSTGRADUATE,
        documents=[
            ProvidedDocument(code="application", attributes={"form": "restore-licence-data"}),
            ProvidedDocument(code="charter_copy", attributes={"notarised": False}),
            ProvidedDocument(code="doctoral_exchange_contracts", attributes={"kind": "memorandum"}),
        ],
        facts={"teaching_staff_degree_share": 0.55},
    )
    result = evaluate(application)
    assert result.met is False
    rows = {m.rule_id: m for m in result.missing}
    assert list(rows) == ["application_form", "charter_copy", "licence_fee", "foreign_scholars",
                          "doctoral_exchange", "practice_bases", "catering", "medical"]
    assert rows["application_form"].name_kk == "Анықталған үлгідегі өтініш"
    assert rows["application_form"].comment == "an application to restore licence data was submitted instead"
    assert rows["application_form"].comment_kk == (
        "лицензия алуға өтініштің орнына лицензияның деректерін қалпына келтіру туралы өтініш ұсынылған")
    assert rows["charter_copy"].comment_kk == "көшірме нотариалды куәландырылмаған"
    assert rows["charter_copy"].name_ru == "Нотариально засвидетельствованная копия устава"
    assert rows["licence_fee"].comment_kk == "құжат ұсынылмаған"
    assert rows["foreign_scholars"].comment_kk == (
        "дәрежелері бар шетелдік ғалымдардан куәландырылған хаттардың көшірмелері ұсынылмаған")
    assert rows["doctoral_exchange"].comment_kk.startswith("келісім шарттардың орнына меморандумдар көрсетілген")
    assert rows["practice_bases"].comment_kk == (
        "практикадан өткізу базалары ретінде белгіленген ұйымдармен жасалған келісім шарттары ұсынылмаған")
    assert rows["catering"].name_kk == "Білім алушыларға арналған тамақтандыру объектісінің болуы"
    assert rows["medical"].comment_kk == "медициналық қызмет көрсетуге келісім шарт ұсынылмаған"
    assert rows["medical"].name_en == "Medical service for students"


@pytest.mark.parametrize("service", list(Service))
@pytest.mark.parametrize(("above", "met"), [(0.0, True), (0.25, True), (-0.01, False), (-0.2, False)])
def test_staff_share_threshold_of_each_service(service: Service, above: float, met: bool) -> None:
    rule, _, threshold = STAFF_RULES[service]
    share = round(threshold + above, 2)
    result = evaluate(full(service, str(share) if above < -0.1 else share))
    assert result.met is met
    if not met:
        [row] = result.missing
        assert row.rule_id == rule
        assert f"below {threshold * 100:.0f} %" in row.comment
        assert f"{threshold * 100:.0f} пайыздан кем" in row.comment_kk
        assert f"{share * 100:.0f} %" in row.comment and f"{share * 100:.0f} %" in row.comment_ru


def test_undeclared_and_invalid_facts() -> None:
    result = evaluate(ApplicationDocuments(service=Service.REPUBLICAN_BUDGET,
                                           documents=FULL_DOCUMENTS + SERVICE_DOCUMENTS[Service.REPUBLICAN_BUDGET]))
    [row] = result.missing
    assert row.comment == "the share of teachers with higher education in the profile was not declared"
    with pytest.raises(ValidationError, match=r"facts\.profile_teachers_share: must be a number"):
        evaluate(full(Service.REPUBLICAN_BUDGET, "half"))
    with pytest.raises(ValidationError, match="must be a number"):
        evaluate(full(Service.REPUBLICAN_BUDGET, True))


def test_operation_selects_rules_and_the_form() -> None:
    duplicate = ApplicationDocuments(
        service=Service.HIGHER_POSTGRADUATE, operation=Operation.DUPLICATE,
        documents=[ProvidedDocument(code="application", attributes={"form": "duplicate"}),
                   ProvidedDocument(code="licence_fee_payment")])
    result = evaluate(duplicate)
    assert result.met is True
    assert result.checked == ["application_form", "licence_fee"]

    wrong_form = ApplicationDocuments(
        service=Service.SCHOOL, operation=Operation.REISSUE,
        documents=[ProvidedDocument(code="application", attributes={"form": "issue"}),
                   ProvidedDocument(code="charter_copy", attributes={"notarised": True}),
                   ProvidedDocument(code="licence_fee_payment")])
    result = evaluate(wrong_form)
    assert [m.rule_id for m in result.missing] == ["application_form"]
    assert result.missing[0].comment == "the application is not of the form prescribed for this operation"


def test_rules_load_from_another_file(tmp_path: Path) -> None:
    path = tmp_path / "qa-rules.yaml"
    services = "\n".join(f"  {s.value}: [fire_safety]" for s in Service)
    path.write_text(
        "version: 2\n"
        "rules:\n"
        "  fire_safety:\n"
        "    source: 'assumption: a rule of the QA team for this test'\n"
        "    name: {kk: 'Өрт қауіпсіздігі қорытындысы', ru: 'Заключение пожарной безопасности',"
        " en: 'Fire safety report'}\n"
        "    document: fire_report\n"
        "    missing: {kk: 'ұсынылмаған', ru: 'не представлено', en: 'not provided'}\n"
        f"services:\n{services}\n", encoding="utf-8")
    rules = load_rules(path)
    assert rules.version == 2
    result = evaluate(ApplicationDocuments(service=Service.SCHOOL), rules)
    assert [(m.rule_id, m.name_kk, m.comment) for m in result.missing] == [
        ("fire_safety", "Өрт қауіпсіздігі қорытындысы", "not provided")]
    ok = evaluate(ApplicationDocuments(service=Service.SCHOOL,
                                       documents=[ProvidedDocument(code="fire_report")]), rules)
    assert ok.met is True


@pytest.mark.parametrize(("text", "message"), [
    ("version: [1\n", "not valid YAML"),
    ("version: 1\nrules: {}\nservices: {school: []}\n", "no rules for services"),
    ("version: 1\nrules: {}\nservices:\n" + "".join(f"  {s.value}: [ghost]\n" for s in Service),
     "unknown rules ['ghost']"),
    ("version: 1\nrules:\n  r: {source: sample-letter, name: {kk: a, ru: b, en: c}}\nservices: {}\n",
     "a rule needs a document or a fact"),
    ("version: 1\nrules:\n  r: {source: folklore, name: {kk: a, ru: b, en: c}, document: d,"
     " missing: {kk: a, ru: b, en: c}}\nservices: {}\n", "give 'sample-letter' or 'assumption: <why>'"),
])
def test_bad_rule_files_are_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"bad\.yaml") as info:
        load_rules(path)
    assert message in str(info.value)


def test_missing_rule_file() -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_rules("/nonexistent/rules.yaml")


def test_default_rules_carry_kazakh_and_russian_names() -> None:
    rules = default_rules()
    assert load_rules() is rules
    for rule in rules.rules.values():
        assert rule.name.kk and rule.name.ru and rule.name.en
    kazakh = "".join(r.name.kk for r in rules.rules.values())
    for letter in "әғқңөұүі":
        assert letter in kazakh


def test_qualification_step_decides_condition_c4() -> None:
    clock = FrozenClock(dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    steps: dict[str, StepFn] = {s.id: (lambda ctx: True) for s in DIAGRAM_PORTAL.of_kind(StepKind.CONDITION)}
    steps.update({s.id: (lambda ctx: None) for s in DIAGRAM_PORTAL.of_kind(StepKind.ACTION)})
    steps["C4"] = qualification_step()
    store = FlowStore.in_memory()
    runner = FlowRunner(DIAGRAM_PORTAL, steps, store, clock=clock)

    incomplete = ApplicationDocuments(service=Service.SCHOOL, documents=FULL_DOCUMENTS[:3],
                                      facts={"pedagogical_teachers_share": 0.9})
    refused = runner.start(service="school", operation="issue",
                           data={"application": incomplete.model_dump(mode="json")})
    assert refused.status is FlowStatus.REFUSED and refused.step == "10"
    assert "Catering facility for students: contract not provided" in refused.detail
    result = QualificationResult.model_validate(refused.data["qualification"])
    assert [m.rule_id for m in result.missing] == ["sanitary_conclusion", "catering", "medical"]

    complete = full(Service.SCHOOL)
    issued = runner.start(service="school", operation="issue",
                          data={"application": complete.model_dump(mode="json")})
    assert issued.status is FlowStatus.COMPLETED and issued.step == "11"

    with pytest.raises(ValidationError, match=r"application\.service"):
        runner.start(service="school", operation="issue", data={"application": {"service": "circus"}})
    store.engine.dispose()
