"""Documents for people, as PDF: the electronic licence and the refusal letter.

Rendered with fpdf2 and the DejaVu fonts (Debian package ``fonts-dejavu-core``), which cover the
Kazakh letters (ә ғ қ ң ө ұ ү һ і); the fonts are embedded with a Unicode map, so the text can be
extracted (searched, copied, read aloud). Labels are in Kazakh and Russian, as on the seed's
forms ("Қызмет түрі", "Лицензияның нөмірі", "Құрметті ...", "ҚАНАҒАТТАНДЫРУҒА БАС ТАРТЫЛДЫ").

Speed: fpdf2 parses each font file for every document and subsets it again when writing the PDF;
both costs grow with the font's glyph count (about 6 000 in DejaVu Sans). The fonts are therefore
cut once to the characters documents use (:mod:`procedure.fontcache`: Latin, Cyrillic
with the Kazakh letters, punctuation, about 1 100 glyphs) and documents are rendered from those
files: a quarter of the CPU per PDF, and the PDF is byte for byte the one the full fonts give (fpdf2
embeds only the glyphs used either way). A document with a character outside that set is
rendered from the full fonts, as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace
from pydantic import BaseModel

from adapters.core.errors import ConfigurationError
from procedure.fontcache import subset_font_dir
from procedure.models import LicenceView, RefusalLetterView

DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FAMILY = "DejaVu"
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


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


def _font_dir(font_dir: Path | None, view: BaseModel) -> Path:
    """The directory to load the fonts from: the cut fonts when they cover every character of
    the document's data (the labels are covered by construction), else the full fonts."""
    directory = font_dir or DEFAULT_FONT_DIR
    paths = [directory / name for name in _FONT_FILES.values()]
    for path in paths:
        if not path.is_file():
            raise ConfigurationError(
                f"font {path} not found: install the DejaVu fonts (Debian package fonts-dejavu-core)",
                font=str(path))
    text = "".join(_strings(view))
    return subset_font_dir(paths, text) or directory


def _new_pdf(title: str, when: dt.date, directory: Path) -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    for style, name in _FONT_FILES.items():
        pdf.add_font(_FAMILY, style, str(directory / name))
    pdf.set_title(title)
    pdf.set_creator("egov-adapters")
    # A fixed creation date makes the same licence render to the same bytes.
    pdf.set_creation_date(dt.datetime.combine(when, dt.time(), tzinfo=dt.UTC))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(_FAMILY, "", 10)
    return pdf


def _heading(pdf: FPDF, text: str, size: int = 14) -> None:
    pdf.set_font(_FAMILY, "B", size)
    pdf.multi_cell(0, 8, text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FAMILY, "", 10)


def _paragraph(pdf: FPDF, text: str, *, bold: bool = False, gap: float = 2) -> None:
    pdf.set_font(_FAMILY, "B" if bold else "", 10)
    pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FAMILY, "", 10)
    pdf.ln(gap)


_HEADER_STYLE = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))


def render_licence_pdf(licence: LicenceView, *, font_dir: Path | None = None) -> bytes:
    """The electronic licence: its fields in Kazakh and Russian, then its appendices."""
    pdf = _new_pdf(f"Лицензия № {licence.number}", licence.issue_date, _font_dir(font_dir, licence))
    _heading(pdf, "ЛИЦЕНЗИЯ")
    _paragraph(pdf, f"№ {licence.number}    {_fmt(licence.issue_date)}", gap=1)
    _paragraph(pdf, f"Берілді / Выдана: {licence.licensee_name}, БСН / БИН {licence.licensee_bin}", bold=True)
    rows = [
        ("Қызмет түрі / Вид деятельности",
         f"{licence.activity_type_kk}\n{licence.activity_type_ru}"),
        ("Лицензия қолданылуының айрықша жағдайлары / Особые условия действия лицензии",
         "\n".join(t for t in (licence.special_conditions_kk, licence.special_conditions_ru) if t) or "—"),
        ("Лицензияны берген орган / Лицензиар",
         f"{licence.issuing_body_kk}\n{licence.issuing_body_ru}"),
        ("Басшы (уәкілетті тұлға) / Руководитель (уполномоченное лицо)", licence.head_name),
        ("Лицензияның берілген күні / Дата выдачи лицензии", _fmt(licence.issue_date)),
        ("Лицензияның нөмірі / Номер лицензии", licence.number),
    ]
    if licence.issue_place:
        rows.append(("Берілген орны / Место выдачи", licence.issue_place))
    with pdf.table(col_widths=(70, 120), text_align="LEFT", first_row_as_headings=False,
                   line_height=5.5) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=FontFace(emphasis="BOLD"))
            row.cell(value)
    for appendix in licence.appendices:
        pdf.ln(6)
        _heading(pdf, f"Лицензияға қосымша № {appendix.number} / Приложение к лицензии № {appendix.number}",
                 size=11)
        _paragraph(pdf, f"Лицензия № {licence.number}. {licence.activity_type_kk} / {licence.activity_type_ru}",
                   gap=1)
        if appendix.premises_address:
            _paragraph(pdf, f"Орналасқан жері / Местонахождение: {appendix.premises_address}", gap=1)
        with pdf.table(col_widths=(30, 80, 80), text_align="LEFT", headings_style=_HEADER_STYLE,
                       line_height=5.5) as table:
            head = table.row()
            for text in ("Коды / Код", "Қызметтің кіші түрі", "Подвид деятельности"):
                head.cell(text)
            for sub in appendix.subtypes:
                row = table.row()
                row.cell(sub.code)
                row.cell(sub.name_kk)
                row.cell(sub.name_ru)
    pdf.ln(6)
    _paragraph(pdf, "Электрондық құжат қызмет берушінің уәкілетті тұлғасының ЭЦҚ-сымен қалыптастырылған. / "
                    "Электронный документ сформирован с ЭЦП уполномоченного лица услугодателя.", gap=0)
    return bytes(pdf.output())


def render_refusal_letter_pdf(letter: RefusalLetterView, *, font_dir: Path | None = None) -> bytes:
    """The refusal letter: addressee, the refusal sentence (kk, ru), table of documents not provided."""
    pdf = _new_pdf(f"Бас тарту / Отказ № {letter.application_number}", letter.letter_date,
                   _font_dir(font_dir, letter))
    _paragraph(pdf, f"Күні / Дата: {_fmt(letter.letter_date)}", gap=1)
    _paragraph(pdf, f"{letter.state_body_kk}\n{letter.state_body_ru}", bold=True, gap=1)
    _paragraph(pdf, f"МО мекен-жайы / Адрес государственного органа: {letter.state_body_address}", gap=1)
    recipient = letter.recipient_name + (f", {letter.recipient_address}" if letter.recipient_address else "")
    _paragraph(pdf, f"Кімге / Кому: {recipient}", gap=4)
    _paragraph(pdf, f"Құрметті {letter.recipient_name}!", bold=True)
    number, sent = letter.application_number, _fmt(letter.sent_date)
    _paragraph(pdf, f"Сіздің {sent} күні жіберілген № {number} «{letter.activity_type_kk}» қызмет түріне "
                    "лицензия алу жөніндегі өтінішіңізді")
    _heading(pdf, "ҚАНАҒАТТАНДЫРУҒА БАС ТАРТЫЛДЫ", size=12)
    pdf.ln(2)
    _paragraph(pdf, f"Уважаемый(-ая) {letter.recipient_name}!", bold=True)
    _paragraph(pdf, f"В удовлетворении Вашего заявления № {number}, направленного {sent}, на получение "
                    f"лицензии на вид деятельности «{letter.activity_type_ru}»")
    _heading(pdf, "ОТКАЗАНО", size=12)
    pdf.ln(3)
    if letter.missing:
        with pdf.table(col_widths=(95, 95), text_align="LEFT", headings_style=_HEADER_STYLE,
                       line_height=5.5) as table:
            head = table.row()
            head.cell("Табыс етілмеген құжат атауы / Наименование непредставленного документа")
            head.cell("Түсініктеме / Комментарий")
            for doc in letter.missing:
                row = table.row()
                row.cell(f"{doc.name_kk}\n{doc.name_ru}")
                row.cell("\n".join(t for t in (doc.comment_kk, doc.comment_ru) if t) or doc.comment)
    if letter.signer_name:
        pdf.ln(6)
        _paragraph(pdf, f"Басшы (уәкілетті тұлға) / Руководитель (уполномоченное лицо): {letter.signer_name}",
                   gap=0)
    return bytes(pdf.output())
