"""The READMEs' tables of latest figures, written from ``bench/results.json`` by the bench.

Two blocks, each between its markers, everything around them written by hand from these figures:

- ``bench/README.md`` (:data:`BEGIN` … :data:`END`): every figure of the results file, with its kind
  and the bench's note;
- the project's ``README.md`` (:data:`TARGETS_BEGIN` … :data:`TARGETS_END`): the figures that have a
  target, whether each is a ratio (holds on other machines) or absolute (this machine under its
  load), met or not, with the machine and each bench's date and load.

``python -m bench`` calls :func:`update_all` after a full (not ``--quick``) run; ``python -m bench.readme``
rewrites both blocks from the results file alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import Row

README = Path(__file__).resolve().parent / "README.md"
PROJECT_README = Path(__file__).resolve().parent.parent / "README.md"
RESULTS = Path(__file__).resolve().parent / "results.json"
BEGIN = "<!-- bench:results:begin (written by python -m bench from bench/results.json; do not edit) -->"
END = "<!-- bench:results:end -->"
TARGETS_BEGIN = "<!-- bench:targets:begin (written by python -m bench from bench/results.json; do not edit) -->"
TARGETS_END = "<!-- bench:targets:end -->"

KINDS: Mapping[str, str] = {
    "×": "ratio (same run)",
    "%": "share (same run)",
    "ms": "time per unit",
    "s": "wall time",
    "flows/s": "absolute rate",
    "req/s": "absolute rate",
    "MB": "size",
    "": "count",
}
"""What a figure's unit says about it: ratios and shares hold on other machines, the rest do not."""


class ReadmeError(Exception):
    """The README has no (or a broken) results block."""


RATIO_UNITS = frozenset({"×", "%"})
"""Units of the figures taken as a ratio or share of two measurements of the same run."""


def kind_of(row: Row) -> str:
    return KINDS.get(row.unit, "absolute")


def scale_of(row: Row) -> str:
    """``ratio`` (a ratio or share of the same run: it holds on other machines), ``count``, or
    ``absolute`` with its unit (a time, a rate, a size: this machine under its load only)."""
    if row.unit in RATIO_UNITS:
        return "ratio"
    if row.unit == "":
        return "count"
    return f"absolute ({row.unit})"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _where_and_when(result: Mapping[str, Any]) -> list[str]:
    """The machine, then each bench's date and load average: the lines above a table."""
    machine = result.get("machine", {})
    libraries = machine.get("libraries", {})
    libs = ", ".join(f"{name} {version}" for name, version in libraries.items() if version)
    dates: Mapping[str, str] = result.get("bench_dates", {})
    loads: Mapping[str, str] = result.get("bench_loads", {})
    return [
        f"Machine: {machine.get('cpu_model', '?')}, {machine.get('cores', '?')} cores "
        f"({machine.get('cores_usable', '?')} usable), {machine.get('os', '?')}, "
        f"{machine.get('python_implementation', 'Python')} {machine.get('python', '?')}; {libs}.",
        "",
        "Run of each bench (UTC) and the load average (1, 5, 15 min) when it started — other engineers share "
        "these cores: " + "; ".join(f"{b}: {dates[b]} (load {loads.get(b, '?')})" for b in sorted(dates)) + ".",
    ]


def _failures(result: Mapping[str, Any]) -> list[str]:
    if not result.get("failures"):
        return []
    return ["", "Failed benches: " + "; ".join(f"{k}: {v}" for k, v in result["failures"].items())]


def render(result: Mapping[str, Any]) -> str:
    """``bench/README.md``'s block: where and when, then one table row per figure, then the notes."""
    rows = [Row.model_validate(r) for r in result.get("rows", [])]
    lines = [
        *_where_and_when(result),
        "",
        "| | figure | value | kind | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r.bench} | {_cell(r.figure)} | {_cell(r.shown_value())} | {kind_of(r)} | "
                     f"{_cell(r.target)} | {r.shown_met()} |")
    notes = [r for r in rows if r.note]
    if notes:
        lines += ["", "<details><summary>What each figure is made of (the bench's notes)</summary>", ""]
        lines += [f"- **{r.bench}. {_cell(r.figure)}**: {_cell(r.note)}" for r in notes]
        lines += ["", "</details>"]
    return "\n".join(lines + _failures(result))


def render_targets(result: Mapping[str, Any]) -> str:
    """The project README's block: where and when, then the figures that have a target, each with
    its bench, its scale (ratio or absolute) and whether it is met."""
    rows = [r for r in (Row.model_validate(r) for r in result.get("rows", [])) if r.target]
    lines = [
        *_where_and_when(result),
        "",
        "Ratios are taken within one run and hold on other machines; absolute figures (times, rates) hold "
        "for this machine under the load shown only. What each figure includes, and for each target missed "
        "the measured reason and the next step: `bench/README.md`.",
        "",
        "| bench | figure | value | kind | target | met? |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r.bench} | {_cell(r.figure)} | {_cell(r.shown_value())} | {scale_of(r)} | {_cell(r.target)} | "
              f"{r.shown_met()} |" for r in rows]
    if not rows:
        lines.append("| | no figure with a target in the results file | | | | |")
    return "\n".join(lines + _failures(result))


def replace_block(text: str, block: str, begin: str = BEGIN, end: str = END) -> str:
    """``text`` with the part between the markers ``begin`` and ``end`` replaced by ``block``."""
    start = text.find(begin)
    stop = text.find(end)
    if start < 0 or stop < start:
        raise ReadmeError(f"the README has no results block ({begin!r} … {end!r})")
    return text[:start + len(begin)] + "\n" + block + "\n" + text[stop:]


def update(result: Mapping[str, Any], readme: Path = README) -> None:
    """Rewrite ``bench/README.md``'s block (every figure)."""
    readme.write_text(replace_block(readme.read_text(encoding="utf-8"), render(result)), encoding="utf-8")


def update_targets(result: Mapping[str, Any], readme: Path = PROJECT_README) -> None:
    """Rewrite the project README's block (the figures with a target)."""
    text = replace_block(readme.read_text(encoding="utf-8"), render_targets(result), TARGETS_BEGIN, TARGETS_END)
    readme.write_text(text, encoding="utf-8")


def update_all(result: Mapping[str, Any]) -> list[Path]:
    """Rewrite both READMEs' blocks; the files written."""
    update(result)
    update_targets(result)
    return [README, PROJECT_README]


def merge(previous: Mapping[str, Any] | None, current: dict[str, Any], benches: Sequence[str]) -> dict[str, Any]:
    """``current`` (a run of ``benches``) with the other benches' rows, dates and loads kept from
    ``previous``, so that a partial run (``--only``) updates only its own figures."""
    if not previous or previous.get("quick"):
        return current
    kept = [r for r in previous.get("rows", []) if r.get("bench") not in benches]
    merged = dict(current)
    merged["rows"] = sorted(kept + list(current["rows"]), key=lambda r: r.get("bench", ""))
    for key in ("bench_dates", "bench_loads", "durations_s"):
        merged[key] = {**{k: v for k, v in previous.get(key, {}).items() if k not in benches},
                       **current.get(key, {})}
    return merged


def main() -> int:
    for path in update_all(json.loads(RESULTS.read_text(encoding="utf-8"))):
        print(f"{path} updated from {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
