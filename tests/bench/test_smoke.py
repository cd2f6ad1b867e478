"""Smoke tests of the benchmarks: they run (tiny iteration counts) and produce a well-formed table.

No figure is asserted: timings depend on the machine; the benches print them, tests never time.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench import Row, percentile, print_rows
from bench.__main__ import main as bench_main
from bench.flows import COUNTED
from bench.payloads import application_data
from bench.signed_call import (
    MESSAGE_ID,
    our_call,
    our_client,
    signed_reply,
    zeep_call,
    zeep_way,
)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(list(reversed(values)), 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_row_display(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [Row(bench="a", figure="ratio", value=2.5, unit="×", target="≤ 3×", met=True),
            Row(bench="e", figure="errors", value=0.0, target="0", met=True),
            Row(bench="b", figure="flows", value=None, note="not measured yet: needs the runner")]
    assert rows[0].shown_value() == "2.50 ×"
    assert rows[1].shown_value() == "0"
    assert rows[2].shown_value() == "not measured"
    assert [r.shown_met() for r in rows] == ["yes", "yes", "-"]
    print_rows(rows)
    out = capsys.readouterr().out
    assert "not measured yet: needs the runner" in out
    assert out.splitlines()[0].split() == ["figure", "value", "target", "met?"]


def test_both_ways_of_the_signed_call_read_the_same_answer(tmp_path: Path) -> None:
    from bench import make_keys

    keys = make_keys(tmp_path)
    reply = signed_reply(keys)
    data = application_data()
    ours = our_call(our_client(keys, reply), data)
    theirs = zeep_call(zeep_way(keys, reply), data)
    assert ours.message_id == MESSAGE_ID == str(theirs.responseInfo.messageId)
    assert ours.status.code == theirs.responseInfo.status.code == "SCSS001"
    assert ours.signer is not None and ours.signer.bin == "950341000052"  # the gateway's certificate


@pytest.mark.bench_smoke
@pytest.mark.timeout(900)  # every bench at tiny counts; bench b issues two certificates per flow's applicant
def test_make_bench_quick_writes_one_table_and_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.json"
    assert bench_main(["--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["quick"] is True
    assert result["failures"] == {}
    machine = result["machine"]
    for key in ("cpu_model", "cores", "python", "libraries", "date"):
        assert machine[key], key
    assert machine["libraries"]["lxml"] and machine["libraries"]["zeep"]
    rows = [Row.model_validate(r) for r in result["rows"]]
    assert {r.bench for r in rows} == {"a", "b", "c", "d", "e", "f"}
    for row in rows:
        assert row.figure in printed
        if row.value is not None:
            assert math.isfinite(row.value) and row.value >= 0, row
    flows = [r for r in rows if r.bench == "b" and r.figure.startswith("Diagram-1 flows per second")]
    assert len(flows) == 1 and all(r.value is not None and r.value > 0 for r in flows)
    counted = {r.figure for r in rows if r.bench == "b" and r.figure.startswith("per flow: ")}
    assert counted == {f"per flow: {name}" for name in COUNTED}
    errors = [r for r in rows if r.figure.endswith("errors")]
    assert {r.bench for r in errors} == {"b", "e", "f"}
    assert all(r.value == 0 for r in errors)
