"""E-licensing's status notices, pulled from the gateway's async channel into a durable inbox.

The gateway keeps a notice until we acknowledge it. :meth:`NoticeInbox.pump` pulls every notice
waiting (``getMessages``), verifies each (:class:`~adapters.elicense.StatusNotificationConsumer`),
stores it under its messageId, and only then acknowledges it (``sendDeliveryNotification``): a
pump killed between the two finds the notice again and stores it once (the messageId is the
key); a notice that does not verify is counted, logged and left unacknowledged, without holding up
the others. Pumps in several processes at once are harmless for the same reasons.

:class:`InboxNotices` is the procedure's :class:`~procedure.ports.StatusNotices` port over the
inbox: the result step reads its application's notices from there (pumping first), so a step run
again after a crash, on another worker, still finds the notices an earlier attempt consumed.
The ``pump_notices`` task (:mod:`workers.tasks`) pumps at every sweep while flows are open, whether a
step waits or not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import JSON

from adapters.contracts.elicense import STATUS_NOTIFICATION_SERVICE_ID
from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.db import create_tables
from adapters.core.errors import DeadlineExceededError, EgovError
from adapters.elicense import StatusNotice

__all__ = ["InboxNotices", "NoticeInbox", "PumpResult"]

log = logging.getLogger("workers.notices")

metadata = MetaData()

notices_table = Table(
    "worker_status_notices", metadata,
    Column("message_id", String(128), primary_key=True),
    Column("application_number", String(64), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("notice", JSON, nullable=False),
)
_N = notices_table.c

POLL_INTERVAL = 0.2
"""Seconds between two pumps while a step waits for its notices."""


class PumpResult:
    """What one pump did: notices stored, seen again (stored earlier), refused (not verified)."""

    def __init__(self) -> None:
        self.stored = 0
        self.duplicates = 0
        self.refused = 0


class NoticeInbox:
    """The inbox table on the flow store's database, filled from ``gateway`` through ``consumer``.

    ``gateway``: an ``adapters.egov_gateway.GatewayClient`` (``get_messages``,
    ``send_delivery_notification``); ``consumer``: the ``StatusNotificationConsumer`` that verifies
    and reads a message. ``observe``: called with each pump's result (metrics)."""

    def __init__(self, engine: Engine, gateway: Any, consumer: Any, *, clock: Clock = SYSTEM_CLOCK,
                 observe: Callable[[PumpResult], None] | None = None) -> None:
        self.engine = engine
        self._gateway = gateway
        self._consumer = consumer
        self._clock = clock
        self._observe = observe
        create_tables(engine, metadata)

    def pump(self) -> PumpResult:
        """Pull, verify, store, then acknowledge every notice waiting at the gateway."""
        result = PumpResult()
        messages = self._gateway.get_messages(service_id=STATUS_NOTIFICATION_SERVICE_ID,
                                              message_type="NOTIFICATION")
        for message in messages:
            try:
                notice: StatusNotice = self._consumer.parse(message)
            except EgovError as exc:
                result.refused += 1
                log.warning("status notice %s refused, left unacknowledged: %s", message.message_id, exc,
                            extra={"message_id": message.message_id})
                continue
            if self._store(notice):
                result.stored += 1
            else:
                result.duplicates += 1
            self._gateway.send_delivery_notification(notice.message_id)
        if self._observe is not None:
            self._observe(result)
        return result

    def _store(self, notice: StatusNotice) -> bool:
        signer = notice.signer.describe() if hasattr(notice.signer, "describe") else notice.signer
        row = {"message_id": notice.message_id, "application_number": notice.application_number,
               "status": str(notice.status), "changed_at": notice.changed_at, "received_at": self._clock.now(),
               "notice": {**notice.model_dump(mode="json", exclude={"signer"}), "signer": signer}}
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(notices_table).values(**row))
        except IntegrityError:
            return False
        return True

    def of_application(self, application_number: str) -> list[StatusNotice]:
        """The application's notices stored so far, in the order of their changes."""
        query = select(_N.notice).where(_N.application_number == application_number).order_by(
            _N.changed_at, _N.message_id)
        with self.engine.connect() as conn:
            return [StatusNotice.model_validate(r[0]) for r in conn.execute(query)]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(notices_table)).scalar_one())


class InboxNotices:
    """The :class:`~procedure.ports.StatusNotices` port over an inbox (pumped on each read)."""

    def __init__(self, inbox: NoticeInbox, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.inbox = inbox
        self._sleep = sleep

    def fetch(self, *, application_number: str | None = None) -> list[StatusNotice]:
        if application_number is None:
            raise ValueError("the inbox is read by application number")
        self.inbox.pump()
        return self.inbox.of_application(application_number)

    def wait(self, *, application_number: str | None = None, deadline: float = 30.0) -> list[StatusNotice]:
        started = time.monotonic()
        while True:
            found = self.fetch(application_number=application_number)
            if found:
                return found
            if time.monotonic() - started >= deadline:
                raise DeadlineExceededError(f"no status notice of application {application_number} in "
                                            f"{deadline:g} s", application_number=application_number)
            self._sleep(POLL_INTERVAL)

