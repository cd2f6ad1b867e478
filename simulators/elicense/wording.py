"""The words E-licensing's signed documents carry, in Kazakh and Russian, per operation.

The refusal letter follows the regulation's sample (appendix 2 of each regulation): "Құрметті …",
"Сіздің … күні жіберілген № … өтінішіңізді қанағаттандыруға БАС ТАРТЫЛДЫ"; the Russian text and
the wording for re-issue, duplicate and appendix are written the same way (the seeds show only the
Kazakh letter for an issue: docs/regulation-conformance.md lists them as assumptions). A duplicate carries the
mark "ТЕЛНҰСҚА" / "ДУБЛИКАТ"; a re-issued licence "ҚАЙТА РЕСІМДЕЛДІ" / "ПЕРЕОФОРМЛЕНА" (assumption).
"""

from __future__ import annotations

import datetime as dt

__all__ = ["licence_mark", "refusal_text", "salutation"]

_ASKED_KZ = {
    "ISSUE": "лицензия алу",
    "REISSUE": "№ {licence} лицензияны қайта ресімдеу",
    "DUPLICATE": "№ {licence} лицензияның телнұсқасын алу",
    "APPENDIX": "№ {licence} лицензияға қосымша алу",
}
_ASKED_RU = {
    "ISSUE": "на получение лицензии",
    "REISSUE": "на переоформление лицензии № {licence}",
    "DUPLICATE": "на получение дубликата лицензии № {licence}",
    "APPENDIX": "на получение приложения к лицензии № {licence}",
}
_MARKS = {"DUPLICATE": ("ТЕЛНҰСҚА", "ДУБЛИКАТ"), "REISSUED": ("ҚАЙТА РЕСІМДЕЛДІ", "ПЕРЕОФОРМЛЕНА")}


def salutation(full_name: str) -> tuple[str, str]:
    """(kk, ru) salutation of a letter to ``full_name``."""
    return f"Құрметті {full_name}!", f"Уважаемый(-ая) {full_name}!"


def refusal_text(app_type: str, *, number: str, sent_on: dt.datetime, activity_kz: str, activity_ru: str,
                 licence: str | None) -> tuple[str, str]:
    """(kk, ru) sentence refusing application ``number`` of ``app_type`` (ISSUE, REISSUE, DUPLICATE,
    APPENDIX); ``licence`` is the licence the application names (all but ISSUE)."""
    if app_type not in _ASKED_KZ:
        raise ValueError(f"application type {app_type!r} has no refusal wording")
    if app_type != "ISSUE" and not licence:
        raise ValueError(f"a refusal of a {app_type} application names its licence")
    sent = f"{sent_on:%d.%m.%Y}"
    asked_kz = _ASKED_KZ[app_type].format(licence=licence)
    asked_ru = _ASKED_RU[app_type].format(licence=licence)
    kz = (f"Сіздің {sent} күні жіберілген № {number} «{activity_kz}» қызмет түріне {asked_kz} жөніндегі "
          "өтінішіңізді қанағаттандыруға БАС ТАРТЫЛДЫ.")
    ru = (f"В удовлетворении Вашего заявления № {number}, направленного {sent}, {asked_ru} на вид "
          f"деятельности «{activity_ru}» ОТКАЗАНО.")
    return kz, ru


def licence_mark(kind: str) -> tuple[str, str] | None:
    """(kk, ru) mark of a licence of ``kind`` (DUPLICATE, REISSUED), None for an original."""
    return _MARKS.get(kind)
