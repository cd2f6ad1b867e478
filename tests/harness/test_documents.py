"""What an applicant brings: complete documents meet the rules, incomplete ones are the sample
refusal letter's two faults; the scans are files the request names."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.documents import application_documents, scan, write_scans
from procedure.models import Operation, Service
from procedure.qualification import evaluate


@pytest.mark.parametrize("service", list(Service))
@pytest.mark.parametrize("operation", list(Operation))
def test_complete_documents_meet_every_rule(service: Service, operation: Operation) -> None:
    result = evaluate(application_documents(service, operation))
    assert result.met and result.missing == [] and result.checked


def test_incomplete_documents_are_the_sample_letters_two_faults() -> None:
    documents = application_documents(Service.HIGHER_POSTGRADUATE, Operation.ISSUE, complete=False)
    assert documents.document("licence_fee_payment") is None
    form = documents.document("application")
    assert form is not None and form.attributes["form"] == "restore-licence-data"
    result = evaluate(documents)
    assert not result.met
    assert [m.name_en for m in result.missing] == ["Application of the prescribed form",
                                                    "Payment document for the licence fee"]


def test_scans_are_written_once_per_document_and_named_by_code(tmp_path: Path) -> None:
    documents = application_documents(Service.SCHOOL, Operation.ISSUE)
    files = write_scans(documents, "940140000385", tmp_path / "scans")
    assert [f.name for f in files] == [f"{d.code}.pdf" for d in documents.documents]
    for f, d in zip(files, documents.documents, strict=True):
        assert Path(f.path).read_bytes() == scan(d.code, "940140000385")
    before = {f.path: Path(f.path).stat().st_mtime_ns for f in files}
    assert write_scans(documents, "940140000385", tmp_path / "scans") == files
    assert {f.path: Path(f.path).stat().st_mtime_ns for f in files} == before  # the same bytes: not rewritten
    assert sorted(p.name for p in (tmp_path / "scans").iterdir()) == sorted(f.name for f in files)
