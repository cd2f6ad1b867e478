"""The exchange journal: one database row per attempt of every call to an external system.

Each row keeps the time, the ids (messageId, correlationId), the target, the attempt number, the
outcome, the latency, the error code and SHA-256 digests of the request and response bytes (never
the bytes themselves: they may hold personal data). Ops read it with ``egov journal tail`` and
``egov journal stats``.

Outside a batch each row is its own transaction, committed before :meth:`ExchangeJournal.record`
returns. Inside :meth:`ExchangeJournal.batch` (the flow runner opens one around each step of a
flow) the rows recorded by that thread are kept in memory and written in ONE transaction when the
batch ends, whether the step returned or raised. The crash contract of a batch: a row survives
at least to the end of its batch (a process killed inside the step loses the rows of that step
only, and the step, whose end was never recorded, runs again under the same idempotency key and
messageIds, journalling its attempts then); the runner ends the batch before it records the
step's end, so once a step is recorded as finished its rows are in the database, and a row lost
after that is impossible. A batch that cannot be written raises
:class:`UnjournalledExchangeError` (retryable), which fails the step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pydantic import BaseModel, Field
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from adapters.core.attempts import (
    FAILED_OUTCOMES,
    OUTCOMES,
    AttemptRecord,
    JournalError,
    Outcome,
    UnjournalledExchangeError,
    digest,
)
from adapters.core.attempts import utc as _utc
from adapters.core.db import PreparedStatement, create_tables, database_reason, make_engine, redact_url

__all__ = [
    "FAILED_OUTCOMES",
    "OUTCOMES",
    "AttemptFilter",
    "AttemptRecord",
    "ExchangeJournal",
    "JournalError",
    "Outcome",
    "ServiceStats",
    "UnjournalledExchangeError",
    "digest",
    "exchange_attempts",
    "percentile",
]

class ServiceStats(BaseModel):
    """Figures for one (system, service) over a time window."""

    system: str
    service: str
    calls: int = Field(description="distinct messageIds")
    attempts: int
    retries: int = Field(description="attempts that were followed by another attempt")
    failures: int = Field(description="calls whose last attempt failed (failed, error, circuit-open)")
    exhausted: int = Field(description="calls that used up their retries")
    circuit_open: int = Field(description="attempts refused by an open circuit")
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


metadata = MetaData()

@dataclass(frozen=True)
class AttemptFilter:
    """Which attempts a reader wants: each field set must equal the row's (``flow``: the flow's id,
    carried as the exchanges' correlationId)."""

    system: str | None = None
    service: str | None = None
    operation: str | None = None
    outcome: str | None = None
    flow: str | None = None

    @classmethod
    def of(cls, match: AttemptFilter | None, *, service: str | None = None) -> AttemptFilter:
        base = match or cls()
        return base if service is None else dataclasses.replace(base, service=service)

    def conditions(self) -> list[tuple[str, str]]:
        """(column, value) of every field set."""
        named = {"system": self.system, "service": self.service, "operation": self.operation,
                 "outcome": self.outcome, "correlation_id": self.flow}
        return [(column, value) for column, value in named.items() if value is not None]


exchange_attempts = Table(
    "exchange_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("system", String(64), nullable=False),
    Column("service", String(128), nullable=False),
    Column("operation", String(128), nullable=False),
    Column("message_id", String(128), nullable=False),
    Column("correlation_id", String(128)),
    Column("attempt", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("request_digest", String(64)),
    Column("response_digest", String(64)),
    Column("exhausted", Boolean, nullable=False, default=False),
    Index("ix_exchange_attempts_at", "at"),
    Index("ix_exchange_attempts_service_at", "service", "at"),
    Index("ix_exchange_attempts_message_id", "message_id"),
)

_FIELDS = [c.name for c in exchange_attempts.columns if c.name != "id"]
_INSERT = PreparedStatement(insert(exchange_attempts), column_keys=_FIELDS)
"""Built once and compiled once per dialect: an ``insert().values(**row)`` per call, and even
SQLAlchemy's per-execution work for a cached statement, cost more CPU than the SQLite write."""


class ExchangeJournal:
    """The journal over one database. Thread-safe: writes are serialised in-process and SQLite
    waits (busy timeout) for writers in other processes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._batches = threading.local()
        try:
            create_tables(engine, metadata)
        except SQLAlchemyError as exc:
            raise JournalError(f"exchange journal at {redact_url(engine.url)}: cannot create table "
                               f"exchange_attempts: {database_reason(exc)}", url=redact_url(engine.url)) from exc

    @classmethod
    def open(cls, url: str | None = None) -> ExchangeJournal:
        """The journal at ``url`` (default: settings ``database_url``, a SQLite file)."""
        return cls(make_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    def _fail(self, action: str, exc: SQLAlchemyError) -> JournalError:
        url = redact_url(self.engine.url)
        return JournalError(f"exchange journal at {url}: cannot {action}: {database_reason(exc)}", url=url)

    # ------------------------------------------------------------------ writing

    def record(self, row: AttemptRecord) -> None:
        """Append one attempt: committed before this returns (one transaction per attempt: a row
        survives the process being killed right after; see :mod:`adapters.core.db` for what the
        SQLite settings promise), or, inside a :meth:`batch` of this thread, kept for the batch's
        one transaction."""
        pending: list[AttemptRecord] | None = getattr(self._batches, "rows", None)
        if pending is not None:
            pending.append(row)
            return
        self._write([row])

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """The rows this thread records inside are written in one transaction when the block ends,
        normally or by an exception (see the module docstring for the crash contract). Other
        threads' rows are not held. A batch inside a batch adds to the outer one.
        :class:`UnjournalledExchangeError` when the rows cannot be written."""
        if getattr(self._batches, "rows", None) is not None:
            yield
            return
        rows: list[AttemptRecord] = []
        self._batches.rows = rows
        try:
            yield
        finally:
            self._batches.rows = None
            if rows:
                self._write_batch(rows)

    def _write_batch(self, rows: list[AttemptRecord]) -> None:
        try:
            self._write(rows)
        except JournalError as exc:
            first = rows[0]
            raise UnjournalledExchangeError(
                f"{len(rows)} exchange attempts (the first: {first.system} {first.operation}, message "
                f"{first.message_id}) took place but could not be journalled: {exc.message}",
                message_id=first.message_id, rows=len(rows)) from exc

    def _write(self, rows: list[AttemptRecord]) -> None:
        """``rows`` in one transaction."""
        try:
            with self._lock, self.engine.begin() as conn:
                _INSERT.execute_many(conn, [row.model_dump() for row in rows])
        except SQLAlchemyError as exc:
            last = rows[-1]
            what = (f"record attempt {last.attempt} of message {last.message_id}" if len(rows) == 1 else
                    f"record {len(rows)} attempts (the last of message {last.message_id})")
            raise self._fail(what, exc) from exc

    def reset(self) -> None:
        """Delete every row (tests, demos)."""
        try:
            with self._lock, self.engine.begin() as conn:
                conn.execute(delete(exchange_attempts))
        except SQLAlchemyError as exc:
            raise self._fail("reset", exc) from exc

    # ------------------------------------------------------------------ reading

    def _rows(self, stmt: object, action: str) -> list[AttemptRecord]:
        try:
            with self._lock, self.engine.connect() as conn:
                result = conn.execute(stmt)  # type: ignore[call-overload]
                return [AttemptRecord(**{k: m[k] for k in _FIELDS}) for m in result.mappings()]
        except SQLAlchemyError as exc:
            raise self._fail(action, exc) from exc

    def tail(self, n: int = 20, service: str | None = None, *,
             match: AttemptFilter | None = None) -> list[AttemptRecord]:
        """The last ``n`` attempts (optionally of one service, and those ``match`` keeps), oldest first."""
        return [record for _, record in self.numbered_tail(n, match=AttemptFilter.of(match, service=service))]

    def numbered_tail(self, n: int, *, match: AttemptFilter | None = None,
                      after_id: int = 0) -> list[tuple[int, AttemptRecord]]:
        """The last ``n`` attempts ``match`` keeps with a row number above ``after_id``, oldest first,
        each with its row number (a reader following the journal asks again after the last one)."""
        t = exchange_attempts
        stmt = select(t).where(t.c.id > after_id).order_by(t.c.id.desc()).limit(n)
        for column, value in (match or AttemptFilter()).conditions():
            stmt = stmt.where(t.c[column] == value)
        try:
            with self._lock, self.engine.connect() as conn:
                rows = [(int(m["id"]), AttemptRecord(**{k: m[k] for k in _FIELDS}))
                        for m in conn.execute(stmt).mappings()]
        except SQLAlchemyError as exc:
            raise self._fail("read the tail", exc) from exc
        return list(reversed(rows))

    def for_message(self, message_id: str) -> list[AttemptRecord]:
        """Every attempt carrying ``message_id``, in order."""
        t = exchange_attempts
        stmt = select(t).where(t.c.message_id == message_id).order_by(t.c.id)
        return self._rows(stmt, f"read message {message_id}")

    def between(self, since: dt.datetime, until: dt.datetime | None = None) -> list[AttemptRecord]:
        """Attempts started in ``[since, until)``, in order."""
        t = exchange_attempts
        stmt = select(t).where(t.c.at >= _db_time(since)).order_by(t.c.id)
        if until is not None:
            stmt = stmt.where(t.c.at < _db_time(until))
        return self._rows(stmt, "read the window")

    def stats(self, since: dt.datetime, until: dt.datetime | None = None) -> list[ServiceStats]:
        """Per (system, service) figures for attempts started in ``[since, until)``."""
        return compute_stats(self.between(since, until))


def _db_time(value: dt.datetime) -> dt.datetime:
    """A bound value comparable with stored times (SQLite stores naive UTC text)."""
    return _utc(value)


def compute_stats(rows: Iterable[AttemptRecord]) -> list[ServiceStats]:
    """Aggregate attempts by (system, service); a call is a distinct messageId + operation."""
    groups: dict[tuple[str, str], list[AttemptRecord]] = {}
    for row in rows:
        groups.setdefault((row.system, row.service), []).append(row)
    out: list[ServiceStats] = []
    for (system, service), items in sorted(groups.items()):
        last: dict[tuple[str, str], AttemptRecord] = {}
        for row in items:
            key = (row.message_id, row.operation)
            if key not in last or row.attempt >= last[key].attempt:
                last[key] = row
        latencies = [r.latency_ms for r in items if r.outcome != "circuit-open"]
        out.append(ServiceStats(
            system=system, service=service, calls=len(last), attempts=len(items),
            retries=sum(r.outcome == "retry" for r in items),
            failures=sum(r.outcome in FAILED_OUTCOMES for r in last.values()),
            exhausted=sum(r.exhausted for r in last.values()),
            circuit_open=sum(r.outcome == "circuit-open" for r in items),
            p50_ms=percentile(latencies, 50), p95_ms=percentile(latencies, 95),
            max_ms=max(latencies) if latencies else None,
        ))
    return out
