"""PDF documents: the licence and the refusal letter, with extractable Kazakh and Russian text."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from adapters.core.errors import ConfigurationError
from procedure.documents import render_licence_pdf, render_refusal_letter_pdf
from procedure.models import (
    AppendixView,
    ApplicationDocuments,
    LicenceView,
    ProvidedDocument,
    RefusalLetterView,
    Service,
    SubType,
)
from procedure.qualification import evaluate

KAZAKH_LETTERS = "әғқңөұүһі"
COMMITTEE_KK = "Білім және ғылым саласындағы бақылау комитеті"
COMMITTEE_RU = "Комитет по контролю в сфере образования и науки"
ADDRESS = "Астана қ., Мәңгілік Ел даңғылы, 8, Министрліктер үйі"
ADDRESS_RU = "г. Астана, проспект Мәңгілік Ел, 8, Дом министерств"


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    """Whitespace-free text: table cells wrap lines wherever the width ends."""
    return "".join(text.split())


def contains(haystack: str, needle: str) -> bool:
    return squash(needle) in squash(haystack)


@pytest.fixture
def licence() -> LicenceView:
    return LicenceView(
        number="KZ12LAA00001234",
        licensee_name="«Мәшһүр Жүсіп атындағы университет» ЖШС",
        licensee_bin="120240012345",
        special_conditions_kk="Шектеусіз",
        special_conditions_ru="Без ограничений",
        issuing_body_kk=COMMITTEE_KK,
        issuing_body_ru=COMMITTEE_RU,
        head_name="САЛЫКОВ ҚАЙДАР АМАНТАЕВИЧ",
        issue_date=dt.date(2012, 11, 9),
        issue_place_kk="Астана қ.", issue_place_ru="г. Астана",
        appendices=[AppendixView(number="001", premises_address="Астана қ., Гастелло көш. 1", subtypes=[
            SubType(code="SB100100", name_kk="Өрт қауіпсіздігі", name_ru="Пожарная безопасность"),
            SubType(code="SB100200", name_kk="Ақпараттық қауіпсіздік жүйелері",
                    name_ru="Системы информационной безопасности"),
        ])],
    )


def test_licence_pdf_has_its_fields_in_kazakh_and_russian(licence: LicenceView) -> None:
    pdf = render_licence_pdf(licence)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for expected in ("KZ12LAA00001234", "09.11.2012", "Білім беру саласындағы қызмет (М65)",
                     "Образовательная деятельность (М65)", "Қызмет түрі",
                     "Лицензия қолданылуының айрықша жағдайлары", "Лицензияны берген орган",
                     "Басшы (уәкілетті тұлға)", "Лицензияның берілген күні", "Лицензияның нөмірі",
                     "Шектеусіз", "Без ограничений", COMMITTEE_KK, COMMITTEE_RU,
                     "САЛЫКОВ ҚАЙДАР АМАНТАЕВИЧ", "120240012345"):
        assert contains(text, expected), expected
    for letter in KAZAKH_LETTERS:
        assert letter in text, letter


def test_licence_pdf_lists_appendices_with_codes(licence: LicenceView) -> None:
    text = text_of(render_licence_pdf(licence))
    # the appendix names its licence
    assert contains(text, "№ KZ12LAA00001234 лицензияға № 001 қосымша")
    assert contains(text, "Приложение № 001 к лицензии № KZ12LAA00001234")
    for expected in ("SB100100", "Өрт қауіпсіздігі", "Пожарная безопасность", "SB100200",
                     "Ақпараттық қауіпсіздік жүйелері", "Системы информационной безопасности"):
        assert contains(text, expected), expected


def test_licence_pdf_is_reproducible(licence: LicenceView) -> None:
    assert render_licence_pdf(licence) == render_licence_pdf(licence)


def seed_letter() -> RefusalLetterView:
    result = evaluate(ApplicationDocuments(
        service=Service.HIGHER_POSTGRADUATE,
        documents=[ProvidedDocument(code="application", attributes={"form": "restore-licence-data"}),
                   ProvidedDocument(code="charter_copy", attributes={"notarised": False})],
        facts={"teaching_staff_degree_share": 0.6}))
    name = "ДАУКЕЕВ ГУМАРБЕК ЖУСУПБЕКОВИЧ"
    return RefusalLetterView(
        letter_date=dt.date(2012, 2, 17), state_body_kk=COMMITTEE_KK, state_body_ru=COMMITTEE_RU,
        state_body_address_kk=ADDRESS, state_body_address_ru=ADDRESS_RU, recipient_name=name,
        recipient_address="Павлодар қ., Мәшһүр Жүсіп көшесі, 1",
        application_number="128", sent_date=dt.date(2011, 12, 27), missing=result.missing,
        salutation_kk=f"Құрметті {name}!", salutation_ru=f"Уважаемый(-ая) {name}!",
        text_kk="Сіздің 27.12.2011 күні жіберілген № 128 «Білім беру саласындағы қызмет (М65)» қызмет түріне "
                "лицензия алу жөніндегі өтінішіңізді қанағаттандыруға БАС ТАРТЫЛДЫ.",
        text_ru="В удовлетворении Вашего заявления № 128, направленного 27.12.2011, на получение лицензии "
                "на вид деятельности «Образовательная деятельность (М65)» ОТКАЗАНО.",
        signer_name="Иманғали Нұрлан Өмірұлы")


def test_refusal_letter_pdf_has_addressee_and_refusal_sentence() -> None:
    letter = seed_letter()
    text = text_of(render_refusal_letter_pdf(letter))
    for expected in ("17.02.2012", ADDRESS, ADDRESS_RU, "Уважаемый(-ая) ДАУКЕЕВ",
                     "Құрметті ДАУКЕЕВ ГУМАРБЕК ЖУСУПБЕКОВИЧ",
                     "Сіздің 27.12.2011 күні жіберілген № 128",
                     "«Білім беру саласындағы қызмет (М65)» қызмет түріне лицензия алу жөніндегі өтінішіңізді",
                     "қанағаттандыруға БАС ТАРТЫЛДЫ", "ОТКАЗАНО",
                     "В удовлетворении Вашего заявления № 128, направленного 27.12.2011",
                     "Иманғали Нұрлан Өмірұлы"):
        assert contains(text, expected), expected
    for letter_ in KAZAKH_LETTERS:
        assert letter_ in text, letter_


def test_refusal_letter_pdf_has_the_table_rows() -> None:
    letter = seed_letter()
    assert len(letter.missing) == 8
    text = text_of(render_refusal_letter_pdf(letter))
    assert contains(text, "Табыс етілмеген құжат атауы")
    assert contains(text, "Түсініктеме")
    for row in letter.missing:
        assert contains(text, row.name_kk), row.rule_id
        assert contains(text, row.name_ru), row.rule_id
        assert contains(text, row.comment_kk), row.rule_id
        assert contains(text, row.comment_ru), row.rule_id
    # rows appear in the letter's order
    positions = [squash(text).index(squash(row.name_kk)) for row in letter.missing]
    assert positions == sorted(positions)


def test_missing_fonts_are_a_configuration_error(tmp_path: Path, licence: LicenceView) -> None:
    with pytest.raises(ConfigurationError, match="fonts-dejavu-core"):
        render_licence_pdf(licence, font_dir=tmp_path)


def test_a_long_licence_breaks_across_pages_and_keeps_every_row(licence: LicenceView) -> None:
    subtypes = [SubType(code=f"ED0{i:05d}", name_kk="Жоғары білім (бакалавриат) " * 3,
                        name_ru="Высшее образование " * 3)
                for i in range(40)]
    long = licence.model_copy(update={"appendices": [AppendixView(number=str(n), subtypes=subtypes) for n in (1, 2)]})
    reader = PdfReader(io.BytesIO(render_licence_pdf(long)))
    assert len(reader.pages) > 2
    text = "\n".join(page.extract_text() for page in reader.pages)
    for sub in subtypes:
        assert text.count(sub.code) == 2, sub.code
