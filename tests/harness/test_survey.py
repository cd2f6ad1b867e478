"""The survey answered at the end of decided flows, in both diagrams, and the report of its
indicators per service and per licensor over a period (E-licensing's GetSurveyIndicators)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from harness.env import ProcedureEnv, procedure_env
from harness.scenario import Fault
from harness.survey import answer_survey, answers_for
from procedure.survey import indicators_by


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcedureEnv]:
    root = tmp_path_factory.mktemp("survey")
    with procedure_env(manifest=None, db=f"sqlite:///{root / 'egov.db'}", out_dir=root / "out") as made:
        yield made


def test_answers_vary_between_runs() -> None:
    given = {answers_for(i) for i in range(5)}
    assert len(given) >= 3 and len({a for pair in given for a in pair}) == 3


def test_decided_flows_are_surveyed_and_reported_by_service_and_licensor(env: ProcedureEnv) -> None:
    today = env.clients.clock.now().date()
    runs = [env.scenario("school", "issue", 1, Fault.NONE), env.scenario("school", "issue", 2, Fault.NONE),
            env.scenario("religious", "issue", 1, Fault.QUALIFICATION_NOT_MET),
            env.scenario("religious", "issue", 1, Fault.NOT_PAID)]
    answered = []
    for index, scenario in enumerate(runs):
        result = env.run(scenario)
        # offered at the end of every decided flow (issued or refused), not before a decision
        assert result.data.get("survey_offered") == (
            None if index == 3 else ["SERVICE_QUALITY", "INFORMATION_QUALITY"])
        answered.append(answer_survey(env.landscape, env.clients, scenario, result, index))
    assert answered[3] is None  # refused before registration: no decision to survey
    for index, given in enumerate(answered[:3]):
        assert given is not None and (given["service_quality"], given["information_quality"]) == answers_for(index)
        assert given["service_quality_kk"] and given["service_quality_ru"]
    counted = env.clients.elicense.survey_indicators(first_day=today, last_day=today)
    by_service = indicators_by(counted, "service")
    assert by_service["S4"]["quality"].answers == 2 and by_service["S2"]["quality"].answers == 1
    by_licensor = indicators_by(counted, "licensor")
    assert by_licensor["KKSON"]["quality"].answers == 1  # religious education: the Committee
    assert sum(g["quality"].answers for code, g in by_licensor.items() if code.startswith("DKSO")) == 2
    # the period: nothing was answered yesterday; one licensor alone
    assert env.clients.elicense.survey_indicators(last_day=today - dt.timedelta(days=1)) == []
    committee = env.clients.elicense.survey_indicators(licensor_code="KKSON")
    assert {i.licensor_code for i in committee} == {"KKSON"} and {i.service_code for i in committee} == {"S2"}
