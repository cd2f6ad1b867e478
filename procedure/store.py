"""Durable flow state: flows and their step history, in the project's database (SQLAlchemy Core).

Crash-safety contract (what the runner in :mod:`procedure.machine` relies on)
------------------------------------------------------------------------------------
1. Before a step's implementation is called, :meth:`FlowStore.step_started` commits a history row
   for (flow, step) with the step's **idempotency key** ``"<flow id>/<step id>"``. The key is
   stable: it depends only on the flow and the step (diagrams are acyclic, so a step runs at most
   once per flow).
2. The implementation performs its effect on the external system **passing that key** (payment
   reference, registration request id, gateway messageId...). The external system deduplicates
   by it: a second call with the same key returns the first call's result and does not pay or
   register again.
3. After the implementation returns, :meth:`FlowStore.step_finished` commits, in **one
   transaction**, the step's end (time, duration, norm verdict, outcome), the data it produced,
   and the flow's move to the next step.

If the process dies anywhere between 1 and 3, the history row stays open (``finished_at`` NULL)
and the flow still points at the step. Resuming re-runs the step with the SAME key (``attempts``
is incremented), so the external effect happens once. If it dies after 3, the step is done and
resuming starts at the next one. There is no state in which a step is recorded done but the flow
has not moved, nor the reverse.

:meth:`FlowStore.advance` is 3 and the next step's 1 in **one** transaction (the runner's path):
the next step's history row is committed before its implementation is called, as 1 requires, and
together with the previous step's end. A crash after that commit leaves the next step open with
one attempt, exactly as a crash at the start of its implementation would; resuming re-runs it
with the same key.

Database failures
-----------------
A write or read the database refuses (disk full, damaged file, lock timeout) raises
:class:`FlowStoreError`: typed (retryable unless the file is damaged), naming the flow and the
database (password hidden) and the database's reason, never the statement's parameters (the
flow's data). Each operation is one transaction, so nothing of a failed one is kept: once the
database is writable again, resuming the flow continues from what was committed (a step whose end
could not be recorded runs again, with the same idempotency key, as after a crash).

Cost: the statements are built once (module level, bound parameters), and nothing is read back
that the store has just written: records are returned from the values written (the flow's data
normalised through JSON, as a read would return it). A flow of 11 steps is 13 transactions
instead of 23.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from adapters.core.db import JsonText, PreparedStatement, create_tables, database_reason, redact_url
from adapters.core.errors import ConflictError, EgovError, NotFoundError
from procedure.models import FlowRecord, FlowStatus, NormVerdict, StepRecord

__all__ = ["FlowStore", "FlowStoreError", "NextStep", "idempotency_key"]


class FlowStoreError(EgovError):
    """The flow state could not be written or read (disk full, locked, damaged database).

    The failed operation committed nothing. Retryable when the database refused for the moment
    (full, locked, unreachable: the driver's ``OperationalError``): once it is writable again, the
    flow resumes from its last committed step (``egov flow resume FLOW_ID``). A damaged file (not a
    database, malformed) is final until someone repairs it.
    """

    code = "EGOV130"
    retryable = True


metadata = MetaData()

flows_table = Table(
    "procedure_flows", metadata,
    Column("flow_id", String(64), primary_key=True),
    Column("service", String(64), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("diagram", String(32), nullable=False),
    Column("current_step", String(16), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

steps_table = Table(
    "procedure_steps", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow_id", String(64), ForeignKey("procedure_flows.flow_id"), nullable=False, index=True),
    Column("step", String(16), nullable=False),
    Column("idempotency_key", String(96), nullable=False, unique=True),
    Column("attempts", Integer, nullable=False),
    Column("first_started_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("duration_seconds", Float, nullable=True),
    Column("norm_min_seconds", Float, nullable=True),
    Column("norm_max_seconds", Float, nullable=True),
    Column("within_norm", Boolean, nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("detail", Text, nullable=False, default=""),
    Column("error", Text, nullable=True),
    UniqueConstraint("flow_id", "step", name="uq_procedure_steps_flow_step"),
)


# Built once: building and cache-keying a statement costs more than running it on SQLite.
_F, _S = flows_table.c, steps_table.c
_OPEN = (FlowStatus.RUNNING.value, FlowStatus.FAILED.value)
_SELECT_FLOW = select(flows_table).where(_F.flow_id == bindparam("p_flow"))
_SELECT_STEP = select(steps_table).where(_S.flow_id == bindparam("p_flow"), _S.step == bindparam("p_step"))
_HISTORY = select(steps_table).where(_S.flow_id == bindparam("p_flow")).order_by(_S.id)
_LOCK_STEP = _SELECT_STEP.with_for_update()
"""For a read-then-write of the step row (its attempt count): on PostgreSQL, concurrent starts of
one step would otherwise each read the same count and lose increments (READ COMMITTED); SQLite
renders no FOR UPDATE and serialises writers itself."""
_INSERT_FLOW = insert(flows_table)
_STEP_KEYS = [c.key for c in steps_table.columns if c.key != "id"]
_INSERT_STEP = PreparedStatement(insert(steps_table), column_keys=_STEP_KEYS)
_RESTART_STEP = update(steps_table).where(_S.id == bindparam("p_id")).values(
    attempts=bindparam("p_attempts"), started_at=bindparam("p_now"), error=None)
_FINISH_STEP = PreparedStatement(update(steps_table).where(
    _S.flow_id == bindparam("p_flow"), _S.step == bindparam("p_step"), _S.finished_at.is_(None)).values(
    finished_at=bindparam("p_finished"), duration_seconds=bindparam("p_duration"),
    within_norm=bindparam("p_within"), outcome=bindparam("p_outcome"), detail=bindparam("p_detail"),
    error=None))
# ``or_`` rather than ``in_``: an IN list is an expanding parameter, re-rendered at every execution
_MOVE_FLOW = PreparedStatement(update(flows_table).where(
    _F.flow_id == bindparam("p_flow"), _F.current_step == bindparam("p_step"),
    or_(*(_F.status == status for status in _OPEN))).values(
    current_step=bindparam("p_next"), status=bindparam("p_status"), data=bindparam("p_data", type_=JSON),
    error=None, updated_at=bindparam("p_now")))
"""The hot statements (every step boundary) are :class:`PreparedStatement` objects: compiled once
per dialect, run with ``exec_driver_sql`` (same SQL, same type conversions, same events)."""


@dataclass(frozen=True)
class NextStep:
    """The step to start in the same transaction as the previous step's end, with its norm."""

    step_id: str
    norm_min: float | None = None
    norm_max: float | None = None


def _as_stored(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as the JSON column returns it (lists for tuples, string keys...)."""
    return _serialised(data)[1]


def _serialised(data: Mapping[str, Any]) -> tuple[JsonText, dict[str, Any]]:
    """``data`` serialised once: the text the JSON column stores, and the value a read returns."""
    text = JsonText(json.dumps(dict(data)))
    stored: dict[str, Any] = json.loads(text)
    return text, stored


def _storable(text: str) -> str:
    """Free text (an error, a step's detail) as every database takes it: PostgreSQL's text type
    cannot hold NUL, which an error echoing received bytes may contain."""
    return text.replace("\x00", "\\x00")


def idempotency_key(flow_id: str, step_id: str) -> str:
    """The stable key of one step of one flow, passed to the external system."""
    return f"{flow_id}/{step_id}"


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes; everything we store is UTC.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _opt_utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else _utc(value)


class FlowStore:
    """Flows and step history. Creates its tables on construction (idempotent)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with self._database("create its tables"):
            create_tables(engine, metadata)

    @contextlib.contextmanager
    def _database(self, action: str, flow_id: str | None = None) -> Iterator[None]:
        """Database failures inside become :class:`FlowStoreError`; an ``IntegrityError`` passes
        (the callers turn it into a conflict)."""
        try:
            yield
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            url = redact_url(self.engine.url)
            about = f" of flow {flow_id}" if flow_id is not None else ""
            raise FlowStoreError(f"flow state at {url}: cannot {action}{about}: {database_reason(exc)}",
                                 retryable=isinstance(exc, OperationalError), url=url,
                                 **({"flow_id": flow_id} if flow_id is not None else {})) from exc

    @classmethod
    def from_url(cls, url: str | None = None) -> FlowStore:
        """Open the store through the project's engine factory (default: settings' database URL)."""
        from adapters.core.db import make_engine  # the project's one engine factory

        return cls(make_engine(url))

    @classmethod
    def in_memory(cls) -> FlowStore:
        """A private SQLite database in memory (tests, dry runs). Not durable, by definition."""
        return cls.from_url("sqlite://")

    # ------------------------------------------------------------------ flows

    def create_flow(self, *, flow_id: str, service: str, operation: str, diagram: str,
                    start_step: str, data: Mapping[str, Any], now: dt.datetime) -> FlowRecord:
        stored = _as_stored(data)
        try:
            with self._database("create the record", flow_id), self.engine.begin() as conn:
                if self._flow_row(conn, flow_id) is not None:
                    raise ConflictError(f"flow {flow_id} already exists", flow_id=flow_id)
                conn.execute(_INSERT_FLOW, {
                    "flow_id": flow_id, "service": service, "operation": operation, "diagram": diagram,
                    "current_step": start_step, "status": FlowStatus.RUNNING.value, "data": stored,
                    "error": None, "created_at": _utc(now), "updated_at": _utc(now)})
        except IntegrityError as exc:
            # created by another connection between our read and our insert (PostgreSQL's READ
            # COMMITTED lets both read "absent"; the primary key lets one in)
            raise ConflictError(f"flow {flow_id} already exists", flow_id=flow_id) from exc
        return FlowRecord(flow_id=flow_id, service=service, operation=operation, diagram=diagram,
                          current_step=start_step, status=FlowStatus.RUNNING, data=stored, error=None,
                          created_at=_utc(now), updated_at=_utc(now))

    def get_flow(self, flow_id: str) -> FlowRecord:
        with self._database("read the record", flow_id), self.engine.connect() as conn:
            row = self._flow_row(conn, flow_id)
        if row is None:
            raise NotFoundError(f"flow {flow_id} not found", flow_id=flow_id)
        return self._flow(row)

    def list_flows(self, status: FlowStatus | None = None) -> list[FlowRecord]:
        query = select(flows_table).order_by(flows_table.c.created_at, flows_table.c.flow_id)
        if status is not None:
            query = query.where(flows_table.c.status == status.value)
        with self._database("list the flows"), self.engine.connect() as conn:
            return [self._flow(r) for r in conn.execute(query).mappings()]

    def find_flows(self, *, status: FlowStatus | None = None, service: str | None = None,
                   diagram: str | None = None, since: dt.datetime | None = None,
                   limit: int = 100) -> list[FlowRecord]:
        """Flows matching every filter given (``since``: created at or after), newest first, at
        most ``limit``."""
        query = select(flows_table).order_by(_F.created_at.desc(), _F.flow_id).limit(limit)
        if status is not None:
            query = query.where(_F.status == status.value)
        if service is not None:
            query = query.where(_F.service == service)
        if diagram is not None:
            query = query.where(_F.diagram == diagram)
        if since is not None:
            query = query.where(_F.created_at >= _utc(since))
        with self.engine.connect() as conn:
            return [self._flow(r) for r in conn.execute(query).mappings()]

    def overdue_flows(self, today: dt.date, *, service: str | None = None, limit: int = 1000) -> list[FlowRecord]:
        """The search filter "overdue": registered applications without a decision (the flow not
        ended) whose review deadline is before ``today``, the most overdue first."""
        overdue = []
        for flow in self.open_flows(limit=100_000):
            deadline = flow.data.get("deadline")
            if (isinstance(deadline, str) and dt.date.fromisoformat(deadline) < today
                    and (service is None or flow.service == service)):
                overdue.append(flow)
        overdue.sort(key=lambda f: (str(f.data["deadline"]), f.flow_id))
        return overdue[:limit]

    def open_flows(self, *, updated_before: dt.datetime | None = None, limit: int = 1000) -> list[FlowRecord]:
        """Flows not ended (running or failed), least recently updated first; ``updated_before``:
        only those without a change since then."""
        query = select(flows_table).where(or_(*(_F.status == s for s in _OPEN))).order_by(
            _F.updated_at, _F.flow_id).limit(limit)
        if updated_before is not None:
            query = query.where(_F.updated_at < _utc(updated_before))
        with self.engine.connect() as conn:
            return [self._flow(r) for r in conn.execute(query).mappings()]

    # ------------------------------------------------------------------ steps

    def step_started(self, *, flow_id: str, step_id: str, now: dt.datetime,
                     norm_min: float | None, norm_max: float | None) -> StepRecord:
        """Commit "step started" (or one more attempt of a step left open by a crash)."""
        try:
            with self._database(f"record the start of step {step_id}", flow_id), self.engine.begin() as conn:
                return self._start(conn, flow_id, step_id, now, norm_min, norm_max)
        except IntegrityError as exc:
            # another runner inserted the step's row between our read and our insert
            raise ConflictError(f"flow {flow_id}: step {step_id} was started concurrently by another runner",
                                flow_id=flow_id, step=step_id) from exc

    def step_finished(self, *, flow_id: str, step_id: str, finished_at: dt.datetime,
                      duration_seconds: float, verdict: NormVerdict, outcome: str, detail: str,
                      data_update: Mapping[str, Any], next_step: str, status: FlowStatus) -> FlowRecord:
        """Commit the step's end and the flow's move, atomically."""
        with self._database(f"record the end of step {step_id}", flow_id), self.engine.begin() as conn:
            flow = self._flow_row(conn, flow_id)
            if flow is None:
                raise NotFoundError(f"flow {flow_id} not found", flow_id=flow_id)
            moved = self._finish(conn, self._flow(flow), step_id, finished_at, duration_seconds, verdict,
                                 outcome, detail, data_update, next_step, status)
        return moved

    def advance(self, *, flow: FlowRecord, step_id: str, finished_at: dt.datetime, duration_seconds: float,
                verdict: NormVerdict, outcome: str, detail: str, data_update: Mapping[str, Any],
                next_step: str, status: FlowStatus,
                start_next: NextStep | None = None) -> tuple[FlowRecord, StepRecord | None]:
        """:meth:`step_finished` and, when the flow goes on (``status`` running) and ``start_next``
        names ``next_step``, :meth:`step_started` of the next step, in ONE transaction.

        ``flow`` is the record the caller holds (as this store returned it); its data is the base
        the step's ``data_update`` is merged into. It is not trusted blindly: the flow must still be
        at ``step_id`` and open, and the step's history row open, or nothing is written.
        Returns the moved flow and the next step's record (``None`` if none was started).
        """
        starting = start_next is not None and status is FlowStatus.RUNNING and start_next.step_id == next_step
        try:
            with self._database(f"record the end of step {step_id}", flow.flow_id), self.engine.begin() as conn:
                moved = self._finish(conn, flow, step_id, finished_at, duration_seconds, verdict, outcome,
                                     detail, data_update, next_step, status)
                if not starting:
                    return moved, None
                assert start_next is not None
                # a fresh step (diagrams are acyclic): one INSERT; a row already there is the rare
                # path below, which starts it the general way
                record = self._insert_step(conn, flow.flow_id, next_step, finished_at, start_next.norm_min,
                                           start_next.norm_max)
                return moved, record
        except IntegrityError:
            if not starting:
                raise
        assert start_next is not None
        moved = self.step_finished(flow_id=flow.flow_id, step_id=step_id, finished_at=finished_at,
                                   duration_seconds=duration_seconds, verdict=verdict, outcome=outcome,
                                   detail=detail, data_update=data_update, next_step=next_step, status=status)
        return moved, self.step_started(flow_id=flow.flow_id, step_id=next_step, now=finished_at,
                                        norm_min=start_next.norm_min, norm_max=start_next.norm_max)

    def step_failed(self, *, flow_id: str, step_id: str, error: str, now: dt.datetime) -> None:
        """Record that a step raised: the step stays open, the flow is ``failed`` and resumable."""
        error = _storable(error)
        with self._database(f"record the failure of step {step_id}", flow_id), self.engine.begin() as conn:
            conn.execute(update(steps_table).where(
                steps_table.c.flow_id == flow_id, steps_table.c.step == step_id,
                steps_table.c.finished_at.is_(None)).values(error=error))
            conn.execute(update(flows_table).where(flows_table.c.flow_id == flow_id).values(
                status=FlowStatus.FAILED.value, error=error, updated_at=_utc(now)))

    def step(self, flow_id: str, step_id: str) -> StepRecord:
        with self._database(f"read step {step_id}", flow_id), self.engine.connect() as conn:
            row = self._step_row(conn, flow_id, step_id)
        if row is None:
            raise NotFoundError(f"flow {flow_id}: step {step_id} has no record",
                                flow_id=flow_id, step=step_id)
        return self._step(row)

    def flow_with_history(self, flow_id: str) -> tuple[FlowRecord, list[StepRecord]]:
        """The flow and its step history, read on one connection (what a state query shows)."""
        with self.engine.connect() as conn:
            row = self._flow_row(conn, flow_id)
            if row is None:
                raise NotFoundError(f"flow {flow_id} not found", flow_id=flow_id)
            steps = [self._step(r) for r in conn.execute(_HISTORY, {"p_flow": flow_id}).mappings()]
        return self._flow(row), steps

    def history(self, flow_id: str) -> list[StepRecord]:
        with self._database("read the history", flow_id), self.engine.connect() as conn:
            return [self._step(r) for r in conn.execute(_HISTORY, {"p_flow": flow_id}).mappings()]

    # ------------------------------------------------------------------ rows

    def _start(self, conn: Connection, flow_id: str, step_id: str, now: dt.datetime,
               norm_min: float | None, norm_max: float | None) -> StepRecord:
        row = conn.execute(_LOCK_STEP, {"p_flow": flow_id, "p_step": step_id}).mappings().first()
        if row is None:
            return self._insert_step(conn, flow_id, step_id, now, norm_min, norm_max)
        if row["finished_at"] is not None:
            raise ConflictError(f"flow {flow_id}: step {step_id} is already finished",
                                flow_id=flow_id, step=step_id)
        attempts = row["attempts"] + 1
        conn.execute(_RESTART_STEP, {"p_id": row["id"], "p_attempts": attempts, "p_now": _utc(now)})
        return self._step({**row, "attempts": attempts, "started_at": _utc(now), "error": None})

    @staticmethod
    def _insert_step(conn: Connection, flow_id: str, step_id: str, now: dt.datetime,
                     norm_min: float | None, norm_max: float | None) -> StepRecord:
        values: dict[str, Any] = {
            "flow_id": flow_id, "step": step_id, "idempotency_key": idempotency_key(flow_id, step_id),
            "attempts": 1, "first_started_at": _utc(now), "started_at": _utc(now), "finished_at": None,
            "duration_seconds": None, "norm_min_seconds": norm_min, "norm_max_seconds": norm_max,
            "within_norm": None, "outcome": None, "detail": "", "error": None}
        _INSERT_STEP.execute(conn, values)
        return FlowStore._step(values)

    def _finish(self, conn: Connection, flow: FlowRecord, step_id: str, finished_at: dt.datetime,
                duration_seconds: float, verdict: NormVerdict, outcome: str, detail: str,
                data_update: Mapping[str, Any], next_step: str,
                status: FlowStatus) -> FlowRecord:
        """The step's end and the flow's move; both guarded (flow at the step and open, step open),
        so a stale ``flow`` cannot overwrite anything: it fails with the error a read would give."""
        flow_id = flow.flow_id
        within = None if verdict is NormVerdict.NO_NORM else verdict is NormVerdict.WITHIN
        # ``flow.data`` is already as stored (the store returned it): only the update is made so,
        # and the whole is serialised once for the column, not parsed back
        data = {**flow.data, **_as_stored(data_update)} if data_update else dict(flow.data)
        text = JsonText(json.dumps(data))
        moved = _MOVE_FLOW.execute(conn, {
            "p_flow": flow_id, "p_step": step_id, "p_next": next_step, "p_status": status.value,
            "p_data": text, "p_now": _utc(finished_at)})
        if moved.rowcount != 1:
            current = self._flow_row(conn, flow_id)
            if current is None:
                raise NotFoundError(f"flow {flow_id} not found", flow_id=flow_id)
            raise ConflictError(
                f"flow {flow_id} is at step {current['current_step']} ({current['status']}), "
                f"cannot finish step {step_id}", flow_id=flow_id, step=step_id)
        finished = _FINISH_STEP.execute(conn, {
            "p_flow": flow_id, "p_step": step_id, "p_finished": _utc(finished_at),
            "p_duration": duration_seconds, "p_within": within, "p_outcome": outcome, "p_detail": _storable(detail)})
        if finished.rowcount != 1:  # raising rolls the flow's move back
            raise ConflictError(f"flow {flow_id}: step {step_id} was not open", flow_id=flow_id, step=step_id)
        return FlowRecord(flow_id=flow_id, service=flow.service, operation=flow.operation,
                          diagram=flow.diagram, current_step=next_step, status=status, data=data,
                          error=None, created_at=flow.created_at, updated_at=_utc(finished_at))

    @staticmethod
    def _flow_row(conn: Connection, flow_id: str) -> RowMapping | None:
        return conn.execute(_SELECT_FLOW, {"p_flow": flow_id}).mappings().first()

    @staticmethod
    def _step_row(conn: Connection, flow_id: str, step_id: str) -> RowMapping | None:
        return conn.execute(_SELECT_STEP, {"p_flow": flow_id, "p_step": step_id}).mappings().first()

    @staticmethod
    def _flow(row: Mapping[Any, Any]) -> FlowRecord:
        return FlowRecord(
            flow_id=row["flow_id"], service=row["service"], operation=row["operation"],
            diagram=row["diagram"], current_step=row["current_step"], status=FlowStatus(row["status"]),
            data=dict(row["data"] or {}), error=row["error"], created_at=_utc(row["created_at"]),
            updated_at=_utc(row["updated_at"]))

    @staticmethod
    def _step(row: Mapping[Any, Any]) -> StepRecord:
        within = row["within_norm"]
        if row["finished_at"] is None:
            verdict = None
        elif within is None:
            verdict = NormVerdict.NO_NORM
        else:
            verdict = NormVerdict.WITHIN if within else NormVerdict.OVER
        return StepRecord(
            flow_id=row["flow_id"], step=row["step"], idempotency_key=row["idempotency_key"],
            attempts=row["attempts"], first_started_at=_utc(row["first_started_at"]),
            started_at=_utc(row["started_at"]), finished_at=_opt_utc(row["finished_at"]),
            duration_seconds=row["duration_seconds"], norm_min_seconds=row["norm_min_seconds"],
            norm_max_seconds=row["norm_max_seconds"], norm_verdict=verdict, outcome=row["outcome"],
            detail=row["detail"] or "", error=row["error"])
