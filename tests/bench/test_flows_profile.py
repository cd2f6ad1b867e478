"""Bench b's profile by category: each function's own time goes to its category, and the time of a
function of no category (a builtin, the standard library) to its callers' categories, in proportion
to what each spent in it."""

from __future__ import annotations

from types import SimpleNamespace

from bench.flows import profile_by_category

STORE = ("/w/procedure/store.py", 10, "advance")
SOCKET = ("/w/adapters/core/http/wire.py", 5, "read_answer")
DUMPS = ("/usr/lib/python3/json/__init__.py", 183, "dumps")
LEN = ("~", 0, "<built-in method builtins.len>")


def test_uncategorised_time_goes_to_the_callers_in_proportion() -> None:
    stats = SimpleNamespace(stats={
        STORE: (1, 1, 0.010, 0.050, {}),
        SOCKET: (2, 2, 0.020, 0.030, {}),
        # json.dumps: 30 ms of its own, called by the store (20 ms of it) and the transport (10 ms)
        DUMPS: (3, 3, 0.030, 0.036, {STORE: (2, 2, 0.020, 0.024), SOCKET: (1, 1, 0.010, 0.012)}),
        # len, called by json.dumps only: up two levels
        LEN: (9, 9, 0.006, 0.006, {DUMPS: (9, 9, 0.006, 0.006)}),
    })
    text = profile_by_category(stats, flows=2)
    lines = {line.split("  ")[1].strip(): line for line in text.splitlines()[1:]}
    assert text.splitlines()[0] == "by category (own time, per flow, 33.0 ms profiled):"
    # store: 10 + 20 of dumps + 2/3 of len's 6 = 34 ms in all, 17 per flow
    assert "17.0 ms" in lines["state: flow store and journal (SQLite)"]
    assert "16.0 ms" in lines["HTTP transport"]  # 20 + 10 + 2 = 32 ms, 16 per flow
    assert "not attributed" not in lines


def test_a_function_no_one_called_is_not_attributed() -> None:
    stats = SimpleNamespace(stats={LEN: (1, 1, 0.004, 0.004, {})})
    assert "not attributed" in profile_by_category(stats, flows=1)
