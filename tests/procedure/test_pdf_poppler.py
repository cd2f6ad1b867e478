"""The licence and the refusal letter read by an independent PDF reader (poppler's ``pdftotext`` and
``pdffonts``, Debian's poppler-utils), not only by the Python library the other tests use: the
fonts embedded as subsets with their Unicode maps, the Kazakh and Russian text extracted as drawn,
also for a character outside the fonts' fixed first subset (procedure/pdf_font.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bench.documents import sample_letter, sample_licence
from procedure import documents
from procedure.models import LicenceView, RefusalLetterView


def _poppler(tool: str, pdf: Path, *args: str) -> str:
    assert shutil.which(tool), f"{tool} is missing (poppler-utils): run scripts/install-system-deps.sh"
    done = subprocess.run([tool, *args, str(pdf), "-"] if tool == "pdftotext" else [tool, str(pdf)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Syntax Error" not in done.stderr and "Error" not in done.stderr, done.stderr
    return done.stdout


def _fonts(pdf: Path) -> list[list[str]]:
    """pdffonts' rows: name, type, encoding, embedded, subset, unicode map, object, generation."""
    lines = _poppler("pdffonts", pdf).splitlines()[2:]
    return [line.split() for line in lines]


def _written(tmp_path: Path, name: str, pdf: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def test_the_licence_reads_in_poppler_with_its_kazakh_and_russian_text(tmp_path: Path) -> None:
    licence = sample_licence()
    assert isinstance(licence, LicenceView)
    pdf = _written(tmp_path, "licence.pdf", documents.render_licence_pdf(licence))
    text = " ".join(_poppler("pdftotext", pdf, "-layout").split())
    for expected in ("KZ00LAA00000123", "«Мәшһүр Жүсіп атындағы университет» ЖШС", "120240012345",
                     "KZ00LAA00000042", "Астана қаласы", "город Астана", "Жоғары білім (бакалавриат)",
                     "Высшее образование (бакалавриат)", "ЖАКУПОВ АСЕТ"):
        assert expected in text, expected
    fonts = _fonts(pdf)
    # each face a TrueType subset, embedded, with its Unicode map
    assert fonts and all(row[1] == "TrueType" and row[3:6] == ["yes", "yes", "yes"] for row in fonts), fonts
    assert {row[0].split("+", 1)[1] for row in fonts} == {"DejaVuSans-Cut", "DejaVuSans-Bold-Cut"}


def test_the_refusal_letter_reads_in_poppler(tmp_path: Path) -> None:
    letter = sample_letter()
    assert isinstance(letter, RefusalLetterView)
    pdf = _written(tmp_path, "letter.pdf", documents.render_refusal_letter_pdf(letter))
    text = " ".join(_poppler("pdftotext", pdf, "-raw").split())
    for expected in ("Құрметті ДАУКЕЕВ ГУМАРБЕК ЖУСУПБЕКОВИЧ!", "Уважаемый(-ая) ДАУКЕЕВ ГУМАРБЕК ЖУСУПБЕКОВИЧ!",
                     "БАС ТАРТЫЛДЫ", "ОТКАЗАНО", "Мәңгілік Ел даңғылы, 8", "пр. Мангилик Ел, 8"):
        assert expected in text, expected


def test_a_character_beyond_the_first_subset_is_embedded_and_extracted(tmp_path: Path) -> None:
    licence = sample_licence()
    assert isinstance(licence, LicenceView)
    rare = licence.model_copy(update={"special_conditions_ru": "Без ограничений ½ ∞ Ø"})
    pdf = _written(tmp_path, "rare.pdf", documents.render_licence_pdf(rare))
    text = " ".join(_poppler("pdftotext", pdf, "-layout").split())
    assert "Без ограничений ½ ∞ Ø" in text
    fonts = _fonts(pdf)
    assert len(fonts) > len(_fonts(_written(tmp_path, "plain.pdf", documents.render_licence_pdf(licence))))
    assert all(row[3:6] == ["yes", "yes", "yes"] for row in fonts), fonts
