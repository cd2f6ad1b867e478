"""Fonts cut to the characters documents use, built once and kept in a cache directory.

Parsing a TrueType font and subsetting it for a document cost in proportion to the font's glyph
count and size. DejaVu Sans has ≈ 6 000 glyphs; the licence and the refusal letter need Latin,
Cyrillic (with the Kazakh letters ә ғ қ ң ө ұ ү һ і) and punctuation. :func:`subset_font_dir` cuts
each font to :data:`UNICODE_RANGES` (≈ 1 100 glyphs; metrics and layout kept, screen hinting
dropped: a third of the bytes each document embeds) with fontTools, once per font file, and
returns the directory of the cut files.

The name table keeps every record but the licence's full text (name ID 13, ≈ 14 KiB of DejaVu's
15 KiB): reportlab copies the name table into every document's embedded subset, so that text was
half of each embedded face's bytes and of the time spent compressing it. The copyright (ID 0) and
the licence's address (ID 14, the DejaVu licence page) stay in every embedded copy. The cut's
PostScript name is the full font's with :data:`PS_NAME_SUFFIX` (a different font, a different name).

Why this is safe: the cut keeps each glyph's outline and advance width and the font's header
unchanged (no bounding-box recalculation), so a document drawn from the cut files has the same
text at the same places (the same page content) as one drawn from the full files
(``tests/procedure/test_fontcache.py`` checks it). A document with a character the full font has
but the cut one lacks is not drawn from the cut files: :func:`subset_font_dir` answers ``None``
and the caller uses the full fonts.

Where: ``$XDG_CACHE_HOME/egov-adapters/fonts/<key>/`` (default ``~/.cache/...``), ``<key>`` a
SHA-256 over the source files' bytes, the ranges and :data:`CUT_VERSION`, so a changed font or a
changed range never reuses an old cut. Files are written to a temporary name and renamed (an
interrupted build leaves no half file). If that directory cannot be written, a private temporary
directory of the process is used instead.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset as ftsubset
from fontTools import ttLib

__all__ = ["COMMON_CODEC", "CUT_VERSION", "NAME_IDS", "PS_NAME_SUFFIX", "UNICODE_RANGES", "FontCut", "cache_root",
           "cut_fonts", "subset_font_dir"]

CUT_VERSION = 3
"""Bump when the way fonts are cut changes (new cache key)."""

UNICODE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1 Supplement, Latin Extended-A and -B
    (0x0400, 0x052F),  # Cyrillic (Kazakh: Ә Ғ Қ Ң Ө Ұ Ү Һ І) and Cyrillic Supplement
    (0x2000, 0x206F),  # General Punctuation (dashes, quotes, ellipsis)
    (0x20A0, 0x20BF),  # Currency Symbols (₸)
    (0x2100, 0x214F),  # Letterlike Symbols (№)
    (0x2212, 0x2212),  # minus sign
)
"""Code points kept in the cut fonts (inclusive ranges)."""

NAME_IDS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 17)
"""Name records kept: names, copyright, trademark, vendor, designer, the licence's address; not the
licence's full text (ID 13), which reportlab would embed in every document twice."""

PS_NAME_SUFFIX = "-Cut"
"""Added to a cut font's PostScript name (ID 6). reportlab keeps one face per PostScript name in a
process: without it, the full fonts registered after the cut ones (a document with a character the
cut lacks) would silently be drawn with the cut glyphs, the missing characters dropped."""

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_cuts: dict[tuple[tuple[str, int, int], ...], FontCut | None] = {}


COMMON_CODEC = "kz1048"
"""The standard single-byte codec of Kazakh (ASCII, Kazakh and Russian Cyrillic, the usual
punctuation): a document's text that it encodes is checked against the cut in one C call (a
letter's 3 500 characters: ≈ 0.03 ms, against ≈ 0.2 ms looking each one up in :attr:`FontCut.lacking`)."""


def _codec_chars(codec: str) -> frozenset[str]:
    chars = set()
    for byte in range(256):
        try:
            chars.add(bytes([byte]).decode(codec))
        except UnicodeDecodeError:  # a byte the code page leaves undefined
            continue
    return frozenset(chars)


@dataclass(frozen=True)
class FontCut:
    """Cut copies of some font files (same file names) and what they lack."""

    directory: Path
    lacking: frozenset[str]
    """Characters one of the full fonts has and its cut copy does not."""

    @functools.cached_property
    def _codec_covered(self) -> bool:
        """Whether the cut has every character :data:`COMMON_CODEC` encodes that the full fonts
        have (true of :data:`UNICODE_RANGES`)."""
        return self.lacking.isdisjoint(_codec_chars(COMMON_CODEC))

    def covers(self, text: str) -> bool:
        if self._codec_covered:
            try:
                text.encode(COMMON_CODEC)
                return True
            except UnicodeEncodeError:
                pass
        return self.lacking.isdisjoint(text)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "egov-adapters" / "fonts"


def _unicodes() -> list[int]:
    return [cp for low, high in UNICODE_RANGES for cp in range(low, high + 1)]


def _key(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256(f"v{CUT_VERSION} {UNICODE_RANGES} {NAME_IDS} {PS_NAME_SUFFIX}".encode())
    for path in paths:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:24]


def _cut_one(source: Path, target: Path) -> None:
    # recalcBBoxes=False: the cut keeps the full font's head table (FontBBox in the PDF) as it is.
    font = ttLib.TTFont(source, recalcTimestamp=False, recalcBBoxes=False)
    options = ftsubset.Options()
    options.layout_features = ["*"]
    options.name_IDs = list(NAME_IDS)
    options.name_languages = ["*"]
    options.name_legacy = True
    options.glyph_names = True
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.hinting = False  # screen hinting: a third of the bytes, and PDF viewers do without it
    options.drop_tables += ["FFTM"]  # FontForge's timestamp
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=_unicodes())
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID == 6:
            record.string = record.toUnicode() + PS_NAME_SUFFIX
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            font.save(out)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _chars(path: Path) -> set[str]:
    font = ttLib.TTFont(path, lazy=True)
    try:
        return {chr(cp) for cp in font.getBestCmap() or {}}
    finally:
        font.close()


def _private_dir() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="egov-fonts-"))
    atexit.register(shutil.rmtree, directory, True)
    return directory


def cut_fonts(paths: Sequence[Path], root: Path | None = None) -> FontCut:
    """Cut ``paths`` (or reuse an earlier cut of the same files) under ``root``."""
    key = _key(paths)
    try:
        directory = (root or cache_root()) / key
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _log.warning("font cache %s not writable (%s): cutting fonts into a private directory",
                     root or cache_root(), exc)
        directory = _private_dir() / key
        directory.mkdir()
    lacking: set[str] = set()
    for path in paths:
        target = directory / path.name
        if not target.is_file():
            _cut_one(path, target)
        lacking |= _chars(path) - _chars(target)
    return FontCut(directory, frozenset(lacking))


def subset_font_dir(paths: Sequence[Path], text: str) -> Path | None:
    """The directory of the cut copies of ``paths`` if they can render ``text`` exactly as the
    full fonts would, else ``None`` (also when cutting failed: the full fonts still work)."""
    ident = tuple((str(p), (st := p.stat()).st_size, st.st_mtime_ns) for p in paths)
    with _lock:
        if ident not in _cuts:
            try:
                _cuts[ident] = cut_fonts(paths)
            except Exception as exc:  # a font fontTools cannot cut is still a font reportlab may use
                _log.warning("cannot cut fonts %s (%s: %s): using the full fonts",
                             [str(p) for p in paths], type(exc).__name__, exc)
                _cuts[ident] = None
        cut = _cuts[ident]
    if cut is None or not cut.covers(text):
        return None
    return cut.directory
