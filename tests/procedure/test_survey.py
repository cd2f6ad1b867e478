"""The survey's questions and answers in Kazakh and Russian, and its indicators added up by service
and by licensor."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.elicense import SurveyAnswer, SurveyIndicator
from procedure.survey import ANSWERS, QUESTIONS, indicators_by


def indicator(service: str, licensor: str, question: str, satisfied: int, partly: int, not_: int) -> SurveyIndicator:
    answers = satisfied + partly + not_
    share = Decimal(satisfied) / answers if answers else Decimal(0)
    return SurveyIndicator(service_code=service, licensor_code=licensor, question=question,  # type: ignore[arg-type]
                           answers=answers, satisfied=satisfied, partly_satisfied=partly, not_satisfied=not_,
                           satisfied_share=share, partly_satisfied_share=Decimal(0),
                           satisfied_or_partly_share=Decimal(0))


def test_the_seeds_questions_and_answers_in_both_languages() -> None:
    assert QUESTIONS["SERVICE_QUALITY"].kk.startswith("Электрондық мемлекеттік қызметті көрсету үдерісінің сапасына")
    assert QUESTIONS["INFORMATION_QUALITY"].kk.endswith("ақпараттың сапасына қанағаттанасыз ба?")
    assert all(q.ru.startswith("Удовлетворены ли Вы") for q in QUESTIONS.values())
    assert [ANSWERS[a].kk for a in SurveyAnswer] == ["қанағаттанған жоқпын", "ішінара қанағаттанамын",
                                                     "қанағаттанамын"]
    assert [ANSWERS[a].ru for a in SurveyAnswer] == ["не удовлетворен(-а)", "частично удовлетворен(-а)",
                                                     "удовлетворен(-а)"]


def test_indicators_by_service_and_by_licensor() -> None:
    q, i = "SERVICE_QUALITY", "INFORMATION_QUALITY"
    counted = [indicator("S3", "DKSO55", q, 2, 1, 1), indicator("S3", "DKSO55", i, 1, 0, 3),
               indicator("S4", "DKSO55", q, 1, 0, 0), indicator("S4", "DKSO55", i, 0, 1, 0),
               indicator("S3", "DKSO71", q, 0, 0, 2), indicator("S3", "DKSO71", i, 2, 0, 0)]
    by_service = indicators_by(counted, "service")
    assert list(by_service) == ["S3", "S4"]
    assert by_service["S3"]["quality"].answers == 6 and by_service["S3"]["quality"].share == Decimal("0.5000")
    assert by_service["S3"]["accessibility"].share == Decimal("0.5000")
    assert by_service["S4"]["quality"].share == Decimal("1.0000")
    by_licensor = indicators_by(counted, "licensor")
    assert by_licensor["DKSO55"]["quality"].as_dict() == {"answers": 5, "satisfied": 3, "partly_satisfied": 1,
                                                          "not_satisfied": 1, "share": "0.8000"}
    assert by_licensor["DKSO71"]["quality"].share == Decimal("0.0000")
    assert by_licensor["DKSO71"]["accessibility"].share == Decimal("1.0000")
    with pytest.raises(ValueError, match="give 'service' or 'licensor'"):
        indicators_by(counted, "region")
