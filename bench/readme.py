"""The README's table of latest figures, written from ``bench/results.json`` by the bench.

``python -m bench`` calls :func:`update` after a full (not ``--quick``) run; ``python -m bench.readme``
rewrites the block from the results file alone. Only the text between :data:`BEGIN` and :data:`END`
in ``bench/README.md`` is replaced; the prose around it is written by hand from these figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import Row

README = Path(__file__).resolve().parent / "README.md"
RESULTS = Path(__file__).resolve().parent / "results.json"
BEGIN = "<!-- bench:results:begin (written by python -m bench from bench/results.json; do not edit) -->"
END = "<!-- bench:results:end -->"

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


def kind_of(row: Row) -> str:
    return KINDS.get(row.unit, "absolute")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(result: Mapping[str, Any]) -> str:
    """The block's Markdown: where and when, then one table row per figure, then the notes."""
    machine = result.get("machine", {})
    libraries = machine.get("libraries", {})
    libs = ", ".join(f"{name} {version}" for name, version in libraries.items() if version)
    rows = [Row.model_validate(r) for r in result.get("rows", [])]
    dates: Mapping[str, str] = result.get("bench_dates", {})
    loads: Mapping[str, str] = result.get("bench_loads", {})
    lines = [
        f"Machine: {machine.get('cpu_model', '?')}, {machine.get('cores', '?')} cores "
        f"({machine.get('cores_usable', '?')} usable), {machine.get('os', '?')}, "
        f"{machine.get('python_implementation', 'Python')} {machine.get('python', '?')}; {libs}.",
        "",
        "Run of each bench (UTC) and the load average (1, 5, 15 min) when it started — other engineers share "
        "these cores: " + "; ".join(f"{b}: {dates[b]} (load {loads.get(b, '?')})" for b in sorted(dates)) + ".",
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
    if result.get("failures"):
        lines += ["", "Failed benches: " + "; ".join(f"{k}: {v}" for k, v in result["failures"].items())]
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    """``text`` with the part between the markers replaced by ``block``."""
    start = text.find(BEGIN)
    end = text.find(END)
    if start < 0 or end < start:
        raise ReadmeError(f"the README has no results block ({BEGIN!r} … {END!r})")
    return text[:start + len(BEGIN)] + "\n" + block + "\n" + text[end:]


def update(result: Mapping[str, Any], readme: Path = README) -> None:
    readme.write_text(replace_block(readme.read_text(encoding="utf-8"), render(result)), encoding="utf-8")


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
    update(json.loads(RESULTS.read_text(encoding="utf-8")))
    print(f"{README} updated from {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
