"""The gateway simulator's dedup store is bounded: a retention window and a byte cap (issue 11, item 11).

Over real HTTP, 30 answers of about 1 MB each against a 6 MB cap: the store stays within the cap, the
newest messageIds are still answered from the store (the backend is not called again), the oldest
are gone. Retention is shown on the store itself with an injected clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from lxml import etree

from adapters.core.xmlsig import VerificationService
from simulators.egov_gateway import EchoBackend, GatewaySimulator
from simulators.egov_gateway.state import DedupStore, StoredAnswer
from tests.fixtures.gateway import ECHO_SERVICE, SENDER_BIN, SENDER_ID, SENDER_PASSWORD, GatewayEnv, GatewayKeys

CAP = 6 * 1024 * 1024


@pytest.fixture
def capped_gateway(gateway_keys: GatewayKeys) -> Iterator[tuple[GatewaySimulator, EchoBackend]]:
    sim = GatewaySimulator(key=gateway_keys.gateway.key_material,
                           verification=VerificationService(gateway_keys.validator), dedup_max_bytes=CAP)
    sim.add_sender(SENDER_ID, SENDER_PASSWORD, bin=SENDER_BIN)
    echo = EchoBackend()
    sim.register_backend(ECHO_SERVICE, echo)
    sim.start()
    try:
        yield sim, echo
    finally:
        sim.stop()


def big_payload(n: int) -> etree._Element:
    data = etree.Element("{urn:test}blob", n=str(n))
    data.text = "x" * (1024 * 1024)
    return data


def test_thirty_large_answers_stay_within_the_cap(capped_gateway: tuple[GatewaySimulator, EchoBackend],
                                                  gateway_keys: GatewayKeys) -> None:
    sim, echo = capped_gateway
    env = GatewayEnv(sim, echo, gateway_keys, faults=None)  # type: ignore[arg-type]
    with env.client() as client:
        ids = [str(uuid.uuid4()) for _ in range(30)]
        for n, mid in enumerate(ids):
            client.send_message(ECHO_SERVICE, big_payload(n), message_id=mid)
        assert sim.dedup.stored_bytes <= CAP
        assert 1 <= len(sim.dedup) < 30
        # the newest is replayed from the store: the backend is not called a second time
        client.send_message(ECHO_SERVICE, big_payload(29), message_id=ids[-1])
        assert echo.count(ids[-1]) == 1
        # the oldest was dropped: its messageId is a new message again
        client.send_message(ECHO_SERVICE, big_payload(0), message_id=ids[0])
        assert echo.count(ids[0]) == 2
    assert sim.dedup.stored_bytes <= CAP


def answer(mid: str, size: int = 10) -> StoredAnswer:
    import datetime as dt

    return StoredAnswer(mid, "S", "ECHO", b"x" * size, "SCSS001", dt.datetime(2024, 1, 1, tzinfo=dt.UTC))


def test_answers_expire_after_the_retention_window() -> None:
    clock = [1000.0]
    store = DedupStore(retention_seconds=60, max_bytes=1000, now=lambda: clock[0])
    store.put(answer("a"))
    clock[0] += 30
    store.put(answer("b"))
    assert store.replay("a") is not None and len(store) == 2
    clock[0] += 31  # a is 61 s old, b 31 s
    assert store.replay("a") is None
    assert store.replay("b") is not None
    assert len(store) == 1 and store.stored_bytes == 10


def test_the_cap_drops_the_oldest_and_claims_leave_nothing_behind() -> None:
    store = DedupStore(retention_seconds=60, max_bytes=25)
    for mid in ("a", "b", "c"):
        with store.claim(mid):
            store.put(answer(mid))
    assert store.get("a") is None and store.get("b") is not None and store.get("c") is not None
    assert store.stored_bytes == 20
    assert store._inflight == {}  # no lock kept per messageId once its claims are released


def test_bounds_must_be_positive() -> None:
    from adapters.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="positive"):
        DedupStore(retention_seconds=0)
