"""The exchange journal and the durable flow state on a real PostgreSQL server (throwaway cluster).

Every test gets a fresh database on the session's cluster (``postgres_db_url``). What PostgreSQL
does differently from SQLite and is exercised here: strict VARCHAR lengths, real booleans, JSON,
``timestamptz`` (returned in the session's time zone), unique keys enforced across connections,
READ COMMITTED transactions and connections from several threads and engines at once.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine

from adapters.core.clock import FrozenClock
from adapters.core.db import make_engine
from adapters.core.errors import ConflictError, NotFoundError
from adapters.core.journal import AttemptRecord, ExchangeJournal, digest, exchange_attempts
from procedure.diagrams import DIAGRAM_PORTAL, DIAGRAM_PROVIDER, StepKind
from procedure.machine import FlowRunner
from procedure.models import FlowStatus, NormVerdict
from procedure.store import FlowStore, flows_table, steps_table
from tests import conftest as _conftest
from tests.procedure.test_store import Crash, ExternalSystems, steps_with_effects

if "tests.fixtures.postgres" not in _conftest.pytest_plugins:  # until registered in tests/conftest.py
    from tests.fixtures.postgres import postgres_db_url, postgres_server, postgres_url  # noqa: F401

T0 = dt.datetime(2024, 3, 1, 9, 0, 0, 123456, tzinfo=dt.UTC)
ALMATY = dt.timezone(dt.timedelta(hours=5))


def row(**kw: object) -> AttemptRecord:
    base: dict[str, object] = {"at": T0, "system": "egov_gateway", "service": "GBDUL", "operation": "send_sync",
                               "message_id": "m-1", "attempt": 1, "outcome": "ok", "latency_ms": 10.0}
    base.update(kw)
    return AttemptRecord(**base)  # type: ignore[arg-type]


@pytest.fixture
def journal(postgres_db_url: str) -> Iterator[ExchangeJournal]:
    j = ExchangeJournal.open(postgres_db_url)
    yield j
    j.close()


@pytest.fixture
def store(postgres_db_url: str) -> Iterator[FlowStore]:
    s = FlowStore.from_url(postgres_db_url)
    yield s
    s.engine.dispose()


def _engine_in_time_zone(url: str, zone: str) -> Engine:
    """A plain engine whose sessions use ``zone``: timestamptz values come back in it."""
    return create_engine(url, connect_args={"options": f"-c timezone={zone}"})


# --------------------------------------------------------------------------- engine

def test_plain_postgresql_urls_get_psycopg3_and_connect(postgres_server: Any) -> None:
    port = postgres_server.port
    for form in (f"postgresql://postgres@127.0.0.1:{port}/egov", f"postgres://postgres@127.0.0.1:{port}/egov",
                 f"postgresql+psycopg://postgres@127.0.0.1:{port}/egov"):
        engine = make_engine(form)
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.dialect.name == "postgresql"
        with engine.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar() == "egov"
        engine.dispose()


# --------------------------------------------------------------------------- journal

def test_journal_columns_have_postgresql_types(journal: ExchangeJournal) -> None:
    with journal.engine.connect() as conn:
        types: dict[str, str] = dict(conn.execute(text(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'exchange_attempts'")).all())
    assert types["at"] == "timestamp with time zone"
    assert types["exhausted"] == "boolean"
    assert types["id"] == "integer"
    assert types["message_id"] == "character varying"


def test_journal_record_tail_for_message_and_window(journal: ExchangeJournal) -> None:
    request, response = "<Kz>Қазақстан</Kz>".encode(), b"<ok/>"
    # a non-UTC input time: stored as the same instant, read back in UTC
    first = row(at=T0.astimezone(ALMATY), message_id="m-1", attempt=1, outcome="retry", latency_ms=120.5,
                error_code="EGOV301", error_message="gateway timeout — шлюз", request_digest=digest(request))
    second = row(at=T0 + dt.timedelta(seconds=1), message_id="m-1", attempt=2, outcome="ok", latency_ms=35.25,
                 request_digest=digest(request), response_digest=digest(response))
    other = row(at=T0 + dt.timedelta(seconds=2), service="PAYMENT", system="payment_gateway", message_id="p-1",
                outcome="failed", exhausted=True, latency_ms=7.0, error_code="EGOV302")
    for r in (first, second, other):
        journal.record(r)

    assert journal.for_message("m-1") == [first, second]
    back = journal.for_message("m-1")[0]
    assert back.at == T0 and back.at.tzinfo is not None and back.at.utcoffset() == dt.timedelta(0)
    assert back.error_message == "gateway timeout — шлюз"
    assert journal.tail(2) == [second, other]
    assert journal.tail(5, service="PAYMENT") == [other]
    assert journal.for_message("nope") == []
    assert journal.between(T0 + dt.timedelta(seconds=1)) == [second, other]
    assert journal.between(T0, T0 + dt.timedelta(seconds=1)) == [first]
    assert journal.tail(1)[0].exhausted is True and journal.tail(2)[0].exhausted is False


def test_nul_in_error_texts_is_stored_escaped(journal: ExchangeJournal, postgres_db_url: str) -> None:
    """PostgreSQL's text refuses NUL (SQLite takes it): an error echoing received bytes must not
    turn into a journal or flow-state failure."""
    journal.record(row(outcome="failed", error_message="bad\x00byte"))
    assert journal.tail(1)[0].error_message == "bad\\x00byte"
    store = FlowStore.from_url(postgres_db_url)
    store.create_flow(flow_id="nul", service="school", operation="issue", diagram="portal", start_step="1",
                      data={}, now=T0)
    store.step_started(flow_id="nul", step_id="1", now=T0, norm_min=None, norm_max=None)
    store.step_failed(flow_id="nul", step_id="1", error="answer b'\x00'", now=T0)
    assert store.get_flow("nul").error == store.step("nul", "1").error == "answer b'\\x00'"
    store.step_finished(flow_id="nul", step_id="1", finished_at=T0, duration_seconds=0,
                        verdict=NormVerdict.NO_NORM, outcome="done", detail="x\x00y", data_update={},
                        next_step="C1", status=FlowStatus.RUNNING)
    assert store.step("nul", "1").detail == "x\\x00y"
    store.engine.dispose()


def test_journal_stats_on_postgresql(journal: ExchangeJournal) -> None:
    rows = [row(message_id="a", attempt=1, outcome="retry", latency_ms=100.0),
            row(message_id="a", attempt=2, outcome="ok", latency_ms=20.0),
            row(message_id="b", attempt=1, outcome="failed", exhausted=True, latency_ms=30.0),
            row(message_id="c", attempt=1, outcome="circuit-open", latency_ms=0.0),
            row(message_id="d", service="PAYMENT", system="payment_gateway", latency_ms=5.0)]
    for r in rows:
        journal.record(r)
    journal.record(row(at=T0 - dt.timedelta(days=1), message_id="old"))       # outside the window

    stats = {s.service: s for s in journal.stats(T0, T0 + dt.timedelta(minutes=1))}
    gbdul = stats["GBDUL"]
    assert (gbdul.calls, gbdul.attempts, gbdul.retries, gbdul.failures) == (3, 4, 1, 2)
    assert (gbdul.exhausted, gbdul.circuit_open) == (1, 1)
    assert (gbdul.p50_ms, gbdul.p95_ms, gbdul.max_ms) == (30.0, 100.0, 100.0)
    assert stats["PAYMENT"].calls == 1 and stats["PAYMENT"].system == "payment_gateway"


def test_journal_times_survive_a_non_utc_session(journal: ExchangeJournal, postgres_db_url: str) -> None:
    journal.record(row(message_id="tz"))
    almaty = _engine_in_time_zone(postgres_db_url, "Asia/Almaty")
    with almaty.connect() as conn:
        stored = conn.execute(select(exchange_attempts.c.at)).scalar_one()
    almaty.dispose()
    assert stored == T0 and stored.utcoffset() != dt.timedelta(0)      # same instant, Almaty's offset
    other = ExchangeJournal(make_engine(postgres_db_url, connect_args={"options": "-c timezone=Asia/Almaty"}))
    assert other.for_message("tz")[0].at.utcoffset() == dt.timedelta(0)
    assert other.between(T0 - dt.timedelta(microseconds=1), T0 + dt.timedelta(microseconds=1))[0].at == T0
    other.close()


def test_journal_concurrent_writers_from_threads_and_engines(journal: ExchangeJournal, postgres_db_url: str) -> None:
    """Threads on one journal and on a second journal (another engine, as another process would
    have) write at once: every row lands, once, and each writer's rows keep their order."""
    second = ExchangeJournal.open(postgres_db_url)       # create_all again on existing tables: no error
    writers, per_writer = 8, 25
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        target = journal if n % 2 else second
        try:
            barrier.wait()
            for i in range(per_writer):
                target.record(row(message_id=f"w{n}", attempt=i + 1, at=T0 + dt.timedelta(milliseconds=i)))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with journal.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(exchange_attempts)).scalar() == writers * per_writer
        ids = conn.execute(select(exchange_attempts.c.id)).scalars().all()
    assert len(set(ids)) == writers * per_writer
    for n in range(writers):
        assert [r.attempt for r in journal.for_message(f"w{n}")] == list(range(1, per_writer + 1))
    assert len(journal.tail(1000)) == writers * per_writer
    second.close()


# --------------------------------------------------------------------------- flow store

def test_store_types_and_unique_keys(store: FlowStore) -> None:
    with store.engine.connect() as conn:
        types: dict[str, str] = dict(conn.execute(text(
            "select column_name, data_type from information_schema.columns "
            "where table_name in ('procedure_flows', 'procedure_steps')")).all())
        uniques = set(conn.execute(text(
            "select indexdef from pg_indexes where tablename = 'procedure_steps' and indexdef like '%UNIQUE%'"
        )).scalars().all())
    assert types["data"] == "json"
    assert types["created_at"] == types["finished_at"] == "timestamp with time zone"
    assert types["within_norm"] == "boolean"
    assert any("(flow_id, step)" in u for u in uniques) and any("(idempotency_key)" in u for u in uniques)


def test_store_create_steps_history_and_list(store: FlowStore) -> None:
    data = {"bin": "940140000385", "name": "Білім беру ұйымы", "amounts": [1, 2.5], "nested": {"ok": True}}
    created = store.create_flow(flow_id="a", service="higher-postgraduate", operation="issue", diagram="portal",
                                start_step="1", data=data, now=T0)
    assert store.get_flow("a") == created and created.data == data
    with pytest.raises(ConflictError, match="flow a already exists"):
        store.create_flow(flow_id="a", service="school", operation="issue", diagram="portal",
                          start_step="1", data={}, now=T0)
    with pytest.raises(NotFoundError, match="flow nope not found"):
        store.get_flow("nope")

    started = store.step_started(flow_id="a", step_id="1", now=T0.astimezone(ALMATY), norm_min=10, norm_max=15)
    assert started.idempotency_key == "a/1" and started.attempts == 1 and started.started_at == T0
    flow = store.step_finished(flow_id="a", step_id="1", finished_at=T0 + dt.timedelta(seconds=20),
                               duration_seconds=20, verdict=NormVerdict.OVER, outcome="done", detail="кіру",
                               data_update={"login": "ok"}, next_step="C1", status=FlowStatus.RUNNING)
    assert flow.current_step == "C1" and flow.data == {**data, "login": "ok"}
    assert store.get_flow("a") == flow
    record = store.step("a", "1")
    assert record.norm_verdict is NormVerdict.OVER and record.detail == "кіру"
    assert record.finished_at == T0 + dt.timedelta(seconds=20) and record.finished_at.utcoffset() == dt.timedelta(0)
    with pytest.raises(ConflictError, match="step 1 is already finished"):
        store.step_started(flow_id="a", step_id="1", now=T0, norm_min=None, norm_max=None)
    with pytest.raises(ConflictError, match="cannot finish step 1"):
        store.step_finished(flow_id="a", step_id="1", finished_at=T0, duration_seconds=0,
                            verdict=NormVerdict.NO_NORM, outcome="done", detail="", data_update={},
                            next_step="C1", status=FlowStatus.RUNNING)

    store.step_started(flow_id="a", step_id="C1", now=T0, norm_min=None, norm_max=None)
    store.step_failed(flow_id="a", step_id="C1", error="E-licensing unavailable", now=T0 + dt.timedelta(seconds=30))
    assert store.get_flow("a").status is FlowStatus.FAILED
    again = store.step_started(flow_id="a", step_id="C1", now=T0 + dt.timedelta(seconds=40), norm_min=None,
                               norm_max=None)
    assert again.attempts == 2 and again.error is None and again.first_started_at == T0

    store.create_flow(flow_id="b", service="school", operation="duplicate", diagram="provider", start_step="1",
                      data={}, now=T0 + dt.timedelta(minutes=1))
    assert [r.step for r in store.history("a")] == ["1", "C1"]
    assert [f.flow_id for f in store.list_flows()] == ["a", "b"]
    assert [f.flow_id for f in store.list_flows(FlowStatus.RUNNING)] == ["b"]
    assert [f.flow_id for f in store.list_flows(FlowStatus.FAILED)] == ["a"]


def test_store_same_flow_created_by_racing_threads_once(store: FlowStore) -> None:
    """PostgreSQL enforces the key across connections: one creator wins, the others get a conflict."""
    racers = 6
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []

    def create(n: int) -> None:
        barrier.wait()
        try:
            store.create_flow(flow_id="race", service="school", operation="issue", diagram="portal",
                              start_step="1", data={"racer": n}, now=T0)
            outcomes.append("created")
        except ConflictError:
            outcomes.append("conflict")
        except Exception as exc:  # anything else fails the test below, not the thread
            outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=create, args=(n,)) for n in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(outcomes) == {"created": 1, "conflict": racers - 1}, outcomes
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(flows_table)).scalar() == 1


def test_store_same_step_started_by_racing_runners_never_leaks_a_database_error(store: FlowStore) -> None:
    """Two resumptions of one flow at once: each start is either an attempt, counted, or a
    conflict; never a raw unique-key violation."""
    store.create_flow(flow_id="s", service="school", operation="issue", diagram="portal", start_step="1",
                      data={}, now=T0)
    racers = 6
    barrier = threading.Barrier(racers)
    outcomes: list[str] = []

    def start() -> None:
        barrier.wait()
        try:
            store.step_started(flow_id="s", step_id="1", now=T0, norm_min=None, norm_max=None)
            outcomes.append("started")
        except ConflictError:
            outcomes.append("conflict")
        except Exception as exc:  # anything else fails the test below, not the thread
            outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=start) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(outcomes) <= {"started", "conflict"} and "started" in outcomes, outcomes
    assert store.step("s", "1").attempts == outcomes.count("started")
    assert [r.step for r in store.history("s")] == ["1"]


def test_missing_server_binaries_skip_with_the_package_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures import postgres as fixture

    monkeypatch.setattr(fixture, "find_postgres_bindir", lambda: None)
    reason = fixture._skip_reason()
    assert reason == "PostgreSQL server binaries (Debian package postgresql) not installed"


@pytest.mark.parametrize("diagram", [DIAGRAM_PORTAL, DIAGRAM_PROVIDER], ids=lambda d: d.id)
def test_crash_after_each_effect_then_resume_with_the_same_key(diagram: Any, postgres_db_url: str) -> None:
    """For every action step: the 'process' dies right after the external effect; a new engine
    (a new process) resumes the flow, re-runs the step with the same idempotency key, and every
    effect happened once."""
    clock = FrozenClock(T0)
    systems = ExternalSystems()
    actions = [s.id for s in diagram.of_kind(StepKind.ACTION)]
    for step_id in actions:
        flow_id = f"F-{step_id}"
        store = FlowStore.from_url(postgres_db_url)
        runner = FlowRunner(diagram, steps_with_effects(diagram, clock, systems, crash_after=step_id), store,
                            clock=clock)
        with pytest.raises(Crash):
            runner.start(service="higher-postgraduate", operation="issue", flow_id=flow_id)
        store.engine.dispose()

        store2 = FlowStore.from_url(postgres_db_url)
        left = store2.get_flow(flow_id)
        assert left.status is FlowStatus.RUNNING and left.current_step == step_id
        assert store2.step(flow_id, step_id).attempts == 1 and not store2.step(flow_id, step_id).finished
        result = FlowRunner(diagram, steps_with_effects(diagram, clock, systems), store2, clock=clock).resume(flow_id)
        assert result.status is FlowStatus.COMPLETED
        key = f"{flow_id}/{step_id}"
        assert systems.calls.count(key) == 2 and systems.effects[key] == 1
        assert store2.step(flow_id, step_id).attempts == 2
        assert result.data[f"receipt_{step_id}"] == systems.ledger[key]
        store2.engine.dispose()
    assert set(systems.effects.values()) == {1}
    assert len(systems.effects) == len(actions) ** 2            # every flow's every effect, once
    check = FlowStore.from_url(postgres_db_url)
    assert {f.flow_id for f in check.list_flows(FlowStatus.COMPLETED)} == {f"F-{s}" for s in actions}
    check.engine.dispose()


def test_kill_inside_the_step_finished_transaction_rolls_back(postgres_db_url: str) -> None:
    """Killed between the two statements of the step's end: PostgreSQL rolls both back."""
    from sqlalchemy import event

    clock = FrozenClock(T0)
    systems = ExternalSystems()
    store = FlowStore.from_url(postgres_db_url)
    armed = {"on": True}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if armed["on"] and statement.lstrip().upper().startswith("UPDATE PROCEDURE_STEPS"):
            armed["on"] = False            # the flow's UPDATE has run in this transaction
            raise Crash("killed inside the transaction")

    event.listen(store.engine, "before_cursor_execute", before)
    runner = FlowRunner(DIAGRAM_PROVIDER, steps_with_effects(DIAGRAM_PROVIDER, clock, systems), store, clock=clock)
    with pytest.raises(Crash):
        runner.start(service="school", operation="issue", flow_id="TX")
    store.engine.dispose()

    store2 = FlowStore.from_url(postgres_db_url)
    assert store2.get_flow("TX").current_step == "1"         # the flow's move was rolled back
    assert not store2.step("TX", "1").finished
    result = FlowRunner(DIAGRAM_PROVIDER, steps_with_effects(DIAGRAM_PROVIDER, clock, systems), store2,
                        clock=clock).resume("TX")
    assert result.status is FlowStatus.COMPLETED
    assert systems.calls.count("TX/1") == 2 and systems.effects["TX/1"] == 1
    store2.engine.dispose()


# --------------------------------------------------------------------------- end to end

def test_diagram1_flow_end_to_end_with_state_and_journal_in_postgresql(postgres_db_url: str,
                                                                       tmp_path: Path) -> None:
    from harness.env import procedure_env
    from harness.scenario import Fault

    with procedure_env(manifest=None, db=postgres_db_url, out_dir=tmp_path / "out") as env:
        assert env.store.engine.dialect.name == "postgresql"
        scenario = env.scenario("school", "issue", 1, Fault.NONE)
        result = env.run(scenario)
        assert result.status is FlowStatus.COMPLETED, result.detail
        assert env.store.get_flow(result.flow_id).status is FlowStatus.COMPLETED

    # read back with a fresh engine, as `egov flow show` / `egov journal` would in another process
    engine = make_engine(postgres_db_url)
    with engine.connect() as conn:
        flow = conn.execute(select(flows_table).where(flows_table.c.flow_id == result.flow_id)).mappings().one()
        steps = conn.execute(select(steps_table.c.step, steps_table.c.finished_at, steps_table.c.attempts)
                             .where(steps_table.c.flow_id == result.flow_id)
                             .order_by(steps_table.c.id)).all()
        journal_rows = conn.execute(select(exchange_attempts.c.system, exchange_attempts.c.outcome,
                                           exchange_attempts.c.error_code)).all()
    engine.dispose()
    assert flow["status"] == "completed" and flow["data"]["licence_number"] == result.data["licence_number"]
    assert tuple(s.step for s in steps) == result.path
    assert all(s.finished_at is not None and s.attempts == 1 for s in steps)
    systems = {r.system for r in journal_rows}
    assert len(journal_rows) >= len(systems) >= 2                  # several external systems journalled
    # no exchange failed on the way, but at most a refused login (as on SQLite)
    assert {(r.system, r.outcome, r.error_code) for r in journal_rows if r.outcome != "ok"} <= {
        ("elicense", "failed", "ELC101")}, Counter(journal_rows)

    journal = ExchangeJournal.open(postgres_db_url)
    stats = journal.stats(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    journal.close()
    assert sum(s.attempts for s in stats) == len(journal_rows)
    assert sum(s.calls for s in stats) >= len(systems)

    # the ops commands read the same database through a plain postgresql:// URL
    from click.testing import CliRunner

    from cli.main import cli

    plain = postgres_db_url.replace("postgresql+psycopg://", "postgresql://")
    shown = CliRunner().invoke(cli, ["flow", "show", result.flow_id, "--db", plain])
    assert shown.exit_code == 0, shown.output
    assert f"flow {result.flow_id}: completed" in shown.output and str(result.data["licence_number"]) in shown.output
    tailed = CliRunner().invoke(cli, ["journal", "tail", "-n", "1000", "--json", "--db", plain])
    assert tailed.exit_code == 0, tailed.output
    assert len(tailed.output.splitlines()) == len(journal_rows)
