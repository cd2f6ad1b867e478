"""Licence search (UniversalLicenseRequest shape) and the quality and accessibility survey."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from adapters.core.errors import ConflictError
from adapters.elicense import SurveyAnswer
from tests.fixtures.elicense import ElicenseEnv


def _licensed(env: ElicenseEnv, client: Any, *, name: str, service: str = "S1", sub: str = "ED010100",
              kato: str = "710000000", refuse: bool = False) -> tuple[Any, Any, Any]:
    from adapters.elicense import MissingDocument

    person = env.applicant(name=name)
    session = client.authorize_applicant(person.auth, person.password)
    info = client.submit_application(session, env.form(person, service=service, sub_types=(sub,), city_kato=kato),
                                     person.signing, idempotency_key=f"s-{person.iin_bin}")
    officer = env.employee(client, info.licensor.code)
    client.start_processing(officer, info.number)
    if refuse:
        done = client.refuse(officer, info.number, [MissingDocument(document="contracts with practice bases",
                                                                    comment="not provided")],
                             idempotency_key=f"d-{info.number}")
    else:
        done = client.issue(officer, info.number, idempotency_key=f"d-{info.number}")
    return person, session, done


def test_search_by_each_criterion_and_paging(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    a, _, da = _licensed(elicense_env, client, name="ТОО «Университет Алатау»")
    b, _, db = _licensed(elicense_env, client, name="ТОО «Школа Нур»", service="S4", sub="ED040200",
                         kato="750000000")
    _licensed(elicense_env, client, name="ТОО «Колледж Арман»", service="S3", sub="ED030100", kato="750000000")

    by_bin = client.search(iin_bin=a.iin_bin)
    assert by_bin.total_count == 1
    hit = by_bin.licenses[0]
    assert hit.number == da.licence.licence.number
    assert hit.licensiar.code == "KKSON" and hit.activity_type.code == "M65"
    assert hit.status == "ACTIVE" and hit.issue_date == dt.datetime.now(dt.UTC).date()
    assert hit.document_url and hit.document_url.endswith(hit.number)
    assert client.search(number=db.licence.licence.number).licenses[0].iin_bin == b.iin_bin
    assert client.search(licensor_code="DKSO75").total_count == 2
    assert {x.licensee_name for x in client.search(name="нур").licenses} == {"ТОО «Школа Нур»"}
    assert client.search(activity_codes=("M65",)).total_count == 3
    assert client.search(activity_codes=("M99",)).total_count == 0
    page = client.search(page_size=2, page_index=1)
    assert page.total_count == 3 and len(page.licenses) == 1
    assert page.system_info.message_type == "Response" and page.system_info.chain_id is not None

    import requests

    doc = requests.get(hit.document_url, timeout=10)
    assert doc.status_code == 200
    assert client.verify_licence(doc.content).licence.number == hit.number


def test_survey_indicators_per_service_and_question(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    answers = [(SurveyAnswer.SATISFIED, SurveyAnswer.SATISFIED),
               (SurveyAnswer.PARTLY_SATISFIED, SurveyAnswer.NOT_SATISFIED),
               (SurveyAnswer.NOT_SATISFIED, SurveyAnswer.SATISFIED)]
    for i, (q1, q2) in enumerate(answers):
        _, session, done = _licensed(elicense_env, client, name=f"ТОО «Вуз {i}»", refuse=i == 2)
        client.submit_survey(session, done.application.number, q1, q2)
    # idempotent: the same answers again (a retry whose answer was lost) succeed, stored once (counts below)
    client.submit_survey(session, done.application.number, q1, q2)
    # other answers for an answered application are a conflict
    with pytest.raises(ConflictError, match="already answered") as exc:
        client.submit_survey(session, done.application.number, q1, SurveyAnswer.NOT_SATISFIED)
    assert exc.value.code == "ELC502"

    indicators = {(i.service_code, i.question): i for i in client.survey_indicators()}
    quality = indicators[("S1", "SERVICE_QUALITY")]
    assert (quality.answers, quality.satisfied, quality.partly_satisfied, quality.not_satisfied) == (3, 1, 1, 1)
    assert quality.satisfied_share == Decimal("0.3333")
    assert quality.satisfied_or_partly_share == Decimal("0.6667")
    info = indicators[("S1", "INFORMATION_QUALITY")]
    assert info.satisfied_share == Decimal("0.6667") and info.partly_satisfied_share == Decimal("0.0000")
    assert client.survey_indicators("S4") == [] or all(i.answers == 0 for i in client.survey_indicators("S4"))


def test_survey_before_the_decision_is_refused(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    person = elicense_env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    info = client.submit_application(session, elicense_env.form(person), person.signing, idempotency_key="early")
    with pytest.raises(ConflictError, match="the survey follows the decision"):
        client.submit_survey(session, info.number, "SATISFIED", "SATISFIED")
