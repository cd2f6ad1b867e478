"""``python -m bench`` (``make bench``): run every bench, print one table, write bench/results.json.

Options: ``--quick`` (tiny iteration counts: checks that the benches run, figures meaningless),
``--only a,d`` (a subset: the other benches' figures are kept from the results file), ``--out PATH``
(where to write the JSON; default bench/results.json). A full-size run writing the default results
file also rewrites the table blocks of bench/README.md and README.md (:mod:`bench.readme`); ``--no-readme``
leaves them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import BenchKeys, Row, load_average, make_keys, print_rows, readme

RESULTS = Path(__file__).resolve().parent / "results.json"
LIBRARIES = ("lxml", "xmlsec", "zeep", "cryptography", "signxml", "requests", "pydantic", "sqlalchemy")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    try:
        import lxml.etree as le
        import xmlsec

        versions["libxml2 (lxml)"] = ".".join(map(str, le.LIBXML_VERSION))
        versions["libxmlsec1"] = ".".join(map(str, getattr(xmlsec, "get_libxmlsec_version")()))  # noqa: B009 (not in the stubs)
    except Exception:  # informative only
        pass
    try:
        cores_usable = len(os.sched_getaffinity(0))
    except AttributeError:
        cores_usable = os.cpu_count() or 0
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": cores_usable,
        "machine": platform.machine(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "libraries": versions,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def benches(keys: BenchKeys, quick: bool) -> dict[str, Callable[[], list[Row]]]:
    from bench import attachments, flows, gateway_load, service_load, signed_call, startup

    return {
        "a": lambda: signed_call.run(quick=quick, keys=keys),
        "b": lambda: flows.run(quick=quick),
        "c": lambda: attachments.run(quick=quick, keys=keys),
        "d": lambda: startup.run(quick=quick, keys=keys),
        "e": lambda: gateway_load.run(quick=quick, keys=keys),
        "f": lambda: service_load.run(quick=quick),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny iteration counts (smoke run)")
    parser.add_argument("--only", default="", help="comma-separated subset of a,b,c,d,e,f")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument("--no-readme", action="store_true", help="leave the tables of bench/README.md and README.md")
    args = parser.parse_args(argv)

    keys = make_keys()
    selected = [s.strip() for s in args.only.split(",") if s.strip()] or ["a", "b", "c", "d", "e", "f"]
    rows: list[Row] = []
    durations: dict[str, float] = {}
    failures: dict[str, str] = {}
    dates: dict[str, str] = {}
    loads: dict[str, str] = {}
    for name, fn in benches(keys, args.quick).items():
        if name not in selected:
            continue
        print(f"running bench {name} ...", file=sys.stderr, flush=True)
        dates[name] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
        loads[name] = load_average()
        started = time.perf_counter()
        try:
            rows.extend(fn())
        except Exception as exc:  # one broken bench must not hide the others' figures
            failures[name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc(file=sys.stderr)
            rows.append(Row(bench=name, figure=f"bench {name} failed", value=None,
                            note=f"{type(exc).__name__}: {exc}"[:300]))
        durations[name] = round(time.perf_counter() - started, 2)

    info = machine_info()
    print()
    print(f"egov-adapters benchmarks — {info['cpu_model']}, {info['cores']} cores, Python {info['python']}, "
          f"{info['date']}{' (QUICK: figures meaningless)' if args.quick else ''}")
    print()
    print_rows(rows)
    result: dict[str, Any] = {"machine": info, "quick": args.quick, "durations_s": durations, "failures": failures,
                              "bench_dates": dates, "bench_loads": loads, "rows": [r.model_dump() for r in rows]}
    if not args.quick and args.out.exists():
        try:
            previous = json.loads(args.out.read_text(encoding="utf-8"))
        except ValueError:
            previous = None
        result = readme.merge(previous, result, list(dates))
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten to {args.out}", file=sys.stderr)
    if not args.quick and not args.no_readme and args.out.resolve() == RESULTS:
        for path in readme.update_all(result):
            print(f"table of {path} rewritten", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
