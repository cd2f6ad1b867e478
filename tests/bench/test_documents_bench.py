"""The document-cost figures of bench b: one row per document kind, measured on real PDFs."""

from __future__ import annotations

from bench import documents


def test_document_rows_are_measured_against_the_target() -> None:
    rows = documents.run(quick=True)
    assert [r.figure for r in rows] == ["CPU per licence PDF (re-issue, two appendices)",
                                        "CPU per refusal-letter PDF (the sample's eight rows)"]
    for row in rows:
        assert row.bench == "b" and row.unit == "ms" and row.target == "≤ 10 ms"
        assert row.value is not None and row.value > 0
        assert row.met == (row.value <= documents.TARGET_MS)
        assert "KiB" in row.note
