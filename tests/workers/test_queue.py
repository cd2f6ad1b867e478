"""The two task queues: the in-process thread pool, and Dramatiq over a real Redis."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.fixtures.redis import RedisServer
from workers.broker import BrokerQueue
from workers.errors import QueueUnavailable
from workers.queue import FLOW_STEP, PUMP_NOTICES, ThreadQueue


class Recorder:
    def __init__(self, expected: int) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], float]] = []
        self._lock = threading.Lock()
        self.done = threading.Event()
        self.expected = expected

    def handler(self, name: str) -> Any:
        def handle(*args: Any) -> None:
            with self._lock:
                self.calls.append((name, args, time.monotonic()))
                if len(self.calls) >= self.expected:
                    self.done.set()
        return handle


def test_the_thread_queue_runs_tasks_now_and_later() -> None:
    rec = Recorder(expected=3)
    queue = ThreadQueue(2)

    def broken() -> None:
        raise RuntimeError("a bug in a handler")

    queue.bind({FLOW_STEP: rec.handler(FLOW_STEP), PUMP_NOTICES: broken})
    sent = time.monotonic()
    queue.send(FLOW_STEP, "late", delay=0.3)
    queue.send(PUMP_NOTICES)  # logged, never propagated
    queue.send(FLOW_STEP, "a")
    queue.send(FLOW_STEP, "b")
    assert rec.done.wait(5)
    queue.close()
    order = [args[0] for _, args, _ in rec.calls]
    assert sorted(order[:2]) == ["a", "b"] and order[2] == "late"
    assert rec.calls[2][2] - sent >= 0.3
    with pytest.raises(KeyError):
        queue.send("no-such-task")


def test_the_broker_queue_carries_tasks_through_redis(redis_url: str) -> None:
    rec = Recorder(expected=2)
    queue = BrokerQueue(redis_url, heartbeat_seconds=5)
    queue.declare({FLOW_STEP: rec.handler(FLOW_STEP), PUMP_NOTICES: rec.handler(PUMP_NOTICES)})
    worker = queue.worker(2)
    worker.start()
    try:
        queue.send(FLOW_STEP, "f1")
        queue.send(PUMP_NOTICES, delay=0.2)
        assert rec.done.wait(15), rec.calls
    finally:
        worker.stop(timeout=5000)
        queue.close()
    assert sorted((name, args) for name, args, _ in rec.calls) == [(FLOW_STEP, ("f1",)), (PUMP_NOTICES, ())]


def test_a_broker_that_is_down_refuses_the_message_clearly(redis_server: RedisServer) -> None:
    down = RedisServer(redis_server.binary, redis_server.root)  # a port nobody listens on
    queue = BrokerQueue(down.url_for(0))
    with pytest.raises(QueueUnavailable) as refused:
        queue.send(FLOW_STEP, "f1")
    assert refused.value.code == "EGOV701" and refused.value.retryable
    assert not queue.ping()
    queue.close()
