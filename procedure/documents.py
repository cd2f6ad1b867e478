"""Documents for people, as PDF: the electronic licence and the refusal letter.

Drawn on reportlab's canvas (:mod:`procedure.pdf_layout`) in the DejaVu fonts (Debian package
``fonts-dejavu-core``), which cover the Kazakh letters (ә ғ қ ң ө ұ ү һ і); the fonts are embedded
with a Unicode map, so the text can be extracted. Labels are in Kazakh and Russian, as on the seed's
forms ("Қызмет түрі", "Лицензияның нөмірі", "Құрметті ...", "ҚАНАҒАТТАНДЫРУҒА БАС ТАРТЫЛДЫ").

The fields are the signed XML's (:mod:`procedure.artefacts` reads them from it): the licence's kind
(a duplicate's mark and date, a re-issue's mark and previous number), the licensor's seat as the
place of issue, the appendices each naming their licence; the refusal letter's salutation and
wording per operation, in both languages, as signed.

Fonts: documents are drawn from the DejaVu fonts cut once to the characters documents use
(:mod:`procedure.fontcache`: Latin, Cyrillic with the Kazakh letters, punctuation), parsed once
per process; a document with a character outside that set is drawn from the full fonts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

from adapters.core.errors import ConfigurationError
from procedure.fontcache import subset_font_dir
from procedure.models import LicenceView, RefusalLetterView
from procedure.pdf_layout import FONT_FILES, FontPair, Page, fonts

DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

def _fmt(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, BaseModel):
        for item in vars(value).values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _fonts(font_dir: Path | None, view: BaseModel) -> FontPair:
    """The faces to draw with: the cut fonts when they cover every character of the document's
    data (the labels are covered by construction), else the full fonts."""
    directory = font_dir or DEFAULT_FONT_DIR
    paths = [directory / name for name in FONT_FILES.values()]
    for path in paths:
        if not path.is_file():
            raise ConfigurationError(
                f"font {path} not found: install the DejaVu fonts (Debian package fonts-dejavu-core)",
                font=str(path))
    text = "".join(_strings(view))
    return fonts(subset_font_dir(paths, text) or directory)


def _both(kk: str, ru: str) -> str:
    return "\n".join(t for t in (kk, ru) if t) or "—"


def render_licence_pdf(licence: LicenceView, *, font_dir: Path | None = None) -> bytes:
    """The electronic licence: its kind's mark, its fields in Kazakh and Russian, its appendices."""
    page = Page(_fonts(font_dir, licence), title=f"Лицензия № {licence.number}")
    page.text("ЛИЦЕНЗИЯ", size=14, bold=True, centre=True)
    if licence.mark_kk or licence.mark_ru:
        page.text(" / ".join(t for t in (licence.mark_kk, licence.mark_ru) if t), size=12, bold=True,
                  centre=True, gap_mm=1)
    page.text(f"№ {licence.number}    {_fmt(licence.issue_date)}", gap_mm=1)
    page.text(f"Берілді / Выдана: {licence.licensee_name}, БСН / БИН {licence.licensee_bin}", bold=True)
    rows = [
        ("Қызмет түрі / Вид деятельности", _both(licence.activity_type_kk, licence.activity_type_ru)),
        ("Лицензия қолданылуының айрықша жағдайлары / Особые условия действия лицензии",
         _both(licence.special_conditions_kk, licence.special_conditions_ru)),
        ("Лицензияны берген орган / Лицензиар", _both(licence.issuing_body_kk, licence.issuing_body_ru)),
        ("Басшы (уәкілетті тұлға) / Руководитель (уполномоченное лицо)", licence.head_name),
        ("Лицензияның берілген күні / Дата выдачи лицензии", _fmt(licence.issue_date)),
        ("Лицензияның нөмірі / Номер лицензии", licence.number),
        ("Берілген орны / Место выдачи", _both(licence.issue_place_kk, licence.issue_place_ru)),
    ]
    if licence.previous_number:
        rows.append(("Алдыңғы лицензияның нөмірі / Номер предыдущей лицензии", licence.previous_number))
    if licence.duplicate_date is not None:
        rows.append(("Телнұсқаның берілген күні / Дата выдачи дубликата", _fmt(licence.duplicate_date)))
    page.table(rows, (70, 120), bold_first_column=True)
    for appendix in licence.appendices:
        page.space(6)
        of = appendix.licence_number or licence.number
        page.text(f"№ {of} лицензияға № {appendix.number} қосымша / "
                  f"Приложение № {appendix.number} к лицензии № {of}", size=11, bold=True, centre=True, gap_mm=1)
        dated = f" ({_fmt(appendix.issue_date)})" if appendix.issue_date is not None else ""
        page.text(f"{licence.activity_type_kk} / {licence.activity_type_ru}{dated}", gap_mm=1)
        if appendix.premises_address:
            page.text(f"Орналасқан жері / Местонахождение: {appendix.premises_address}", gap_mm=1)
        page.table([("Коды / Код", "Қызметтің кіші түрі", "Подвид деятельности"),
                    *((sub.code, sub.name_kk, sub.name_ru) for sub in appendix.subtypes)],
                   (30, 80, 80), header=True)
    page.space(6)
    page.text("Электрондық құжат қызмет берушінің уәкілетті тұлғасының ЭЦҚ-сымен қалыптастырылған. / "
              "Электронный документ сформирован с ЭЦП уполномоченного лица услугодателя.", gap_mm=0)
    return page.finish()


def render_refusal_letter_pdf(letter: RefusalLetterView, *, font_dir: Path | None = None) -> bytes:
    """The refusal letter: addressee, the refusal (kk, ru, as signed), table of documents not provided."""
    page = Page(_fonts(font_dir, letter), title=f"Бас тарту / Отказ № {letter.application_number}")
    page.text(f"Күні / Дата: {_fmt(letter.letter_date)}", gap_mm=1)
    page.text(f"{letter.state_body_kk}\n{letter.state_body_ru}", bold=True, gap_mm=1)
    page.text(f"МО мекен-жайы: {letter.state_body_address_kk}", gap_mm=0)
    page.text(f"Адрес государственного органа: {letter.state_body_address_ru}", gap_mm=1)
    recipient = ", ".join(p for p in (letter.recipient_name, letter.recipient_organisation,
                                      letter.recipient_address) if p)
    page.text(f"Кімге / Кому: {recipient}", gap_mm=4)
    page.text(letter.salutation_kk, bold=True)
    page.text(letter.text_kk, gap_mm=4)
    page.text(letter.salutation_ru, bold=True)
    page.text(letter.text_ru, gap_mm=5)
    if letter.missing:
        page.table([("Табыс етілмеген құжат атауы / Наименование непредставленного документа",
                     "Түсініктеме / Комментарий"),
                    *((f"{doc.name_kk}\n{doc.name_ru}",
                       "\n".join(t for t in (doc.comment_kk, doc.comment_ru) if t) or doc.comment)
                      for doc in letter.missing)],
                   (95, 95), header=True)
    if letter.signer_name:
        page.space(6)
        page.text(f"Басшы (уәкілетті тұлға) / Руководитель (уполномоченное лицо): {letter.signer_name}",
                  gap_mm=0)
    return page.finish()
