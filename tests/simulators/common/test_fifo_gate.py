"""FifoGate: one holder at a time, handed over in arrival order."""

from __future__ import annotations

import threading
import time

import pytest

from simulators.common.fifo_gate import FifoGate


def _wait_until(predicate: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def test_waiters_pass_in_arrival_order() -> None:
    gate = FifoGate()
    order: list[int] = []
    gate.acquire()
    threads = []
    for i in range(8):
        def enter(i: int = i) -> None:
            with gate.hold():
                order.append(i)
        t = threading.Thread(target=enter)
        t.start()
        threads.append(t)
        _wait_until(lambda i=i: gate.waiting == i + 1, f"waiter {i} to queue")
    assert order == []  # nobody passes while the gate is held
    gate.release()
    for t in threads:
        t.join(timeout=10)
    assert order == list(range(8))
    assert gate.waiting == 0


def test_one_holder_at_a_time() -> None:
    gate = FifoGate()
    inside = [0]
    most = [0]
    lock = threading.Lock()

    def work() -> None:
        for _ in range(200):
            with gate.hold():
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                with lock:
                    inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert most[0] == 1
    assert inside[0] == 0


def test_free_gate_is_taken_at_once_and_can_be_taken_again() -> None:
    gate = FifoGate()
    with gate.hold():
        assert gate.waiting == 0
    with gate.hold():  # released by the context manager, also when the body raised
        pass
    with pytest.raises(ValueError), gate.hold():
        raise ValueError("boom")
    with gate.hold():
        pass


def test_release_without_holding_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not held"):
        FifoGate().release()
