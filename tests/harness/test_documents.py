"""What an applicant brings: complete documents meet the rules, incomplete ones are the sample
refusal letter's faults with a staff share below its threshold; the scans are files the request names."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.documents import application_documents, scan, write_scans
from procedure.models import Operation, Service
from procedure.qualification import default_rules, evaluate


@pytest.mark.parametrize("service", list(Service))
@pytest.mark.parametrize("operation", list(Operation))
def test_complete_documents_meet_every_rule(service: Service, operation: Operation) -> None:
    result = evaluate(application_documents(service, operation))
    assert result.met and result.missing == [] and result.checked


def test_incomplete_documents_are_the_sample_letters_faults_and_a_low_staff_share() -> None:
    documents = application_documents(Service.HIGHER_POSTGRADUATE, Operation.ISSUE, complete=False)
    assert documents.document("licence_fee_payment") is None
    form = documents.document("application")
    assert form is not None and form.attributes["form"] == "restore-licence-data"
    result = evaluate(documents)
    assert not result.met
    assert [m.name_en for m in result.missing] == [
        "Application of the prescribed form", "Payment document for the licence fee",
        "Share of teaching staff with academic degrees of at least 50 % by speciality"]


@pytest.mark.parametrize("service", list(Service))
def test_declared_values_vary_and_give_both_outcomes_for_every_service(service: Service) -> None:
    rules = default_rules()
    [staff] = [r for r in rules.rules_for(service, Operation.ISSUE) if r.fact is not None]
    assert staff.fact is not None and staff.at_least is not None
    passing = {application_documents(service, Operation.ISSUE, variant=v).facts[staff.fact] for v in range(5)}
    failing = {application_documents(service, Operation.ISSUE, complete=False, variant=v).facts[staff.fact]
               for v in range(4)}
    assert len(passing) == 5 and len(failing) == 4
    assert all(v >= staff.at_least for v in passing) and all(v < staff.at_least for v in failing)
    for v in range(5):
        assert evaluate(application_documents(service, Operation.ISSUE, variant=v)).met
        missing = evaluate(application_documents(service, Operation.ISSUE, complete=False, variant=v)).missing
        assert staff.id in [m.rule_id for m in missing]


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
