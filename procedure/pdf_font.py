"""A TrueType font for reportlab whose first embedded subset is the same in every document.

reportlab embeds a TrueType font as subsets of up to 256 characters, numbered in the order the
document first draws them, and builds each subset's font file, widths, Unicode map and their
compressed streams again for every document. For a one-page licence that per-document work (two
faces: cutting the glyph tables, compressing the font files, formatting the widths) and the
per-character code assignment on every drawn string were about half of the document's CPU.

:class:`FixedSubsetFont` fixes subset 0 in advance to :data:`REPERTOIRE`: ASCII at its own codes
(so a space is code 32 and the content stream stays readable) and the Kazakh and Russian Cyrillic
alphabets, the Kazakh Latin letters and the documents' punctuation at the other codes. That
subset's PDF objects (font dictionary, descriptor, font file, Unicode map) are formatted once per
process, when the font is made, font file and map compressed; a document fills in only its own
object numbers and its name for the font. A string made only of repertoire characters is encoded
in one call of a charmap codec (as the standard library's single-byte codecs are). A character
outside the repertoire still works exactly as in reportlab: it is assigned a code in subset 1,
2, ... of that document, built for that document. An encrypted document is refused (the bytes
formatted once are not encrypted); the documents are never encrypted.

What it costs: every document embeds the whole repertoire of each face it uses (≈ 210 glyphs)
rather than only the glyphs it draws (≈ 90): 6 KiB more per document (33 KiB for the licence).

The text stays extractable: each subset carries its Unicode map (``ToUnicode``), as reportlab's.
The methods overridden are those reportlab calls on a dynamic (subsetted) font: ``splitString``,
``getSubsetInternalName`` and ``addObjects``; the objects are reportlab's ``PDFObject``, whose
``format`` gives an object's bytes as the document is written.
"""

from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import dataclass
from typing import Any

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, SUBSETN, TTFont, makeToUnicodeCMap

from adapters.core.errors import ConfigurationError

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
_HOLE = re.compile(rb"@@(\w+)@@")


@dataclass(frozen=True)
class _Template:
    """A PDF object's bytes, formatted once, with holes for what differs between documents (the
    references to the document's other objects, the font's name in it)."""

    parts: tuple[bytes, ...]
    holes: tuple[str, ...]

    @classmethod
    def of(cls, formatted: bytes) -> _Template:
        """``formatted`` split at its ``@@name@@`` marks (put there as string values)."""
        pieces = _HOLE.split(formatted)
        return cls(tuple(pieces[0::2]), tuple(hole.decode() for hole in pieces[1::2]))

    def fill(self, document: Any, fills: dict[str, Any]) -> bytes:
        out = [self.parts[0]]
        for hole, part in zip(self.holes, self.parts[1:], strict=True):
            value = fills[hole]
            out.append(value if isinstance(value, bytes) else value.format(document))
            out.append(part)
        return b"".join(out)


class _Formatted(pdfdoc.PDFObject):  # type: ignore[misc]  # reportlab has no type hints
    """An indirect object of one document made from a :class:`_Template` (reportlab calls
    ``format`` on every object of a document as it writes it)."""

    __RefOnly__ = 1  # referenced from where it is used, never copied inline

    def __init__(self, template: _Template, fills: dict[str, Any] | None = None) -> None:
        self._template, self._fills = template, fills or {}

    def format(self, document: Any) -> bytes:
        return self._template.fill(document, self._fills)


def _stream(content: bytes, **entries: int) -> bytes:
    """A compressed stream object, formatted as reportlab's ``PDFStream`` formats one."""
    dictionary = pdfdoc.PDFDictionary({"Filter": _FLATE, "Length": len(content), **entries})
    return bytes(dictionary.format(None)) + b"\nstream\n" + content + b"endstream\n"


@dataclass(frozen=True)
class _Prebuilt:
    """Subset 0's PDF objects, the same in every document but for their references."""

    base_name: str
    font: _Template
    """The font dictionary; holes: ``name`` (the document's name for it), ``to_unicode``, ``descriptor``."""
    descriptor: _Template
    """The font descriptor; hole: ``font_file``."""
    font_file: _Template
    """The subset's TrueType file, compressed."""
    to_unicode: _Template
    """The Unicode map (``ToUnicode`` CMap), compressed."""


class FixedSubsetFont(TTFont):  # type: ignore[misc]  # reportlab has no type hints
    """A TrueType font registered with reportlab (``pdfmetrics.registerFont``) whose subset 0
    is :data:`REPERTOIRE` plus ASCII in every document, built once."""

    def __init__(self, name: str, filename: str) -> None:
        super().__init__(name, filename, asciiReadable=True)
        chars = self.face.charToGlyph
        extras = [ord(c) for c in REPERTOIRE if ord(c) in chars]
        if len(extras) > len(_FREE_CODES):
            raise ConfigurationError(f"font {filename}: a first subset of {len(extras)} characters beyond ASCII "
                                     f"exceeds the {len(_FREE_CODES)} free codes", font=filename)
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
        """Subset 0's objects, formatted once (the subset cut from the glyph tables, compressed)."""
        face, subset, name = self.face, self._subset0, self._base_name(0)
        font_file = face.makeSubset(subset)
        widths = " ".join(fp_str(face.getCharWidth(c)) for c in subset)
        font = pdfdoc.PDFDictionary({
            "Type": "/Font", "Subtype": "/TrueType", "BaseFont": pdfdoc.PDFName(name), "Name": "@@name@@",
            "FirstChar": 0, "LastChar": len(subset) - 1, "Widths": f"[{widths}]",
            "ToUnicode": "@@to_unicode@@", "FontDescriptor": "@@descriptor@@"})
        descriptor = pdfdoc.PDFDictionary({
            "Type": "/FontDescriptor", "Ascent": face.ascent, "CapHeight": face.capHeight,
            "Descent": face.descent, "Flags": (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
            "FontBBox": pdfdoc.PDFArray(face.bbox), "FontName": pdfdoc.PDFName(name),
            "ItalicAngle": face.italicAngle, "StemV": face.stemV, "FontFile2": "@@font_file@@",
            "MissingWidth": face.defaultWidth})
        return _Prebuilt(
            base_name=name, font=_Template.of(font.format(None)), descriptor=_Template.of(descriptor.format(None)),
            font_file=_Template.of(_stream(zlib.compress(font_file, 9), Length1=len(font_file))),
            to_unicode=_Template.of(_stream(zlib.compress(makeToUnicodeCMap(name, subset).encode(), 9))))

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
        """The font objects of ``doc``: subset 0's from the bytes formatted once, any further
        subset's as reportlab makes them."""
        state = self._state(doc)
        state.frozen = 1
        for n, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(n, doc)[1:]
            font = self._subset0_objects(doc, internal_name) if n == 0 else self._objects(doc, n, subset, internal_name)
            doc.Reference(font, internal_name)
            doc.idToObject["BasicFonts"].dict[internal_name] = font

    def _subset0_objects(self, doc: Any, internal_name: str) -> _Formatted:
        if not isinstance(doc.encrypt, pdfdoc.NoEncryption):  # the bytes formatted once are plain
            raise ConfigurationError("the documents' fonts cannot be embedded in an encrypted PDF",
                                     font=self.fontName)
        prebuilt, face = self._prebuilt, self.face
        name = prebuilt.base_name
        font_file = doc.Reference(_Formatted(prebuilt.font_file), f"fontFile:{face.filename}({name})")
        return _Formatted(prebuilt.font, {
            "name": pdfdoc.PDFName(internal_name).encode(),
            "to_unicode": doc.Reference(_Formatted(prebuilt.to_unicode), "toUnicodeCMap:" + name),
            "descriptor": doc.Reference(_Formatted(prebuilt.descriptor, {"font_file": font_file}),
                                        "fontDescriptor:" + name)})

    def _objects(self, doc: Any, n: int, subset: list[int], internal_name: str) -> Any:
        """Subset ``n``'s objects, as reportlab's ``TTFont.addObjects`` makes them."""
        name = self._base_name(n)
        font = pdfdoc.PDFTrueTypeFont()
        font.Name, font.BaseFont, font.FirstChar, font.LastChar = internal_name, name, 0, len(subset) - 1
        font.Widths = pdfdoc.PDFArray([self.face.getCharWidth(c) for c in subset])
        to_unicode = pdfdoc.PDFStream()
        to_unicode.content = makeToUnicodeCMap(name, subset)
        if doc.compression:
            to_unicode.filters = [pdfdoc.PDFZCompress]
        font.ToUnicode = doc.Reference(to_unicode, "toUnicodeCMap:" + name)
        font.FontDescriptor = self.face.addSubsetObjects(doc, name, subset)
        return font
