"""A one-column page layout on reportlab's canvas: headings, paragraphs and ruled tables, with
line breaking and page breaks, in the DejaVu fonts.

Why a canvas and not a layout engine: the licence and the refusal letter are one or two pages of
text and tables; reportlab's canvas draws them in a few milliseconds, where a general layout
engine (fpdf2 before: ≈ 54 ms per licence) spends most of its time breaking lines in Python and
re-parsing and subsetting the fonts for every document. Here a font is parsed once per process
(:func:`fonts`), and its embedded subset of the Kazakh, Russian and ASCII characters is built
once too (:mod:`procedure.pdf_font`): every document embeds the same bytes for it, with a Unicode
map, so the text can be extracted (searched, copied, read aloud).

Output is reproducible: the canvas is made ``invariant`` (no time stamp, fixed document id), so
the same document gives the same bytes, in a thread or in a PDF worker process.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from adapters.core.errors import ConfigurationError
from procedure.pdf_font import FixedSubsetFont

__all__ = ["FONT_FILES", "FontPair", "Page", "fonts"]

FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
"""The two faces the documents use, by file name in a font directory."""

_lock = threading.Lock()
_registered: dict[str, FontPair] = {}


@dataclass(frozen=True)
class FontPair:
    """Names under which a directory's regular and bold faces are registered with reportlab."""

    regular: str
    bold: str


def fonts(directory: Path) -> FontPair:
    """Register ``directory``'s DejaVu faces once per process (parsing a font is the costly part)
    and answer their names. The names depend only on the registration order's directory index,
    so two processes registering the same directories first give the same PDF bytes."""
    key = str(directory)
    with _lock:
        pair = _registered.get(key)
        if pair is None:
            index = len(_registered)
            pair = FontPair(f"DejaVuSans-{index}", f"DejaVuSans-Bold-{index}")
            for name, face in ((pair.regular, "regular"), (pair.bold, "bold")):
                path = str(directory / FONT_FILES[face])
                pdfmetrics.registerFont(FixedSubsetFont(name, path))
                drawn_from = getattr(pdfmetrics.getFont(name).face, "filename", path)
                if drawn_from != path:  # reportlab shares one face per PostScript name in a process
                    raise ConfigurationError(
                        f"font {path} has the PostScript name of {drawn_from}, registered before it: "
                        "reportlab would draw with the earlier file", font=path)
            _registered[key] = pair
        return pair


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (at spaces; a word wider than a line is
    cut between letters). Explicit newlines are kept; an empty text is one empty line."""
    lines: list[str] = []
    face = pdfmetrics.getFont(font)  # once per paragraph, not once per word
    measure = face.stringWidth
    space = measure(" ", size)
    for raw in text.split("\n"):
        current, current_width = "", 0.0
        for word in raw.split():
            w = measure(word, size)
            if current and current_width + space + w <= width:
                current, current_width = f"{current} {word}", current_width + space + w
                continue
            if current:
                lines.append(current)
            while w > width:  # a word longer than the line: cut it
                cut = len(word)
                while cut > 1 and measure(word[:cut], size) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
                w = measure(word, size)
            current, current_width = word, w
        lines.append(current)
    return lines


class Page:
    """A document being drawn, top to bottom, on A4 with 15 mm margins."""

    MARGIN = 15 * mm
    PAD = 1.5 * mm

    def __init__(self, pair: FontPair, *, title: str) -> None:
        self._buffer = io.BytesIO()
        # initialFontName: without it every document would carry an unused Helvetica object
        self._canvas = Canvas(self._buffer, pagesize=A4, invariant=True, pageCompression=1,
                              initialFontName=pair.regular)
        self._canvas.setTitle(title)
        self._canvas.setCreator("egov-adapters")
        self._canvas.setLineWidth(0.5)
        self.fonts = pair
        self.width = A4[0] - 2 * self.MARGIN
        self._y = A4[1] - self.MARGIN

    def _font(self, bold: bool) -> str:
        return self.fonts.bold if bold else self.fonts.regular

    def _room(self, height: float) -> None:
        if self._y - height < self.MARGIN:
            self._canvas.showPage()
            self._canvas.setLineWidth(0.5)  # a new page starts from the default graphics state
            self._y = A4[1] - self.MARGIN

    def space(self, height_mm: float) -> None:
        self._y -= height_mm * mm

    def text(self, text: str, *, size: float = 10, bold: bool = False, centre: bool = False,
             gap_mm: float = 2) -> None:
        """A paragraph (a heading with ``centre=True``), then ``gap_mm`` of space."""
        font, leading = self._font(bold), size * 1.4
        lines = wrap(text, font, size, self.width)
        block = self._canvas.beginText()
        block.setFont(font, size, leading)
        placed = False  # the line is placed by the line before it (T*), once the first is placed
        for line in lines:
            if self._y - leading < self.MARGIN:
                self._canvas.drawText(block)
                self._room(leading)
                block = self._canvas.beginText()
                block.setFont(font, size, leading)
                placed = False
            self._y -= leading
            if centre:
                block.setTextOrigin(self.MARGIN + (self.width - pdfmetrics.stringWidth(line, font, size)) / 2,
                                    self._y + size * 0.3)
            elif not placed:
                block.setTextOrigin(self.MARGIN, self._y + size * 0.3)
                placed = True
            block.textLine(line)
        self._canvas.drawText(block)
        self.space(gap_mm)

    def table(self, rows: Sequence[tuple[str, ...]], widths_mm: tuple[float, ...], *, header: bool = False,
              bold_first_column: bool = False, size: float = 9.5) -> None:
        """A ruled table; with ``header`` its first row is bold on grey. A row that does not fit on
        the page starts the next one."""
        leading = size * 1.35
        widths = [w * mm for w in widths_mm]
        scale = self.width / sum(widths)
        widths = [w * scale for w in widths]
        c = self._canvas
        for index, row in enumerate(rows):
            is_header = header and index == 0
            cells = []
            for col, value in enumerate(row):
                font = self._font(is_header or (bold_first_column and col == 0))
                cells.append((font, wrap(value, font, size, widths[col] - 2 * self.PAD)))
            height = max(len(lines) for _, lines in cells) * leading + 2 * self.PAD
            self._room(height)
            top, x = self._y, self.MARGIN
            if is_header:
                c.setFillGray(0.88)
                c.rect(x, top - height, self.width, height, stroke=0, fill=1)
                c.setFillGray(0)
            block, current = c.beginText(), ""
            for (font, lines), w in zip(cells, widths, strict=True):
                c.rect(x, top - height, w, height, stroke=1, fill=0)
                if font != current:
                    block.setFont(font, size, leading)
                    current = font
                block.setTextOrigin(x + self.PAD, top - self.PAD - size)
                for line in lines:
                    block.textLine(line)  # and down one leading (T*)
                x += w
            c.drawText(block)
            self._y = top - height

    def finish(self) -> bytes:
        self._canvas.showPage()
        self._canvas.save()
        return self._buffer.getvalue()
