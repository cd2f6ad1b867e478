"""The README's results block is written from the results file by the bench (never by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import Row
from bench.readme import BEGIN, END, ReadmeError, kind_of, merge, render, replace_block, update


def _result(rows: list[Row], bench: str, date: str, *, quick: bool = False) -> dict[str, object]:
    return {"machine": {"cpu_model": "AMD EPYC", "cores": 2, "cores_usable": 2, "os": "Linux", "python": "3.11.7",
                        "libraries": {"lxml": "6.1.3", "signxml": None}},
            "quick": quick, "failures": {}, "bench_dates": {bench: date}, "bench_loads": {bench: "3.10 2.00 1.50"},
            "durations_s": {bench: 1.0}, "rows": [r.model_dump() for r in rows]}


def test_the_block_says_where_when_and_which_figures_are_ratios(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Benchmarks\n\nprose before\n\n{BEGIN}\nstale table\n{END}\n\nprose after\n")
    rows = [Row(bench="a", figure="production call / floor", value=3.4, unit="×", target="≤ 3×", met=False,
                note="7.1 ms | CPU"),
            Row(bench="b", figure="client CPU per flow", value=41.0, unit="ms", target="≤ 20 ms", met=False),
            Row(bench="b", figure="per flow: HTTP requests", value=20.5)]
    update(_result(rows, "a", "2026-12-03 23:40"), readme)
    text = readme.read_text()
    assert "stale table" not in text and text.startswith("# Benchmarks\n\nprose before") and "prose after" in text
    assert "AMD EPYC, 2 cores" in text and "lxml 6.1.3" in text and "signxml" not in text
    assert "a: 2026-12-03 23:40 (load 3.10 2.00 1.50)" in text
    assert "| a | production call / floor | 3.40 × | ratio (same run) | ≤ 3× | NO |" in text
    assert "| b | client CPU per flow | 41.00 ms | time per unit | ≤ 20 ms | NO |" in text
    assert "| b | per flow: HTTP requests | 20.50 | count |  | - |" in text
    assert "7.1 ms \\| CPU" in text  # a note cannot break the table
    update(_result(rows[:1], "a", "2026-12-04 00:10"), readme)  # written again: one block, replaced
    again = readme.read_text()
    assert again.count(BEGIN) == 1 and "2026-12-04 00:10" in again and "client CPU per flow" not in again


def test_a_readme_without_the_markers_is_refused() -> None:
    with pytest.raises(ReadmeError, match="no results block"):
        replace_block("# Benchmarks\n", "table")


def test_a_partial_run_keeps_the_other_benches_figures() -> None:
    old = _result([Row(bench="a", figure="old a", value=1.0, unit="×"),
                   Row(bench="b", figure="old b", value=2.0, unit="ms")], "a", "2026-12-03 21:00")
    old["bench_dates"] = {"a": "2026-12-03 21:00", "b": "2026-12-03 21:05"}
    new = _result([Row(bench="b", figure="new b", value=3.0, unit="ms")], "b", "2026-12-03 23:00")
    merged = merge(old, new, ["b"])
    assert [r["figure"] for r in merged["rows"]] == ["old a", "new b"]  # type: ignore[index]
    assert merged["bench_dates"] == {"a": "2026-12-03 21:00", "b": "2026-12-03 23:00"}
    assert merge(dict(old, quick=True), new, ["b"]) is new  # a quick run's figures are never kept
    assert kind_of(Row(bench="b", figure="rate", value=1.0, unit="flows/s")) == "absolute rate"
    assert "| b | new b |" in render(merged)
