"""Bench b's harness: threads split between client processes, the workers' figures added up, and
the HTTP category charged at the network transport's ``request``.

No figure is asserted (timings depend on the machine); the end-to-end run with two client
processes is ``test_make_bench_quick_writes_one_table_and_results`` (``bench --quick``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.core.http import NetworkTransport
from adapters.core.transport import SoapTransport
from bench.flows import (
    CATEGORIES,
    COUNTED,
    CallCounters,
    CategoryTimers,
    FlowBenchConfig,
    _aggregate,
    describe,
    instrumented,
    variant,
)
from simulators.common.httpserver import Request, Response, Router, SimServer


@pytest.mark.parametrize(("threads", "processes", "split"), [
    (8, 1, [8]), (8, 2, [4, 4]), (7, 2, [4, 3]), (5, 3, [2, 2, 1]), (2, 2, [1, 1]),
])
def test_total_threads_are_split_between_the_processes(threads: int, processes: int, split: list[int]) -> None:
    config = FlowBenchConfig(threads=threads, processes=processes)
    assert [config.threads_of(i) for i in range(processes)] == split
    assert sum(split) == threads


def _part(flows: int, errors: int, elapsed: float, cpu: float, first_error: str = "",
          exhausted: bool = False) -> dict[str, Any]:
    shares = dict.fromkeys(CATEGORIES, 0.0)
    shares["signing"] = 0.01 * flows
    shares["HTTP"] = 0.02 * flows
    counts = dict.fromkeys(COUNTED, 0)
    counts["HTTP requests"] = 21 * flows
    return {"flows": flows, "errors": errors, "elapsed": elapsed, "latencies": [0.1] * flows, "shares": shares,
            "worker_cpu": 0.05 * flows, "client_cpu": cpu, "counts": counts, "pool_exhausted": exhausted,
            "first_error": first_error}


def test_the_workers_figures_are_added_up() -> None:
    config = FlowBenchConfig(threads=8, duration=10.0, render_pdf=False, processes=2)
    m = _aggregate(config, [_part(100, 0, 10.4, 7.0), _part(80, 2, 10.6, 6.0, "failed at step 5", True)], 4.5)
    assert m.flows == 180
    assert m.errors == 2
    assert m.elapsed == 10.6  # the longest window: flows/s is not overstated
    assert m.rate == pytest.approx(180 / 10.6)
    assert len(m.latencies) == 180
    assert m.client_cpu == pytest.approx(13.0)  # the sum of the processes' CPU, not the mean
    assert m.server_cpu == 4.5
    assert m.worker_cpu == pytest.approx(0.05 * 180)
    assert m.shares["signing"] == pytest.approx(1.8) and m.shares["HTTP"] == pytest.approx(3.6)
    assert m.pool_exhausted and m.first_error == "failed at step 5"
    assert m.counts["HTTP requests"] == 21 * 180 and m.per_flow("HTTP requests") == pytest.approx(21.0)
    text = describe(m)
    assert "8 threads in 2 client processes" in text and "180 flows" in text and "2 errors" in text


def test_no_error_no_first_error() -> None:
    m = _aggregate(FlowBenchConfig(threads=2, processes=2), [_part(3, 0, 1.0, 0.2), _part(4, 0, 1.1, 0.3)], None)
    assert m.errors == 0 and m.first_error == "" and not m.pool_exhausted and m.server_cpu is None


@pytest.fixture
def echo_server() -> Iterator[SimServer]:
    def echo(req: Request) -> Response:
        return Response(200, b"<ok/>" * 100, {"Content-Type": "text/xml"})

    router = Router()
    router.add("POST", "/echo", echo)
    with SimServer(router, name="bench-echo") as sim:
        yield sim


def test_http_is_charged_at_the_network_transport_and_restored(echo_server: SimServer) -> None:
    request_before = NetworkTransport.__dict__["request"]
    timers = CategoryTimers()
    with SoapTransport() as transport, instrumented(timers):
        assert NetworkTransport.__dict__["request"] is not request_before
        timers.enabled = True
        for _ in range(20):
            result = transport.post(f"{echo_server.url}/echo", b"<ping/>")
            assert result.status == 200 and result.body.startswith(b"<ok/>")
        timers.enabled = False
    assert timers.totals["HTTP"] > 0.0
    assert {k for k, v in timers.totals.items() if v > 0} == {"HTTP"}
    assert NetworkTransport.__dict__["request"] is request_before


def test_requests_and_transactions_are_counted_only_while_enabled(echo_server: SimServer, tmp_path: Any) -> None:
    import datetime as dt

    from adapters.core.journal import AttemptRecord, ExchangeJournal

    def row(message_id: str) -> AttemptRecord:
        return AttemptRecord(at=dt.datetime.now(dt.UTC), system="echo", service="ECHO", operation="post",
                             message_id=message_id, attempt=1, outcome="ok", latency_ms=1.0)

    timers, counters = CategoryTimers(), CallCounters()
    journal = ExchangeJournal.open(f"sqlite:///{tmp_path / 'journal.db'}")
    with SoapTransport() as transport, instrumented(timers, counters):
        transport.post(f"{echo_server.url}/echo", b"<ping/>")  # not counted: disabled
        counters.enabled = True
        for _ in range(3):
            transport.post(f"{echo_server.url}/echo", b"<ping/>")
        journal.record(row(message_id="one"))
        with journal.batch():
            journal.record(row(message_id="two"))
            journal.record(row(message_id="three"))
        counters.enabled = False
    journal.close()
    assert counters.counts["HTTP requests"] == 3
    assert counters.counts["DB transactions"] == 2  # one row alone, then a batch of two


def test_the_before_variant_undoes_the_journals_batches_and_restores_them(tmp_path: Any) -> None:
    from adapters.core.journal import ExchangeJournal
    from adapters.elicense import ElicenseClient

    batch, issue = ExchangeJournal.__dict__["batch"], ElicenseClient.__dict__["issue"]
    before = FlowBenchConfig(journal_batches=False, licence_once=False)
    assert before.variant == "before: journal per row, licence fetched twice"
    with variant(before):
        assert ExchangeJournal.__dict__["batch"] is not batch and ElicenseClient.__dict__["issue"] is not issue
    assert ExchangeJournal.__dict__["batch"] is batch and ElicenseClient.__dict__["issue"] is issue
    assert FlowBenchConfig().variant == "after"
