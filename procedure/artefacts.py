"""What a flow leaves for people: the signed licence (XML, exactly as signed) and its PDF, the
signed refusal letter and its PDF, and the run's summary (JSON).

The PDFs are rendered in the calling thread, or, with ``EGOV_PDF_WORKERS`` > 0, in a pool of
worker processes (:mod:`procedure.pdf_worker`); either way the file is written before
``write_licence`` / ``write_refusal`` return, with the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from adapters.core.errors import ConfigurationError, EgovError
from adapters.elicense.models import Licence, RefusalLetter, SignedLicence, SignedRefusal
from procedure import documents, pdf_worker
from procedure.models import (
    AppendixView,
    LicenceView,
    MissingDocument,
    RefusalLetterView,
    SubType,
)


def _activity(name: str, code: str) -> str:
    return f"{name} ({code})" if code and code not in name else name


def licence_view(licence: Licence) -> LicenceView:
    """The licence's fields as the PDF shows them (Kazakh and Russian), all read from its signed XML."""
    act = licence.activity_type
    special = licence.special_conditions if licence.special_conditions != "none" else ""
    return LicenceView(
        number=licence.number, licensee_name=licence.licensee.name, licensee_bin=licence.licensee.iin_bin,
        activity_type_kk=_activity(act.name_kz, act.code), activity_type_ru=_activity(act.name_ru, act.code),
        activity_type_en=_activity(act.name_en or act.name_ru, act.code),
        special_conditions_ru=special,
        issuing_body_kk=licence.issuing_body.name_kz, issuing_body_ru=licence.issuing_body.name_ru,
        head_name=licence.head.full_name, issue_date=licence.issue_date,
        issue_place_kk=licence.issue_place.kz, issue_place_ru=licence.issue_place.ru,
        kind=licence.kind, mark_kk=licence.mark.kz if licence.mark else "",
        mark_ru=licence.mark.ru if licence.mark else "",
        previous_number=licence.previous_licence_number or "", duplicate_date=licence.duplicate_date,
        appendices=[AppendixView(number=str(a.number), licence_number=a.licence_number, issue_date=a.issue_date,
                                 subtypes=[SubType(code=st.code, name_kk=st.name_kz, name_ru=st.name_ru)
                                           for st in a.sub_types])
                    for a in licence.appendices])


def _workers(workers: int | None) -> int:
    return pdf_worker.configured_workers() if workers is None else workers


def _in_thread(render: Callable[[], bytes], document: str) -> bytes:
    """Render in this thread; a failure that is not already typed (reportlab's, a font file's) is
    reported as the worker pool reports it."""
    try:
        return render()
    except EgovError:
        raise
    except Exception as exc:
        raise ConfigurationError(f"rendering the PDF of {document} failed: {type(exc).__name__}: {exc}",
                                 document=document, reason=type(exc).__name__) from exc


def render_licence_pdf(view: LicenceView, *, font_dir: Path | None = None, workers: int | None = None) -> bytes:
    """The licence's PDF, in this thread or in the worker pool (``workers``: default the setting)."""
    n = _workers(workers)
    document = f"licence {view.number}"
    if n == 0:
        return _in_thread(lambda: documents.render_licence_pdf(view, font_dir=font_dir), document)
    return pdf_worker.render("licence", view.model_dump(), workers=n, document=document, font_dir=font_dir)


def render_refusal_letter_pdf(view: RefusalLetterView, *, font_dir: Path | None = None,
                              workers: int | None = None) -> bytes:
    """The refusal letter's PDF, in this thread or in the worker pool (``workers``: default the setting)."""
    n = _workers(workers)
    document = f"refusal letter of application {view.application_number}"
    if n == 0:
        return _in_thread(lambda: documents.render_refusal_letter_pdf(view, font_dir=font_dir), document)
    return pdf_worker.render("refusal", view.model_dump(), workers=n, document=document, font_dir=font_dir)


def write_licence(out_dir: Path, signed: SignedLicence, *, suffix: str = "",
                  pdf_workers: int | None = None) -> tuple[Path, Path]:
    """``licence-<number><suffix>.xml`` (the signed bytes, untouched) and ``.pdf``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"licence-{signed.licence.number}{suffix}"
    xml_path = out_dir / f"{stem}.xml"
    xml_path.write_bytes(signed.xml)
    pdf_path = out_dir / f"{stem}.pdf"
    pdf_path.write_bytes(render_licence_pdf(licence_view(signed.licence), workers=pdf_workers))
    return xml_path, pdf_path


def _rows(letter: RefusalLetter, qualification_rows: Sequence[Mapping[str, Any]]) -> list[MissingDocument]:
    """The letter's table as signed (Russian, and Kazakh when the letter carries it); the English of
    the qualification check's rows, when they are the ones the letter lists, for logs."""
    english = {r.get("name_ru"): r for r in qualification_rows}
    rows = []
    for m in letter.missing_documents:
        check = english.get(m.document, {})
        rows.append(MissingDocument(
            rule_id=str(check.get("rule_id", "")), name_kk=m.document_kz or m.document, name_ru=m.document,
            name_en=str(check.get("name_en", m.document)), comment=str(check.get("comment", m.comment)),
            comment_kk=m.comment_kz or "", comment_ru=m.comment))
    return rows


def refusal_view(letter: RefusalLetter, qualification_rows: Sequence[Mapping[str, Any]], *,
                 recipient: str | None = None) -> RefusalLetterView:
    """The refusal letter's fields as the PDF shows them, read from its signed XML (``recipient``:
    another addressee's name, shown instead of the letter's)."""
    to = recipient or letter.addressee.full_name
    return RefusalLetterView(
        letter_date=letter.date, state_body_kk=letter.state_body.name_kz, state_body_ru=letter.state_body.name_ru,
        state_body_address_kk=letter.state_body_address.kz, state_body_address_ru=letter.state_body_address.ru,
        recipient_name=to, recipient_organisation=letter.addressee.organisation,
        recipient_address=letter.addressee.address, application_number=letter.application_number,
        sent_date=letter.sent_on.date(),
        salutation_kk=letter.salutation.kz if recipient is None else f"Құрметті {to}!",
        salutation_ru=letter.salutation.ru if recipient is None else f"Уважаемый(-ая) {to}!",
        text_kk=letter.text.kz, text_ru=letter.text.ru,
        missing=_rows(letter, qualification_rows), signer_name=letter.head.full_name)


def write_refusal(out_dir: Path, signed: SignedRefusal, qualification_rows: Sequence[Mapping[str, Any]], *,
                  recipient: str | None = None, pdf_workers: int | None = None) -> tuple[Path, Path]:
    """``refusal-<application number>.xml`` (signed letter) and ``.pdf``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"refusal-{signed.letter.application_number}"
    xml_path = out_dir / f"{stem}.xml"
    xml_path.write_bytes(signed.xml)
    pdf_path = out_dir / f"{stem}.pdf"
    pdf_path.write_bytes(render_refusal_letter_pdf(refusal_view(signed.letter, qualification_rows,
                                                                recipient=recipient), workers=pdf_workers))
    return xml_path, pdf_path


class ArtefactDirectory:
    """The :class:`~procedure.ports.Artefacts` port over a directory: licences and refusal letters
    written by :func:`write_licence` and :func:`write_refusal`."""

    def __init__(self, out_dir: Path, *, pdf_workers: int | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.pdf_workers = pdf_workers

    def write_licence(self, signed: SignedLicence, *, suffix: str = "") -> tuple[Path, Path]:
        return write_licence(self.out_dir, signed, suffix=suffix, pdf_workers=self.pdf_workers)

    def write_refusal(self, signed: SignedRefusal, qualification_rows: Sequence[Mapping[str, Any]], *,
                      recipient: str | None = None) -> tuple[Path, Path]:
        return write_refusal(self.out_dir, signed, qualification_rows, recipient=recipient,
                             pdf_workers=self.pdf_workers)


def write_summary(out_dir: Path, runs: Sequence[Mapping[str, Any]], *,
                  survey: Mapping[str, Any] | None = None) -> Path:
    """``summary.json``: one entry per run (what the demo's table shows, and more), and the
    survey's indicators per service and per licensor when given."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "summary.json"
    ok = all(r.get("as_expected", True) for r in runs)
    body: dict[str, Any] = {"runs": list(runs), "all_as_expected": ok}
    if survey is not None:
        body["survey_indicators"] = dict(survey)
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
