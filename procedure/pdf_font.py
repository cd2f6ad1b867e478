"""A TrueType font for reportlab whose first embedded subset is the same in every document.

reportlab embeds a TrueType font as subsets of up to 256 characters, numbered in the order the
document first draws them, and builds each subset's font file, widths, Unicode map and their
compressed streams again for every document. For a one-page licence that per-document work (two
faces: cutting the glyph tables, compressing the font files, formatting the widths) and the
per-character code assignment on every drawn string were about half of the document's CPU.

:class:`FixedSubsetFont` fixes subset 0 in advance to :data:`REPERTOIRE`: ASCII at its own codes
(so a space is code 32 and the content stream stays readable) and the Kazakh and Russian Cyrillic
alphabets, the Kazakh Latin letters and the documents' punctuation at the other codes. That
subset's PDF parts are built once per process, when the font is made, and every document reuses
the same bytes; a string made only of repertoire characters is encoded in one call of a charmap
codec (as the standard library's single-byte codecs are). A character outside the repertoire
still works exactly as in reportlab: it is assigned a code in subset 1, 2, ... of that document,
built for that document.

What it costs: every document embeds the whole repertoire of each face it uses (≈ 200 glyphs)
rather than only the glyphs it draws (≈ 90), a few KiB per face after compression.

The text stays extractable: each subset carries its Unicode map (``ToUnicode``), as reportlab's.
The methods overridden are those reportlab calls on a dynamic (subsetted) font:
``splitString``, ``addObjects`` (and the per-document state both read).
"""

from __future__ import annotations

import codecs
import zlib
from dataclasses import dataclass
from typing import Any

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, TTFont, makeToUnicodeCMap

__all__ = ["REPERTOIRE", "FixedSubsetFont"]

_CYRILLIC_RU = "".join(map(chr, range(0x0410, 0x0450))) + "Ёё"
_CYRILLIC_KK = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"
_LATIN_KK = "ÄäĞğÑñÖöŞşŪūÜüĪī"  # the Kazakh Latin alphabet's letters beyond ASCII
_PUNCTUATION = "«»“”„‘’—–…№₸·°§×−•"

REPERTOIRE = _CYRILLIC_RU + _CYRILLIC_KK + _LATIN_KK + _PUNCTUATION
"""Characters beyond ASCII that every document's first subset holds (≤ 160: the codes 1-31 and
127-255 that ASCII leaves free)."""

_FREE_CODES = [*range(1, 32), *range(127, 256)]
_FLATE = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])


@dataclass(frozen=True)
class _Prebuilt:
    """Subset 0's PDF parts, the same for every document."""

    base_name: str
    font_file: bytes
    """The subset's TrueType file, compressed (``FlateDecode``)."""
    font_file_length: int
    """Its length before compression (``Length1``)."""
    widths: bytes
    """The ``Widths`` array, formatted."""
    to_unicode: bytes
    """The ``ToUnicode`` CMap, compressed."""


class FixedSubsetFont(TTFont):  # type: ignore[misc]  # reportlab has no type hints
    """A TrueType font registered with reportlab (``pdfmetrics.registerFont``) whose subset 0
    is :data:`REPERTOIRE` plus ASCII in every document, built once."""

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename, asciiReadable=True)
        chars = self.face.charToGlyph
        extras = [ord(c) for c in REPERTOIRE if ord(c) in chars]
        if len(extras) > len(_FREE_CODES):
            raise ValueError(f"repertoire of {len(extras)} characters exceeds one subset")
        subset = [0] * 256
        for code in range(32, 127):
            subset[code] = code if code in chars else 0
        for code, char in zip(_FREE_CODES, extras, strict=False):
            subset[code] = char
        subset = subset[:_FREE_CODES[len(extras) - 1] + 1] if extras else subset[:127]
        self._subset0 = subset
        self._assignments = {char: code for code, char in enumerate(subset) if char or code == 0}
        decoding = ["\ufffe"] * 256  # a code no character encodes to
        for char, code in self._assignments.items():
            decoding[code] = chr(char)
        self._encoding = codecs.charmap_build("".join(decoding))
        self._prebuilt = self._prebuild()

    def _prebuild(self) -> _Prebuilt:
        """Subset 0's font file, widths and Unicode map, compressed and formatted once."""
        base_name = self._base_name(0)
        font_file = self.face.makeSubset(self._subset0)
        widths = " ".join(fp_str(self.face.getCharWidth(c)) for c in self._subset0)
        return _Prebuilt(base_name=base_name, font_file=zlib.compress(font_file, 9),
                         font_file_length=len(font_file), widths=f"[{widths}]".encode(),
                         to_unicode=zlib.compress(makeToUnicodeCMap(base_name, self._subset0).encode(), 9))

    def _base_name(self, subset: int) -> str:
        face = self.face
        name: str = (SUBSETN(subset) + b"+" + face.name + face.subfontNameX).decode("pdfdoc")
        return name

    def _state(self, doc: Any) -> Any:
        """This document's code assignments, starting from the fixed subset 0."""
        state = self.state.get(doc)
        if state is None:
            state = self.state[doc] = TTFont.State(True, self)
            state.assignments = dict(self._assignments)
            state.subsets = [list(self._subset0)]
            state.nextCode = 256  # a character outside the repertoire opens subset 1
        return state

    def splitString(self, text: str | bytes, doc: Any, encoding: str = "utf-8") -> list[tuple[int, bytes]]:
        """``text`` as ``(subset, codes)`` runs: one run of subset 0, encoded in C, when every
        character is in it (a no-break space drawn as a space, as reportlab does), else
        reportlab's assignment character by character."""
        if isinstance(text, str):
            try:
                codes = codecs.charmap_encode(text.replace("\xa0", " "), "strict", self._encoding)[0]
            except UnicodeEncodeError:
                pass
            else:
                return [(0, codes)] if codes else []
        self._state(doc)
        result: list[tuple[int, bytes]] = super().splitString(text, doc, encoding)
        return result

    def getSubsetInternalName(self, subset: int, doc: Any) -> str:
        self._state(doc)
        name: str = super().getSubsetInternalName(subset, doc)
        return name

    def addObjects(self, doc: Any) -> None:
        """The font objects of ``doc``: subset 0 from the bytes built once, any further subset
        as reportlab builds it."""
        state = self._state(doc)
        state.frozen = 1
        prebuilt = self._prebuilt
        for n, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(n, doc)[1:]
            pdf_font = pdfdoc.PDFTrueTypeFont()
            pdf_font.Name = internal_name
            pdf_font.FirstChar = 0
            pdf_font.LastChar = len(subset) - 1
            to_unicode = pdfdoc.PDFStream()
            if n == 0:
                base_name = prebuilt.base_name
                pdf_font.Widths = prebuilt.widths
                to_unicode.content = prebuilt.to_unicode
                to_unicode.dictionary["Filter"] = _FLATE
                descriptor = self._descriptor(doc, prebuilt)
            else:
                base_name = self._base_name(n)
                pdf_font.Widths = pdfdoc.PDFArray([self.face.getCharWidth(c) for c in subset])
                to_unicode.content = makeToUnicodeCMap(base_name, subset)
                if doc.compression:
                    to_unicode.filters = [pdfdoc.PDFZCompress]
                descriptor = self.face.addSubsetObjects(doc, base_name, subset)
            pdf_font.BaseFont = base_name
            pdf_font.ToUnicode = doc.Reference(to_unicode, "toUnicodeCMap:" + base_name)
            pdf_font.FontDescriptor = descriptor
            doc.Reference(pdf_font, internal_name)
            doc.idToObject["BasicFonts"].dict[internal_name] = pdf_font

    def _descriptor(self, doc: Any, prebuilt: _Prebuilt) -> Any:
        """What reportlab's ``TTFontFace.addSubsetObjects`` makes, around the prebuilt font file."""
        stream = pdfdoc.PDFStream()
        stream.content = prebuilt.font_file
        stream.dictionary["Length1"] = prebuilt.font_file_length
        stream.dictionary["Filter"] = _FLATE
        face, name = self.face, prebuilt.base_name
        file_ref = doc.Reference(stream, f"fontFile:{face.filename}({name})")
        return doc.Reference(pdfdoc.PDFDictionary({
            "Type": "/FontDescriptor", "Ascent": face.ascent, "CapHeight": face.capHeight,
            "Descent": face.descent, "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
            "FontBBox": pdfdoc.PDFArray(face.bbox), "FontName": pdfdoc.PDFName(name),
            "ItalicAngle": face.italicAngle, "StemV": face.stemV, "FontFile2": file_ref,
            "MissingWidth": face.defaultWidth}), "fontDescriptor:" + name)
