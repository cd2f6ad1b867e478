"""The README's results block is written from the results file by the bench (never by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import Row
from bench.readme import (
    BEGIN,
    END,
    PROJECT_README,
    RESULTS,
    TARGETS_BEGIN,
    TARGETS_END,
    ReadmeError,
    kind_of,
    merge,
    render,
    render_targets,
    replace_block,
    scale_of,
    update,
    update_targets,
)


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


def test_the_project_readme_block_holds_the_figures_with_targets_regenerated_from_a_results_file(
        tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# egov\n\n## Benchmarks\n\nprose\n\n{TARGETS_BEGIN}\n"
                      "| a | production call / floor | 1.00 × (edited by hand) | ratio | ≤ 3× | yes |\n"
                      f"{TARGETS_END}\n\n## Command line\n")
    result = _result([Row(bench="a", figure="production call / floor", value=5.3, unit="×", target="≤ 3×", met=False),
                      Row(bench="a", figure="bare path / floor", value=2.38, unit="×"),
                      Row(bench="b", figure="flows per second", value=5.78, unit="flows/s", target="≥ 50/s",
                          met=False),
                      Row(bench="b", figure="flow errors", value=0.0, target="0", met=True)], "a", "2026-12-04 03:00")
    results = tmp_path / "results.json"
    results.write_text(json.dumps(result))
    update_targets(json.loads(results.read_text()), readme)
    text = readme.read_text()
    assert "edited by hand" not in text and text.count(TARGETS_BEGIN) == 1
    assert text.startswith("# egov\n\n## Benchmarks\n\nprose\n\n") and text.endswith("\n\n## Command line\n")
    assert "AMD EPYC, 2 cores" in text and "a: 2026-12-04 03:00 (load 3.10 2.00 1.50)" in text
    assert "| a | production call / floor | 5.30 × | ratio | ≤ 3× | NO |" in text
    assert "| b | flows per second | 5.78 flows/s | absolute (flows/s) | ≥ 50/s | NO |" in text
    assert "| b | flow errors | 0 | count | 0 | yes |" in text
    assert "bare path" not in text  # no target: only in bench/README.md's full table
    block = text[text.index(TARGETS_BEGIN):text.index(TARGETS_END)]
    edited = text.replace(block, block.replace("5.30 ×", "2.00 ×").replace("| NO |", "| yes |"))
    readme.write_text(edited)
    update_targets(json.loads(results.read_text()), readme)  # a hand edit inside the block is replaced
    assert readme.read_text() == text
    with pytest.raises(ReadmeError, match="bench:targets:begin"):
        update_targets(result, tmp_path / "results.json")  # a file without the block is refused, not appended to


def test_each_figure_is_named_a_ratio_or_absolute() -> None:
    assert scale_of(Row(bench="a", figure="x", value=1.0, unit="×")) == "ratio"
    assert scale_of(Row(bench="b", figure="x", value=1.0, unit="%")) == "ratio"
    assert scale_of(Row(bench="b", figure="x", value=1.0, unit="ms")) == "absolute (ms)"
    assert scale_of(Row(bench="e", figure="x", value=1.0, unit="req/s")) == "absolute (req/s)"
    assert scale_of(Row(bench="b", figure="x", value=1.0)) == "count"
    failed = render_targets({"rows": [], "failures": {"f": "RuntimeError: no redis"}})
    assert "no figure with a target" in failed and "Failed benches: f: RuntimeError: no redis" in failed


def test_the_committed_readmes_hold_the_blocks_of_the_committed_results() -> None:
    """Both blocks are what the bench writes from bench/results.json (after a merge of that file:
    ``python -m bench.readme``)."""
    result = json.loads(RESULTS.read_text(encoding="utf-8"))
    project = PROJECT_README.read_text(encoding="utf-8")
    stale = "stale: run python -m bench.readme"
    assert replace_block(project, render_targets(result), TARGETS_BEGIN, TARGETS_END) == project, stale
    bench_readme = RESULTS.with_name("README.md").read_text(encoding="utf-8")
    assert replace_block(bench_readme, render(result)) == bench_readme, stale
