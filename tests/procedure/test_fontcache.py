"""Fonts cut to the documents' characters: same PDF bytes as the full fonts, fallback outside the cut."""

from __future__ import annotations

import ast
import datetime as dt
import io
from pathlib import Path

import pypdf
import pytest

from adapters.core.errors import ConfigurationError
from procedure import documents, fontcache, pdf_layout
from procedure.documents import render_licence_pdf, render_refusal_letter_pdf
from procedure.fontcache import cut_fonts, subset_font_dir
from procedure.models import AppendixView, LicenceView, MissingDocument, RefusalLetterView, SubType

FONTS = [documents.DEFAULT_FONT_DIR / name for name in documents.FONT_FILES.values()]


def licence(name: str = "«Мәшһүр Жүсіп атындағы университет» ЖШС") -> LicenceView:
    return LicenceView(
        number="KZ12LAA00001234", licensee_name=name, licensee_bin="120240012345",
        special_conditions_kk="Шектеусіз", special_conditions_ru="Без ограничений — №1",
        issuing_body_kk="Білім және ғылым саласындағы бақылау комитеті",
        issuing_body_ru="Комитет по контролю в сфере образования и науки", head_name="САЛЫКОВ ҚАЙДАР",
        issue_date=dt.date(2012, 11, 9), issue_place_kk="Астана қ.",
        appendices=[AppendixView(number="001", premises_address="Гастелло көш. 1", subtypes=[
            SubType(code="SB100100", name_kk="Өрт қауіпсіздігі", name_ru="Пожарная безопасность")])])


def letter() -> RefusalLetterView:
    return RefusalLetterView(
        letter_date=dt.date(2012, 2, 17), state_body_kk="Комитеті", state_body_ru="Комитет",
        state_body_address_kk="Астана қ.", state_body_address_ru="г. Астана", recipient_name="ДАУКЕЕВ ГУМАРБЕК",
        salutation_kk="Құрметті ДАУКЕЕВ ГУМАРБЕК!", salutation_ru="Уважаемый(-ая) ДАУКЕЕВ ГУМАРБЕК!",
        text_kk="Сіздің өтінішіңізді", text_ru="В удовлетворении Вашего заявления", application_number="128",
        sent_date=dt.date(2011, 12, 27), signer_name="Иманғали Нұрлан Өмірұлы",
        missing=[MissingDocument(name_kk="Жарғы", name_ru="Устав", name_en="Charter", comment_kk="жоқ",
                                 comment_ru="нет")])


def _pages(pdf: bytes) -> list[bytes]:
    """Each page's content: the text, the font sizes and the places it is drawn at."""
    return [page.get_contents().get_data() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_cut_fonts_draw_the_same_pages_as_the_full_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    cut_lic, cut_letter = render_licence_pdf(licence()), render_refusal_letter_pdf(letter())
    monkeypatch.setattr(documents, "subset_font_dir", lambda paths, text: None)
    full_lic, full_letter = render_licence_pdf(licence()), render_refusal_letter_pdf(letter())
    for cut, full in ((cut_lic, full_lic), (cut_letter, full_letter)):
        assert _pages(cut) == _pages(full) and _text(cut) == _text(full)
        assert b"DejaVuSans-Cut" in cut and b"DejaVuSans-Cut" not in full  # two fonts, each its own name
        assert len(cut) < len(full)


def test_cut_is_used_and_is_much_smaller() -> None:
    directory = subset_font_dir(FONTS, "Қазақстан")
    assert directory is not None and directory != documents.DEFAULT_FONT_DIR
    for font in FONTS:
        assert (directory / font.name).stat().st_size < font.stat().st_size / 3


def test_text_outside_the_cut_falls_back_to_the_full_fonts() -> None:
    assert subset_font_dir(FONTS, "Ελλάδα") is None          # Greek: in DejaVu, not in the cut
    assert subset_font_dir(FONTS, "漢字") is not None         # in neither font: the cut renders it alike


def test_fallback_document_is_rendered_from_the_full_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    render_licence_pdf(licence())  # the cut fonts registered first in this process
    greek = licence("Ελληνική εταιρεία")
    drawn = render_licence_pdf(greek)
    assert "Ελληνική εταιρεία" in _text(drawn)  # drawn from the full fonts, not the cut ones of the same name
    assert b"DejaVuSans-Cut" not in drawn
    monkeypatch.setattr(documents, "subset_font_dir", lambda paths, text: None)
    assert drawn == render_licence_pdf(greek)


def test_a_second_font_under_a_registered_postscript_name_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for font in FONTS:
        (copy / font.name).write_bytes(font.read_bytes())
    pdf_layout.fonts(documents.DEFAULT_FONT_DIR)
    with pytest.raises(ConfigurationError, match="has the PostScript name of"):
        pdf_layout.fonts(copy)


def test_every_label_of_the_documents_is_in_the_cut() -> None:
    source = Path(documents.__file__).read_text(encoding="utf-8")
    literals = "".join(node.value for node in ast.walk(ast.parse(source))
                       if isinstance(node, ast.Constant) and isinstance(node.value, str))
    kept = {chr(cp) for low, high in fontcache.UNICODE_RANGES for cp in range(low, high + 1)}
    assert set(literals) - kept <= {"\n"}


def test_cut_is_reused_and_keyed_by_the_font_bytes(tmp_path: Path) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    copy = sources / FONTS[0].name
    copy.write_bytes(FONTS[0].read_bytes())
    first = cut_fonts([copy], root=tmp_path / "cache")
    cut_file = first.directory / copy.name
    stamp = cut_file.stat().st_mtime_ns
    again = cut_fonts([copy], root=tmp_path / "cache")
    assert again.directory == first.directory and cut_file.stat().st_mtime_ns == stamp
    assert "Ω" in first.lacking and "қ" not in first.lacking
    copy.write_bytes(FONTS[1].read_bytes())  # another font under the same name: another cut
    assert cut_fonts([copy], root=tmp_path / "cache").directory != first.directory
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_unwritable_cache_falls_back_to_a_private_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cut = cut_fonts(FONTS[:1], root=blocker / "fonts")
    assert (cut.directory / FONTS[0].name).is_file()
    assert not str(cut.directory).startswith(str(blocker))


def test_cut_drops_only_the_licence_text_from_the_name_table() -> None:
    from fontTools import ttLib

    directory = subset_font_dir(FONTS, "Қазақстан")
    assert directory is not None
    for font in FONTS:
        full = {record.nameID for record in ttLib.TTFont(font)["name"].names}
        cut = {record.nameID for record in ttLib.TTFont(directory / font.name)["name"].names}
        assert 13 in full and 13 not in cut
        assert cut == full - {13} and {0, 6, 14} <= cut  # copyright, PostScript name, licence address
        ps_name = ttLib.TTFont(directory / font.name)["name"].getName(6, 3, 1, 0x409)
        assert ps_name is not None and ps_name.toUnicode().endswith(fontcache.PS_NAME_SUFFIX)


def test_coverage_through_the_code_page_is_the_character_by_character_answer(tmp_path: Path) -> None:
    cut = cut_fonts(FONTS)
    for text in ("Қазақстан «№ 5» — 10 ₸…", "Ελλάδα", "漢字", "Café Ÿ", "", "\x07", "Ә" * 5000 + "Ω"):
        assert cut.covers(text) == cut.lacking.isdisjoint(text), text
    # a cut lacking a character of the code page is never vouched for by the code page
    narrow = fontcache.FontCut(tmp_path, frozenset("қ"))
    assert not narrow.covers("Қазақстан") and narrow.covers("Казахстан")
