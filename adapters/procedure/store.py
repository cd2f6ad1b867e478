"""Durable flow state: flows and their step history, in the project's database (SQLAlchemy Core).

Crash-safety contract (what the runner in :mod:`adapters.procedure.machine` relies on)
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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, RowMapping

from adapters.core.errors import ConflictError, NotFoundError
from adapters.procedure.models import FlowRecord, FlowStatus, NormVerdict, StepRecord

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
        metadata.create_all(engine)

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
        with self.engine.begin() as conn:
            if self._flow_row(conn, flow_id) is not None:
                raise ConflictError(f"flow {flow_id} already exists", flow_id=flow_id)
            conn.execute(insert(flows_table).values(
                flow_id=flow_id, service=service, operation=operation, diagram=diagram,
                current_step=start_step, status=FlowStatus.RUNNING.value, data=dict(data),
                error=None, created_at=_utc(now), updated_at=_utc(now)))
        return self.get_flow(flow_id)

    def get_flow(self, flow_id: str) -> FlowRecord:
        with self.engine.connect() as conn:
            row = self._flow_row(conn, flow_id)
        if row is None:
            raise NotFoundError(f"flow {flow_id} not found", flow_id=flow_id)
        return self._flow(row)

    def list_flows(self, status: FlowStatus | None = None) -> list[FlowRecord]:
        query = select(flows_table).order_by(flows_table.c.created_at, flows_table.c.flow_id)
        if status is not None:
            query = query.where(flows_table.c.status == status.value)
        with self.engine.connect() as conn:
            return [self._flow(r) for r in conn.execute(query).mappings()]

    # ------------------------------------------------------------------ steps

    def step_started(self, *, flow_id: str, step_id: str, now: dt.datetime,
                     norm_min: float | None, norm_max: float | None) -> StepRecord:
        """Commit "step started" (or one more attempt of a step left open by a crash)."""
        key = idempotency_key(flow_id, step_id)
        with self.engine.begin() as conn:
            row = self._step_row(conn, flow_id, step_id)
            if row is None:
                conn.execute(insert(steps_table).values(
                    flow_id=flow_id, step=step_id, idempotency_key=key, attempts=1,
                    first_started_at=_utc(now), started_at=_utc(now), norm_min_seconds=norm_min,
                    norm_max_seconds=norm_max, detail=""))
            elif row["finished_at"] is not None:
                raise ConflictError(f"flow {flow_id}: step {step_id} is already finished",
                                    flow_id=flow_id, step=step_id)
            else:
                conn.execute(update(steps_table).where(steps_table.c.id == row["id"]).values(
                    attempts=row["attempts"] + 1, started_at=_utc(now), error=None))
        return self.step(flow_id, step_id)

    def step_finished(self, *, flow_id: str, step_id: str, finished_at: dt.datetime,
                      duration_seconds: float, verdict: NormVerdict, outcome: str, detail: str,
                      data_update: Mapping[str, Any], next_step: str, status: FlowStatus) -> FlowRecord:
        """Commit the step's end and the flow's move, atomically."""
        with self.engine.begin() as conn:
            flow = self._flow_row(conn, flow_id)
            if flow is None:
                raise NotFoundError(f"flow {flow_id} not found", flow_id=flow_id)
            if flow["current_step"] != step_id or FlowStatus(flow["status"]).terminal:
                raise ConflictError(
                    f"flow {flow_id} is at step {flow['current_step']} ({flow['status']}), "
                    f"cannot finish step {step_id}", flow_id=flow_id, step=step_id)
            within = None if verdict is NormVerdict.NO_NORM else verdict is NormVerdict.WITHIN
            result = conn.execute(update(steps_table).where(
                steps_table.c.flow_id == flow_id, steps_table.c.step == step_id,
                steps_table.c.finished_at.is_(None)).values(
                finished_at=_utc(finished_at), duration_seconds=duration_seconds,
                within_norm=within, outcome=outcome, detail=detail, error=None))
            if result.rowcount != 1:
                raise ConflictError(f"flow {flow_id}: step {step_id} was not open",
                                    flow_id=flow_id, step=step_id)
            data = {**flow["data"], **data_update}
            conn.execute(update(flows_table).where(flows_table.c.flow_id == flow_id).values(
                current_step=next_step, status=status.value, data=data, error=None,
                updated_at=_utc(finished_at)))
        return self.get_flow(flow_id)

    def step_failed(self, *, flow_id: str, step_id: str, error: str, now: dt.datetime) -> None:
        """Record that a step raised: the step stays open, the flow is ``failed`` and resumable."""
        with self.engine.begin() as conn:
            conn.execute(update(steps_table).where(
                steps_table.c.flow_id == flow_id, steps_table.c.step == step_id,
                steps_table.c.finished_at.is_(None)).values(error=error))
            conn.execute(update(flows_table).where(flows_table.c.flow_id == flow_id).values(
                status=FlowStatus.FAILED.value, error=error, updated_at=_utc(now)))

    def step(self, flow_id: str, step_id: str) -> StepRecord:
        with self.engine.connect() as conn:
            row = self._step_row(conn, flow_id, step_id)
        if row is None:
            raise NotFoundError(f"flow {flow_id}: step {step_id} has no record",
                                flow_id=flow_id, step=step_id)
        return self._step(row)

    def history(self, flow_id: str) -> list[StepRecord]:
        query = select(steps_table).where(steps_table.c.flow_id == flow_id).order_by(steps_table.c.id)
        with self.engine.connect() as conn:
            return [self._step(r) for r in conn.execute(query).mappings()]

    # ------------------------------------------------------------------ rows

    @staticmethod
    def _flow_row(conn: Connection, flow_id: str) -> RowMapping | None:
        return conn.execute(select(flows_table).where(flows_table.c.flow_id == flow_id)).mappings().first()

    @staticmethod
    def _step_row(conn: Connection, flow_id: str, step_id: str) -> RowMapping | None:
        return conn.execute(select(steps_table).where(
            steps_table.c.flow_id == flow_id, steps_table.c.step == step_id)).mappings().first()

    @staticmethod
    def _flow(row: RowMapping) -> FlowRecord:
        return FlowRecord(
            flow_id=row["flow_id"], service=row["service"], operation=row["operation"],
            diagram=row["diagram"], current_step=row["current_step"], status=FlowStatus(row["status"]),
            data=dict(row["data"] or {}), error=row["error"], created_at=_utc(row["created_at"]),
            updated_at=_utc(row["updated_at"]))

    @staticmethod
    def _step(row: RowMapping) -> StepRecord:
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
