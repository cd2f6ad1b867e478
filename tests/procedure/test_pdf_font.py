"""The fonts' first subset, fixed in advance: the same embedded bytes in every document, the text
still extractable, characters beyond it in further subsets as reportlab makes them."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pypdf
import pytest
from fontTools import ttLib

from adapters.core.errors import ConfigurationError
from procedure import fontcache
from procedure.documents import DEFAULT_FONT_DIR, render_licence_pdf
from procedure.models import LicenceView
from procedure.pdf_font import REPERTOIRE
from procedure.pdf_layout import fonts


def licence(name: str) -> LicenceView:
    return LicenceView(
        number="KZ12LAA00001234", licensee_name=name, licensee_bin="120240012345",
        special_conditions_kk="Шектеусіз", special_conditions_ru="Без ограничений",
        issuing_body_kk="Білім және ғылым саласындағы бақылау комитеті",
        issuing_body_ru="Комитет по контролю в сфере образования и науки", head_name="САЛЫКОВ ҚАЙДАР",
        issue_date=dt.date(2012, 11, 9), issue_place_kk="Астана қ.", issue_place_ru="г. Астана")


def _fonts(pdf: bytes) -> dict[str, Any]:
    """Base font name -> font dictionary, over every page."""
    found: dict[str, Any] = {}
    for page in pypdf.PdfReader(io.BytesIO(pdf), strict=True).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            found[str(font["/BaseFont"]).lstrip("/")] = font
    return found


def _font_file(font: Any) -> bytes:
    data: bytes = font["/FontDescriptor"]["/FontFile2"].get_object().get_data()
    return data


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_repertoire_fits_one_subset_and_is_in_the_cut_fonts() -> None:
    assert len(set(REPERTOIRE)) == len(REPERTOIRE) <= 160  # the codes ASCII leaves free in 0-255
    kept = {chr(cp) for low, high in fontcache.UNICODE_RANGES for cp in range(low, high + 1)}
    assert set(REPERTOIRE) <= kept
    assert set("әғқңөұүһіӘҒҚҢӨҰҮҺІЁё«»№—") <= set(REPERTOIRE)


def test_documents_embed_the_same_first_subset_whatever_their_text() -> None:
    one, other = render_licence_pdf(licence("«Мәшһүр Жүсіп» ЖШС")), render_licence_pdf(licence("ТОО «Ғылым-Ұя»"))
    fonts_one, fonts_other = _fonts(one), _fonts(other)
    assert sorted(fonts_one) == sorted(fonts_other) == ["AAAAAA+DejaVuSans-Bold-Cut", "AAAAAA+DejaVuSans-Cut"]
    for name, font in fonts_one.items():
        assert _font_file(font) == _font_file(fonts_other[name])
    assert "«Мәшһүр Жүсіп» ЖШС" in _text(one) and "ТОО «Ғылым-Ұя»" in _text(other)


def test_the_first_subset_is_a_valid_font_with_every_repertoire_glyph() -> None:
    font = _fonts(render_licence_pdf(licence("Қазақстан")))["AAAAAA+DejaVuSans-Cut"]
    embedded = ttLib.TTFont(io.BytesIO(_font_file(font)))
    codes = embedded["cmap"].getcmap(1, 0).cmap  # code in the subset -> glyph
    assert len(codes) >= len(REPERTOIRE) + 95  # the repertoire and printable ASCII
    assert len({glyph for glyph in codes.values() if glyph != ".notdef"}) >= len(REPERTOIRE) + 94
    assert int(font["/LastChar"]) + 1 == len(font["/Widths"])


def test_characters_beyond_the_repertoire_go_to_a_further_subset() -> None:
    name = "Café «Ÿpsilon» ЖШС"  # é and Ÿ: in the cut fonts, not in the fixed subset
    pdf = render_licence_pdf(licence(name))
    fonts = _fonts(pdf)
    assert "AAAAAB+DejaVuSans-Bold-Cut" in fonts  # the name is drawn bold
    second = fonts["AAAAAB+DejaVuSans-Bold-Cut"]
    assert int(second["/LastChar"]) == 2  # .notdef, é, Ÿ
    assert sorted(ttLib.TTFont(io.BytesIO(_font_file(second)))["cmap"].getcmap(1, 0).cmap) == [1, 2]
    assert name in _text(pdf)


def test_a_no_break_space_is_drawn_as_a_space() -> None:
    assert "№ 5 «Ақ\u00a0жол»" not in _text(render_licence_pdf(licence("№ 5 «Ақ\u00a0жол»")))
    assert "№ 5 «Ақ жол»" in _text(render_licence_pdf(licence("№ 5 «Ақ\u00a0жол»")))


def test_an_encrypted_document_is_refused_rather_than_written_with_plain_fonts() -> None:
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(io.BytesIO(), encrypt="secret")
    canvas.setFont(fonts(DEFAULT_FONT_DIR).regular, 10)
    canvas.drawString(10, 10, "Қазақстан")
    with pytest.raises(ConfigurationError, match="encrypted"):
        canvas.save()
