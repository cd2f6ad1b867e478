"""The status-notice inbox: stored under the messageId before it is acknowledged, once however often
it is pulled; a notice that does not verify is left unacknowledged without holding up the others."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from adapters.core.errors import DeadlineExceededError, RefusalReason, SignatureRefused
from adapters.elicense import StatusNotice
from procedure.store import FlowStore
from workers.notices import InboxNotices, NoticeInbox, PumpResult

T0 = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def _notice(message_id: str, number: str, status: str, minute: int) -> StatusNotice:
    return StatusNotice(message_id=message_id, application_number=number, status=status,  # type: ignore[arg-type]
                        status_name=status.title(), changed_at=T0 + dt.timedelta(minutes=minute),
                        licensor_code="KKSON", applicant_iin_bin="940140000385",
                        signer=SimpleNamespace(describe=lambda: "CN=E-licensing"))


class Gateway:
    """The gateway's async channel: messages stay until acknowledged; every call is recorded."""

    def __init__(self, notices: list[StatusNotice], forged: frozenset[str] = frozenset()) -> None:
        self.waiting = {n.message_id: n for n in notices}
        self.forged = forged
        self.log: list[str] = []

    def get_messages(self, **_: Any) -> list[Any]:
        self.log.append("get")
        return [SimpleNamespace(message_id=m) for m in self.waiting]

    def send_delivery_notification(self, message_id: str) -> None:
        self.log.append(f"ack {message_id}")
        self.waiting.pop(message_id, None)

    def parse(self, message: Any) -> StatusNotice:  # the consumer's verification
        if message.message_id in self.forged:
            raise SignatureRefused(RefusalReason.DIGEST_MISMATCH, "notice tampered with")
        return self.waiting[message.message_id]


@pytest.fixture
def store(tmp_path: Path) -> FlowStore:
    return FlowStore.from_url(f"sqlite:///{tmp_path / 'inbox.db'}")


def test_notices_are_stored_once_then_acknowledged(store: FlowStore) -> None:
    gateway = Gateway([_notice("m2", "A-1", "ISSUED", 2), _notice("m1", "A-1", "IN_PROGRESS", 1),
                       _notice("m3", "B-2", "SENT", 0)])
    pumped: list[PumpResult] = []
    inbox = NoticeInbox(store.engine, gateway, gateway, observe=pumped.append)
    assert inbox.pump().stored == 3
    assert gateway.log == ["get", "ack m2", "ack m1", "ack m3"] and gateway.waiting == {}
    assert [n.status for n in inbox.of_application("A-1")] == ["IN_PROGRESS", "ISSUED"]
    assert inbox.of_application("A-1")[0].signer == "CN=E-licensing"
    # a pump killed after storing, before acknowledging: the gateway hands the notice again
    gateway.waiting["m1"] = _notice("m1", "A-1", "IN_PROGRESS", 1)
    again = inbox.pump()
    assert (again.stored, again.duplicates) == (0, 1) and inbox.count() == 3
    assert [p.stored for p in pumped] == [3, 0]


def test_a_notice_that_does_not_verify_is_left_unacknowledged(store: FlowStore) -> None:
    gateway = Gateway([_notice("bad", "A-1", "ISSUED", 1), _notice("good", "A-1", "SENT", 0)],
                      forged=frozenset({"bad"}))
    inbox = NoticeInbox(store.engine, gateway, gateway)
    result = inbox.pump()
    assert (result.stored, result.refused) == (1, 1)
    assert "ack bad" not in gateway.log and list(gateway.waiting) == ["bad"]
    assert [n.message_id for n in inbox.of_application("A-1")] == ["good"]


def test_the_port_pumps_and_reads_by_application(store: FlowStore) -> None:
    gateway = Gateway([])
    port = InboxNotices(NoticeInbox(store.engine, gateway, gateway), sleep=lambda _: None)
    with pytest.raises(DeadlineExceededError):
        port.wait(application_number="A-1", deadline=0.0)
    gateway.waiting["m9"] = _notice("m9", "A-1", "ISSUED", 3)
    assert [n.message_id for n in port.wait(application_number="A-1", deadline=1.0)] == ["m9"]
    assert [n.message_id for n in port.fetch(application_number="A-1")] == ["m9"]  # a step run again finds it
