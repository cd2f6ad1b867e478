"""docs/regulation-conformance.md names, for each point of the regulation, the test that checks it: every test
it names exists (a renamed or deleted test fails here, not silently in the table)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_test_named_in_the_conformance_table_exists() -> None:
    text = (ROOT / "docs" / "regulation-conformance.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text)
    assert len(named) >= 20
    for path, test in named:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {test}\(", source, re.MULTILINE), f"{path}::{test}"
    assert text.count("| **A**") >= 7  # the assumption rows are marked
