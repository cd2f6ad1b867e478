"""The exchange journal on a real SQLite file, fed by the resilient caller."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest

from adapters.core.clock import FrozenClock
from adapters.core.db import make_engine, redact_url
from adapters.core.errors import ConfigurationError, NotFoundError, RetriesExhaustedError, TransportError
from adapters.core.journal import AttemptRecord, ExchangeJournal, digest, percentile
from adapters.core.resilience import Attempt, CallContext, ResilientCaller, RetryPolicy

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def journal(tmp_path: Path) -> ExchangeJournal:
    j = ExchangeJournal.open(f"sqlite:///{tmp_path / 'journal.db'}")
    yield j  # type: ignore[misc]
    j.close()


def row(**kw: object) -> AttemptRecord:
    base: dict[str, object] = {"at": T0, "system": "egov_gateway", "service": "GBDUL", "operation": "send_sync",
                               "message_id": "m-1", "attempt": 1, "outcome": "ok", "latency_ms": 10.0}
    base.update(kw)
    return AttemptRecord(**base)  # type: ignore[arg-type]


def test_sqlite_engine_uses_wal_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    engine.dispose()
    assert (tmp_path / "sub" / "x.db").is_file()


def test_engine_errors_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="not valid"):
        make_engine("::not a url::")
    with pytest.raises(ConfigurationError, match=r"driver not installed") as err:
        make_engine("nosuchdb://user:secret@host/db")
    assert "secret" not in str(err.value)
    assert redact_url("postgresql://u:pw@db.example/egov") == "postgresql://u:***@db.example/egov"


def test_postgresql_url_builds_an_engine_without_connecting() -> None:
    # no PostgreSQL server in the tests: only the engine construction is checked
    try:
        engine = make_engine("postgresql://egov:pw@127.0.0.1:1/egov")
    except ConfigurationError as exc:
        assert "driver not installed" in str(exc)
    else:
        assert engine.url.get_backend_name() == "postgresql"
        engine.dispose()


def test_default_url_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.core import settings

    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    monkeypatch.setenv("EGOV_DATABASE_URL", url)
    settings.get_settings.cache_clear()
    try:
        j = ExchangeJournal.open()
        assert str(j.engine.url) == url
        j.close()
    finally:
        settings.get_settings.cache_clear()


def test_record_and_read_back(journal: ExchangeJournal) -> None:
    journal.record(row(request_digest=digest(b"<req/>"), correlation_id="c-9"))
    journal.record(row(message_id="m-2", service="OTHER"))
    [r1, r2] = journal.tail()
    assert r1.request_digest == hashlib.sha256(b"<req/>").hexdigest()
    assert r1.at == T0 and r1.at.tzinfo is not None
    assert r1.correlation_id == "c-9"
    assert journal.tail(service="OTHER") == [r2]
    assert journal.tail(n=1) == [r2]
    assert journal.for_message("m-1") == [r1]
    journal.reset()
    assert journal.tail() == []


def test_caller_writes_one_row_per_attempt_with_digests(journal: ExchangeJournal) -> None:
    clock = FrozenClock(T0)
    c = ResilientCaller(RetryPolicy(jitter=0.0), journal=journal, clock=clock,
                        sleep=lambda s: clock.advance(dt.timedelta(seconds=s)))
    ctx = CallContext("legal_entities", "GBDUL_INFO", "lookup", "msg-42", correlation_id="corr-1")
    errors = [TransportError("connection reset by peer")]

    def fn(attempt: Attempt) -> bytes:
        attempt.request_bytes = b"<request n='%d'/>" % attempt.number
        clock.advance(dt.timedelta(milliseconds=120))
        if errors:
            raise errors.pop()
        attempt.response_bytes = b"<response/>"
        return attempt.response_bytes

    c.call(ctx, fn)
    rows = journal.for_message("msg-42")
    assert [(r.attempt, r.outcome) for r in rows] == [(1, "retry"), (2, "ok")]
    assert rows[0].error_code == "EGOV401"
    assert rows[0].error_message == "connection reset by peer"
    assert rows[0].request_digest == hashlib.sha256(b"<request n='1'/>").hexdigest()
    assert rows[0].response_digest is None
    assert rows[1].response_digest == hashlib.sha256(b"<response/>").hexdigest()
    assert [r.latency_ms for r in rows] == [120.0, 120.0]
    assert rows[1].at == T0 + dt.timedelta(seconds=0.32)  # 120 ms attempt + 200 ms back-off
    assert {r.correlation_id for r in rows} == {"corr-1"}


def test_exhausted_and_final_and_bug_rows(journal: ExchangeJournal) -> None:
    c = ResilientCaller(RetryPolicy(max_attempts=2, jitter=0.0), journal=journal, sleep=lambda s: None)
    with pytest.raises(RetriesExhaustedError):
        c.call(CallContext("s", "svc", "op", "m-ex"), _raiser(TransportError("reset")))
    with pytest.raises(NotFoundError):
        c.call(CallContext("s", "svc", "op", "m-nf"), _raiser(NotFoundError("absent")))
    with pytest.raises(ZeroDivisionError):
        c.call(CallContext("s", "svc", "op", "m-bug"), _raiser(ZeroDivisionError("bug")))
    ex = journal.for_message("m-ex")
    assert [(r.outcome, r.exhausted) for r in ex] == [("retry", False), ("failed", True)]
    [nf] = journal.for_message("m-nf")
    assert (nf.outcome, nf.error_code, nf.exhausted) == ("refused", "EGOV501", False)  # a business answer
    [bug] = journal.for_message("m-bug")
    assert (bug.outcome, bug.error_code) == ("error", "ZeroDivisionError")


def _raiser(exc: Exception):  # type: ignore[no-untyped-def]
    def fn(attempt: Attempt) -> None:
        raise exc
    return fn


def test_stats_per_service(journal: ExchangeJournal) -> None:
    at = T0
    # service A: call m1 ok first time; m2 retried twice then ok; m3 exhausted after 3
    for attempt, outcome, ms in [(1, "ok", 10)]:
        journal.record(row(service="A", message_id="m1", attempt=attempt, outcome=outcome, latency_ms=ms))
    for attempt, outcome, ms in [(1, "retry", 20), (2, "retry", 30), (3, "ok", 40)]:
        journal.record(row(service="A", message_id="m2", attempt=attempt, outcome=outcome, latency_ms=ms))
    for attempt, outcome, ms in [(1, "retry", 50), (2, "retry", 60), (3, "failed", 1000)]:
        journal.record(row(service="A", message_id="m3", attempt=attempt, outcome=outcome, latency_ms=ms,
                           exhausted=attempt == 3, error_code="EGOV401"))
    # service B: one circuit-open refusal; one old row outside the window
    journal.record(row(service="B", message_id="m4", outcome="circuit-open", latency_ms=0))
    journal.record(row(service="B", message_id="old", at=at - dt.timedelta(hours=2)))
    [a, b] = journal.stats(since=at - dt.timedelta(minutes=1))
    assert (a.service, a.calls, a.attempts, a.retries, a.failures, a.exhausted) == ("A", 3, 7, 4, 1, 1)
    assert a.p50_ms == 40 and a.p95_ms == 1000 and a.max_ms == 1000
    assert (b.service, b.calls, b.attempts, b.failures, b.circuit_open, b.p50_ms) == ("B", 1, 1, 1, 1, None)
    assert journal.stats(since=at + dt.timedelta(minutes=1)) == []
    [old] = journal.stats(since=at - dt.timedelta(hours=3), until=at - dt.timedelta(hours=1))
    assert old.calls == 1


def test_percentile_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95


def test_concurrent_writes_from_threads(journal: ExchangeJournal) -> None:
    def write(k: int) -> None:
        for i in range(25):
            journal.record(row(message_id=f"t{k}-{i}"))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(journal.tail(n=1000)) == 100


def test_rows_are_readable_by_plain_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    j = ExchangeJournal.open(f"sqlite:///{path}")
    j.record(row(message_id="plain"))
    j.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT message_id, outcome FROM exchange_attempts").fetchall() == [("plain", "ok")]


def test_in_memory_journal_works() -> None:
    j = ExchangeJournal.open("sqlite://")
    j.record(row())
    assert len(j.tail()) == 1
    j.close()


# ---------------------------------------------------------------------------- over a real server


def test_real_server_retries_journal_and_same_message_id(journal: ExchangeJournal) -> None:
    import socket

    from adapters.core.transport import SoapTransport
    from simulators.common.httpserver import Request, Response, Router, SimServer

    seen: list[str] = []

    def handler(req: Request) -> Response:
        seen.append(req.headers.get("X-Message-Id", ""))
        if len(seen) < 3:
            return Response.text("busy", 503)
        return Response.xml(b"<ok/>")

    router = Router()
    router.add("POST", "/svc", handler)
    c = ResilientCaller(RetryPolicy(initial_backoff=0.0, jitter=0.0), journal=journal)
    ctx = CallContext("egov_gateway", "SVC", "send_sync", "msg-real", timeout=5.0)
    with SimServer(router, name="flaky") as sim, SoapTransport() as transport:
        def send(attempt: Attempt) -> bytes:
            attempt.request_bytes = b"<req/>"
            res = transport.post(f"{sim.url}/svc", attempt.request_bytes, raise_for_status=True,
                                 headers={"X-Message-Id": attempt.context.message_id},
                                 timeout=attempt.context.timeout)
            attempt.response_bytes = res.body
            return res.body

        assert c.call(ctx, send) == b"<ok/>"

        # a closed port: connection refused proves non-delivery, so even a non-idempotent call retries
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]
        refused = CallContext("egov_gateway", "SVC", "send_sync", "msg-refused", idempotent=False, timeout=2.0)
        with pytest.raises(RetriesExhaustedError) as err:
            c.call(refused, lambda a: transport.post(f"http://127.0.0.1:{closed_port}/svc", b"<x/>").body)
        assert err.value.attempts == 4

    assert seen == ["msg-real"] * 3
    rows = journal.for_message("msg-real")
    assert [(r.outcome, r.error_code) for r in rows] == [("retry", "EGOV402"), ("retry", "EGOV402"), ("ok", None)]
    assert rows[-1].response_digest == hashlib.sha256(b"<ok/>").hexdigest()
    assert all(r.request_digest == hashlib.sha256(b"<req/>").hexdigest() for r in rows)
    assert [r.outcome for r in journal.for_message("msg-refused")] == ["retry"] * 3 + ["failed"]


# --------------------------------------------------------------------------- batches (one transaction per step)

def _stored(journal: ExchangeJournal) -> list[str]:
    """Message ids in the file, read by a connection of its own (what another process would see)."""
    path = str(journal.engine.url.database)
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT message_id FROM exchange_attempts ORDER BY id")]


def _count_commits(journal: ExchangeJournal) -> list[int]:
    from sqlalchemy import event

    commits = [0]

    def count(_conn: object) -> None:
        commits[0] += 1

    event.listen(journal.engine, "commit", count)
    return commits


def test_a_batch_writes_its_rows_in_one_transaction_when_it_ends(journal: ExchangeJournal) -> None:
    commits = _count_commits(journal)
    with journal.batch():
        for i in range(3):
            journal.record(row(message_id=f"m-{i}"))
        assert _stored(journal) == []  # held until the batch ends
    assert _stored(journal) == ["m-0", "m-1", "m-2"]
    assert commits[0] == 1
    journal.record(row(message_id="m-3"))  # outside a batch: at once, its own transaction
    assert _stored(journal)[-1] == "m-3" and commits[0] == 2


def test_a_batch_ended_by_an_exception_still_writes_its_rows(journal: ExchangeJournal) -> None:
    with pytest.raises(TransportError), journal.batch():
        journal.record(row(message_id="m-1", outcome="failed"))
        raise TransportError("connection reset", kind="reset")
    assert _stored(journal) == ["m-1"]


def test_a_nested_batch_adds_to_the_outer_one(journal: ExchangeJournal) -> None:
    with journal.batch():
        journal.record(row(message_id="outer"))
        with journal.batch():
            journal.record(row(message_id="inner"))
        assert _stored(journal) == []
    assert _stored(journal) == ["outer", "inner"]


def test_another_threads_rows_are_not_held_by_a_batch(journal: ExchangeJournal) -> None:
    with journal.batch():
        worker = threading.Thread(target=journal.record, args=(row(message_id="other-thread"),))
        worker.start()
        worker.join()
        assert _stored(journal) == ["other-thread"]
        journal.record(row(message_id="this-thread"))
    assert _stored(journal) == ["other-thread", "this-thread"]


def test_a_batch_that_cannot_be_written_is_an_unjournalled_exchange(journal: ExchangeJournal) -> None:
    from adapters.core.journal import UnjournalledExchangeError

    with pytest.raises(UnjournalledExchangeError, match=r"2 exchange attempts .*message m-1") as err, \
            journal.batch():
        journal.record(row(message_id="m-1"))
        journal.record(row(message_id="m-2"))
        with sqlite3.connect(str(journal.engine.url.database)) as conn:
            conn.execute("DROP TABLE exchange_attempts")
    assert err.value.retryable and err.value.context["rows"] == 2
    assert "no such table" in str(err.value)
