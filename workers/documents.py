"""Licences and refusal letters written by flows run as tasks: the XML at once, the PDF by a task.

:class:`DeferredPdfArtefacts` is the procedure's :class:`~procedure.ports.Artefacts` port for the
workers: the signed XML (the document itself, exactly as signed) is written before the step ends,
and the PDF for people is a ``render_pdf`` task (:func:`render_pdf`), so the step does not wait
for fpdf2. The paths returned are where both will be (names as :mod:`procedure.artefacts` gives
them). When the queue does not take the task, the PDF is rendered here and now: it is never lost.

Rendering is idempotent: the file is written whole (a temporary file, then renamed), so a task run
twice writes the same bytes twice and a reader never sees half a PDF.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from adapters.elicense.models import SignedLicence, SignedRefusal
from procedure.artefacts import licence_view, refusal_view, render_licence_pdf, render_refusal_letter_pdf
from procedure.models import LicenceView, RefusalLetterView
from workers.errors import QueueUnavailable
from workers.queue import RENDER_PDF, TaskQueue

__all__ = ["DeferredPdfArtefacts", "PdfKind", "render_pdf"]

log = logging.getLogger("workers.documents")

PdfKind = Literal["licence", "refusal"]


def render_pdf(kind: str, view: Mapping[str, Any], path: str) -> None:
    """Render the ``kind`` document from its ``view`` (the JSON of its view model) to ``path``."""
    if kind == "licence":
        pdf = render_licence_pdf(LicenceView.model_validate(view), workers=0)
    elif kind == "refusal":
        pdf = render_refusal_letter_pdf(RefusalLetterView.model_validate(view), workers=0)
    else:
        raise ValueError(f"no PDF of kind {kind!r}")
    _write_whole(Path(path), pdf)


def _write_whole(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class DeferredPdfArtefacts:
    """Writes the signed XML to ``out_dir`` and queues the PDF's rendering on ``queue``."""

    def __init__(self, out_dir: Path, queue: TaskQueue) -> None:
        self.out_dir = Path(out_dir)
        self.queue = queue

    def write_licence(self, signed: SignedLicence, *, suffix: str = "") -> tuple[Path, Path]:
        stem = f"licence-{signed.licence.number}{suffix}"
        view = licence_view(signed.licence).model_dump(mode="json")
        return self._write(stem, signed.xml, "licence", view)

    def write_refusal(self, signed: SignedRefusal, qualification_rows: Sequence[Mapping[str, Any]], *,
                      recipient: str | None = None) -> tuple[Path, Path]:
        stem = f"refusal-{signed.letter.application_number}"
        view = refusal_view(signed.letter, qualification_rows, recipient=recipient).model_dump(mode="json")
        return self._write(stem, signed.xml, "refusal", view)

    def _write(self, stem: str, xml: bytes, kind: PdfKind, view: dict[str, Any]) -> tuple[Path, Path]:
        xml_path = (self.out_dir / f"{stem}.xml").resolve()
        pdf_path = (self.out_dir / f"{stem}.pdf").resolve()
        _write_whole(xml_path, xml)
        try:
            self.queue.send(RENDER_PDF, kind, view, str(pdf_path))
        except QueueUnavailable as exc:
            log.warning("PDF task not queued (%s): rendering %s here", exc, pdf_path.name)
            render_pdf(kind, view, str(pdf_path))
        return xml_path, pdf_path
