"""Who carries a flow now, and when a failed step is tried again: one row per flow, beside the store.

The flow store (:mod:`procedure.store`) stays the source of truth of a flow's state; this table only
says which task holds the flow (``owner`` until ``lease_until``) and, after a retryable failure,
when the flow is due again (``retry_at``) and how many failures in a row it had.

- :meth:`FlowClaims.claim` takes the flow for one step: it succeeds when nobody holds it or the
  holder's lease ran out (a worker killed mid-step never releases). At most one task runs a
  flow's step at a time while leases are renewed in time; if one is not (a stalled process), a
  second runner is still harmless: every external effect carries the step's idempotency key,
  and the store refuses a second end of the same step.
- :meth:`FlowClaims.renew` extends the lease while the step runs (:class:`Heartbeat`).
- :meth:`FlowClaims.release` lets it go, with the retry schedule.
- :meth:`FlowClaims.orphans`: open flows that no task carries (the message was lost, its worker
  died) and that made no progress for a while, or whose retry is due: the sweep queues them again.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.db import create_tables
from procedure.models import FlowStatus
from procedure.store import flows_table

__all__ = ["ClaimState", "FlowClaims", "Heartbeat"]

metadata = MetaData()

claims_table = Table(
    "worker_flow_claims", metadata,
    Column("flow_id", String(64), primary_key=True),
    Column("owner", String(128), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("retry_at", DateTime(timezone=True), nullable=True, index=True),
    Column("failures", Integer, nullable=False, default=0),
)
_C, _F = claims_table.c, flows_table.c
_SELECT_CLAIM = select(claims_table).where(_C.flow_id == bindparam("p_flow"))
"""Built once: read at every flow-state query of the API."""


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True)
class ClaimState:
    """A flow's claim row as read."""

    flow_id: str
    owner: str | None
    lease_until: dt.datetime | None
    retry_at: dt.datetime | None
    failures: int


class FlowClaims:
    """The claims table on the flow store's database (created here, idempotent)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_tables(engine, metadata)

    def claim(self, flow_id: str, owner: str, *, now: dt.datetime, lease_seconds: float) -> bool:
        """Take the flow for ``owner`` until ``now + lease_seconds``; False when another holds it."""
        until = _utc(now) + dt.timedelta(seconds=lease_seconds)
        free = or_(_C.owner.is_(None), _C.lease_until < _utc(now), _C.owner == owner)
        with self.engine.begin() as conn:
            taken = conn.execute(update(claims_table).where(_C.flow_id == flow_id, free).values(
                owner=owner, lease_until=until))
            if taken.rowcount == 1:
                return True
            exists = conn.execute(select(_C.flow_id).where(_C.flow_id == flow_id)).first()
        if exists is not None:
            return False
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(claims_table).values(flow_id=flow_id, owner=owner, lease_until=until,
                                                         retry_at=None, failures=0))
        except IntegrityError:  # another task inserted it first
            return False
        return True

    def renew(self, flow_id: str, owner: str, *, now: dt.datetime, lease_seconds: float) -> bool:
        """Extend ``owner``'s lease; False when it is no longer ``owner``'s."""
        with self.engine.begin() as conn:
            done = conn.execute(update(claims_table).where(_C.flow_id == flow_id, _C.owner == owner).values(
                lease_until=_utc(now) + dt.timedelta(seconds=lease_seconds)))
        return done.rowcount == 1

    def release(self, flow_id: str, owner: str, *, failures: int = 0, retry_at: dt.datetime | None = None) -> None:
        """Let the flow go; ``retry_at``: when it is due again after a failure (None: not by itself)."""
        with self.engine.begin() as conn:
            conn.execute(update(claims_table).where(_C.flow_id == flow_id, _C.owner == owner).values(
                owner=None, lease_until=None, failures=failures,
                retry_at=_utc(retry_at) if retry_at is not None else None))

    def schedule(self, flow_id: str, *, at: dt.datetime) -> None:
        """Make the flow due at ``at`` with its failures forgotten (an operator's resume)."""
        with self.engine.begin() as conn:
            done = conn.execute(update(claims_table).where(_C.flow_id == flow_id).values(
                retry_at=_utc(at), failures=0))
            if done.rowcount == 0:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(claims_table).values(flow_id=flow_id, owner=None, lease_until=None,
                                                                 retry_at=_utc(at), failures=0))
                except IntegrityError:
                    conn.execute(update(claims_table).where(_C.flow_id == flow_id).values(
                        retry_at=_utc(at), failures=0))

    def state(self, flow_id: str) -> ClaimState | None:
        with self.engine.connect() as conn:
            row = conn.execute(_SELECT_CLAIM, {"p_flow": flow_id}).mappings().first()
        if row is None:
            return None
        return ClaimState(flow_id=row["flow_id"], owner=row["owner"],
                          lease_until=_utc(row["lease_until"]) if row["lease_until"] else None,
                          retry_at=_utc(row["retry_at"]) if row["retry_at"] else None, failures=row["failures"])

    def orphans(self, *, now: dt.datetime, idle_seconds: float, limit: int = 500) -> list[tuple[str, str]]:
        """Open flows no live lease covers that are due, as (flow id, reason): ``orphan`` for one
        running without a change for ``idle_seconds``, ``retry`` for a failed one whose retry is
        due. Least recently changed first."""
        now = _utc(now)
        unheld = or_(_C.flow_id.is_(None), _C.owner.is_(None), _C.lease_until < now)
        running = and_(_F.status == FlowStatus.RUNNING.value,
                       _F.updated_at < now - dt.timedelta(seconds=idle_seconds),
                       or_(_C.retry_at.is_(None), _C.retry_at <= now))
        retry_due = and_(_F.status == FlowStatus.FAILED.value, _C.retry_at.is_not(None), _C.retry_at <= now)
        query = (select(_F.flow_id, _F.status)
                 .select_from(flows_table.outerjoin(claims_table, _C.flow_id == _F.flow_id))
                 .where(unheld, or_(running, retry_due)).order_by(_F.updated_at).limit(limit))
        with self.engine.connect() as conn:
            return [(str(fid), "orphan" if status == FlowStatus.RUNNING.value else "retry")
                    for fid, status in conn.execute(query)]


class Heartbeat:
    """Renews a claim every third of its lease while a step runs (a context manager)."""

    def __init__(self, claims: FlowClaims, flow_id: str, owner: str, *, lease_seconds: float,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self._claims, self._flow_id, self._owner, self._clock = claims, flow_id, owner, clock
        self._lease = lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{flow_id[:8]}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self._lease / 3):
            try:
                if not self._claims.renew(self._flow_id, self._owner, now=self._clock.now(),
                                          lease_seconds=self._lease):
                    return
            except Exception:  # the database blinked: try again at the next beat
                continue

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
