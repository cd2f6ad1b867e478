"""``GET /api/v1/elicense/indicators``: the survey's indicators from E-licensing's report call, per
service and per licensor, with their names in Kazakh and Russian, over real HTTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.env import procedure_env
from harness.landscape import Landscape
from harness.scenario import Fault
from harness.survey import answer_survey, answers_for
from tests.service.conftest import Running, error_of


@dataclass(frozen=True)
class Surveyed:
    day: dt.date
    licensor: str
    service_quality: str


@pytest.fixture(scope="module")
def surveyed(landscape: Landscape, manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Surveyed:
    """One school licence issued through the portal and its survey answered by the applicant."""
    work = tmp_path_factory.mktemp("indicators")
    with procedure_env(manifest=manifest, db=f"sqlite:///{work / 'flows.db'}", out_dir=work / "out") as env:
        scenario = env.scenario("school", "issue", 1, Fault.NONE)
        result = env.run(scenario)
        given = answer_survey(env.landscape, env.clients, scenario, result, 0)
        assert given is not None, result
        day = env.clients.clock.now().date()
    application = next(a for a in landscape.applications() if a["number"] == result.data["application_number"])
    return Surveyed(day, str(application["licensor"]), given["service_quality"])


def test_indicators_per_service_and_licensor_with_their_names(service: Running, surveyed: Surveyed) -> None:
    answer = service.get("/api/v1/elicense/indicators",
                         params={"since": surveyed.day.isoformat(), "until": surveyed.day.isoformat()})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["period"] == {"from": surveyed.day.isoformat(), "to": surveyed.day.isoformat()}
    school = body["by_service"]["S4"]
    assert school["name"] == {"kk": "Бастауыш, негізгі орта және жалпы орта білім берудің білім беретін оқу "
                                    "бағдарламалары",
                              "ru": "Образовательные программы начального, основного среднего и общего среднего "
                                    "образования"}
    assert school["quality"]["answers"] >= 1 and school["accessibility"]["answers"] == school["quality"]["answers"]
    licensor = body["by_licensor"][surveyed.licensor]
    assert licensor["name"]["kk"] and licensor["name"]["ru"] and licensor["name"]["kk"] != licensor["name"]["ru"]
    assert licensor["quality"]["answers"] >= 1
    counted = [i for i in body["indicators"] if i["service_code"] == "S4" and i["question"] == "SERVICE_QUALITY"]
    assert sum(i["answers"] for i in counted) == school["quality"]["answers"]
    assert surveyed.service_quality == answers_for(0)[0].value
    assert sum(i[surveyed.service_quality.lower()] for i in counted) >= 1  # the applicant's answer is counted


def test_indicators_filtered_by_service_licensor_and_period(service: Running, surveyed: Surveyed) -> None:
    by_name = service.get("/api/v1/elicense/indicators", params={"service": "school"}).json()
    by_code = service.get("/api/v1/elicense/indicators", params={"service": "S4"}).json()
    assert set(by_name["by_service"]) == {"S4"} and by_name["by_service"] == by_code["by_service"]
    mine = service.get("/api/v1/elicense/indicators", params={"licensor": surveyed.licensor}).json()
    assert set(mine["by_licensor"]) == {surveyed.licensor}
    before = (surveyed.day - dt.timedelta(days=30)).isoformat()
    old = service.get("/api/v1/elicense/indicators", params={"until": before}).json()
    assert old["by_service"] == {} and old["indicators"] == []


def test_indicators_refuse_a_bad_period_or_service_and_a_caller_without_the_permission(service: Running) -> None:
    error = error_of(service.get("/api/v1/elicense/indicators", params={"since": "2026-12-02", "until": "2026-12-01"}),
                     422, "EGOV100")
    assert error["field"] == "since"
    error = error_of(service.get("/api/v1/elicense/indicators", params={"service": "S9"}), 422, "EGOV100")
    assert error["field"] == "service" and "school" in error["message"]
    error_of(service.get("/api/v1/elicense/indicators", caller="lookup"), 403, "EGOV602")
