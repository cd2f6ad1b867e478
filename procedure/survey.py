"""The quality and accessibility survey (appendix 4 of each regulation), in Kazakh and Russian,
and its two indicators per service and per licensor.

The two questions and three answers are the seed's ("сауалнама"); the Russian wording is ours
(the seeds are Kazakh). The applicant answers once per decided application (E-licensing records the
answers, ``SubmitSurvey``); the indicators are computed from E-licensing's counts over a period
(``GetSurveyIndicators``): *quality* from question 1 (the service's process and result), and
*accessibility* from question 2 (the information about the procedure), each the share of answers
"satisfied" or "partly satisfied" (an assumption: the seeds name the indicators, not their formula).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from adapters.elicense import Catalogue, SurveyAnswer, SurveyIndicator
from procedure.models import Text
from procedure.names import service_names

__all__ = ["ANSWERS", "INDICATOR_OF", "QUESTIONS", "IndicatorTotals", "indicator_report", "indicators_by"]

QUESTIONS: dict[str, Text] = {
    "SERVICE_QUALITY": Text(
        kk="Электрондық мемлекеттік қызметті көрсету үдерісінің сапасына және нәтижесіне қанағаттанасыз ба?",
        ru="Удовлетворены ли Вы качеством процесса и результатом оказания электронной государственной услуги?",
        en="Are you satisfied with the quality of the process and the result of the electronic state service?"),
    "INFORMATION_QUALITY": Text(
        kk="Электрондық мемлекеттік қызметті көрсету тәртібі туралы ақпараттың сапасына қанағаттанасыз ба?",
        ru="Удовлетворены ли Вы качеством информации о порядке оказания электронной государственной услуги?",
        en="Are you satisfied with the quality of the information about the procedure of the electronic state "
           "service?"),
}
"""The survey's two questions, by E-licensing's code."""

ANSWERS: dict[SurveyAnswer, Text] = {
    SurveyAnswer.NOT_SATISFIED: Text(kk="қанағаттанған жоқпын", ru="не удовлетворен(-а)", en="not satisfied"),
    SurveyAnswer.PARTLY_SATISFIED: Text(kk="ішінара қанағаттанамын", ru="частично удовлетворен(-а)",
                                        en="partly satisfied"),
    SurveyAnswer.SATISFIED: Text(kk="қанағаттанамын", ru="удовлетворен(-а)", en="satisfied"),
}
"""The three answers, in the seed's order."""

INDICATOR_OF = {"SERVICE_QUALITY": "quality", "INFORMATION_QUALITY": "accessibility"}
"""Which indicator each question measures."""


@dataclass
class IndicatorTotals:
    """Answers to one question, added up over services or licensors."""

    answers: int = 0
    satisfied: int = 0
    partly_satisfied: int = 0
    not_satisfied: int = 0

    def add(self, indicator: SurveyIndicator) -> None:
        self.answers += indicator.answers
        self.satisfied += indicator.satisfied
        self.partly_satisfied += indicator.partly_satisfied
        self.not_satisfied += indicator.not_satisfied

    @property
    def share(self) -> Decimal:
        """Satisfied or partly satisfied, of all answers (0 without answers), four digits."""
        if not self.answers:
            return Decimal("0.0000")
        return (Decimal(self.satisfied + self.partly_satisfied) / Decimal(self.answers)).quantize(Decimal("0.0001"))

    def as_dict(self) -> dict[str, object]:
        return {"answers": self.answers, "satisfied": self.satisfied, "partly_satisfied": self.partly_satisfied,
                "not_satisfied": self.not_satisfied, "share": str(self.share)}


def indicators_by(indicators: Iterable[SurveyIndicator], key: str) -> dict[str, dict[str, IndicatorTotals]]:
    """``{service or licensor code: {"quality": totals, "accessibility": totals}}``; ``key`` is
    ``"service"`` or ``"licensor"``."""
    if key not in ("service", "licensor"):
        raise ValueError(f"indicators by {key!r}: give 'service' or 'licensor'")
    out: dict[str, dict[str, IndicatorTotals]] = {}
    for indicator in indicators:
        code = indicator.service_code if key == "service" else (indicator.licensor_code or "")
        group = out.setdefault(code, {name: IndicatorTotals() for name in INDICATOR_OF.values()})
        group[INDICATOR_OF[indicator.question]].add(indicator)
    return dict(sorted(out.items()))


def _name(key: str, code: str, catalogue: Catalogue) -> dict[str, str] | None:
    """A service's or licensor's names in Kazakh and Russian (None for a code the catalogue lacks)."""
    try:
        if key == "service":
            names = service_names(code)
            return {"kk": names.kk, "ru": names.ru}
        licensor = catalogue.licensor(code)
    except KeyError:
        return None
    return {"kk": licensor.name_kz, "ru": licensor.name_ru}


def indicator_report(indicators: Iterable[SurveyIndicator], catalogue: Catalogue, *,
                     first_day: dt.date | None, last_day: dt.date | None) -> dict[str, Any]:
    """The two indicators per service and per licensor over a period, as JSON for people and
    programs: ``{"period": {"from", "to"}, "by_service": {code: {"name": {"kk", "ru"}, "quality":
    totals, "accessibility": totals}}, "by_licensor": {...}}`` (the licensors' names from ``catalogue``)."""
    counted = list(indicators)
    return {"period": {"from": first_day.isoformat() if first_day else None,
                       "to": last_day.isoformat() if last_day else None},
            **{f"by_{key}": {code: {"name": _name(key, code, catalogue),
                                    **{name: totals.as_dict() for name, totals in group.items()}}
                             for code, group in indicators_by(counted, key).items()}
               for key in ("service", "licensor")}}
