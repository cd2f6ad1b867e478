"""The applicant answers the quality and accessibility survey at the end of a decided flow.

The survey is offered to the applicant after the decision (issued or refused); the demo's
applicants answer it with varied values (:func:`answers_for`: the ``index``-th run's answers cycle
through the three answers, the two questions apart), so that the indicators differ by service and
licensor. An applicant that applied on paper (Diagram 2) is given a portal account first.
"""

from __future__ import annotations

from adapters.elicense import SurveyAnswer
from harness.landscape import Landscape
from harness.scenario import Scenario
from procedure.clients import ProcedureClients
from procedure.machine import FlowResult
from procedure.models import FlowStatus
from procedure.survey import ANSWERS

__all__ = ["answer_survey", "answers_for"]

_CYCLE = (SurveyAnswer.SATISFIED, SurveyAnswer.PARTLY_SATISFIED, SurveyAnswer.SATISFIED,
          SurveyAnswer.NOT_SATISFIED, SurveyAnswer.SATISFIED)


def answers_for(index: int) -> tuple[SurveyAnswer, SurveyAnswer]:
    """(service quality, information quality) of the ``index``-th answered survey."""
    return _CYCLE[index % len(_CYCLE)], _CYCLE[(index * 2 + 1) % len(_CYCLE)]


def answer_survey(land: Landscape, clients: ProcedureClients, scenario: Scenario, result: FlowResult,
                  index: int) -> dict[str, str] | None:
    """The applicant's answers to the survey of ``result``'s application (recorded by E-licensing),
    in Kazakh and Russian as shown; None when the flow ended before a decision."""
    number = result.data.get("application_number")
    if result.status not in (FlowStatus.COMPLETED, FlowStatus.REFUSED) or number is None:
        return None  # ended before E-licensing registered an application: nothing was decided
    applicant = scenario.applicant
    if land.first_time_on_portal(applicant):
        land.register_on_portal(applicant)
    client = clients.elicense
    session = client.authorize_applicant(applicant.auth_key.load(), applicant.portal_password, iin_bin=applicant.bin)
    service_quality, information_quality = answers_for(index)
    client.submit_survey(session, str(number), service_quality, information_quality)
    return {"service_quality": service_quality.value, "information_quality": information_quality.value,
            "service_quality_kk": ANSWERS[service_quality].kk, "service_quality_ru": ANSWERS[service_quality].ru,
            "information_quality_kk": ANSWERS[information_quality].kk,
            "information_quality_ru": ANSWERS[information_quality].ru}
