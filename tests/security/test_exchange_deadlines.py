"""No server holds a call past its deadline (issue 11, item 6).

A hostile gateway (:class:`tests.fixtures.hostile.HostileServer`) drips its answer, one byte at a
time well within the read timeout: the body, or the headers before it. The clients are built from
the settings (``EGOV_ATTEMPT_TIMEOUT_SECONDS``, ``EGOV_CALL_TIMEOUT_SECONDS``):

- one attempt ends at its deadline with ``ExchangeTimeoutError`` (``kind`` ``deadline``), whatever
  the drip;
- with retries, the whole call ends at the call's deadline, the last attempt cut to what was left
  of it; every attempt is journalled as a timeout, and nothing was accepted.

Each call runs in a thread joined with a bound, so that a client that does not stop fails the test
instead of holding it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.core.errors import ExchangeTimeoutError, RetriesExhaustedError
from adapters.core.journal import ExchangeJournal
from adapters.core.resilience import ResilientCaller, RetryPolicy
from adapters.core.settings import Settings, load_settings
from adapters.egov_gateway import GatewayClient
from tests.fixtures.gateway import ECHO_SERVICE, GATEWAY_BIN, SENDER_ID, SENDER_PASSWORD, GatewayEnv
from tests.fixtures.hostile import HostileServer, Play, drip_body, drip_head

DRIP = 0.05
"""Seconds between two bytes: far within the read timeout (5 s)."""


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    """Ends the drips when the test ends (a client that gave up leaves them dripping into nothing)."""
    event = threading.Event()
    yield event
    event.set()


def _settings(url: str, **bounds: float) -> Settings:
    return load_settings(gateway_url=url, gateway_bin=GATEWAY_BIN, gateway_sender_id=SENDER_ID,
                         gateway_sender_password=SENDER_PASSWORD, connect_timeout_seconds=2.0,
                         read_timeout_seconds=5.0, **bounds)


def _bounded(call: Callable[[], object], limit: float) -> tuple[BaseException | None, float]:
    """Run ``call`` in a thread; the exception it raised and how long it took (fails past ``limit``)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    start = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    elapsed = time.monotonic() - start
    assert not thread.is_alive(), f"the call was still running after {limit} s: the server holds it"
    return outcome[0], elapsed


@pytest.mark.parametrize("make", [drip_body, drip_head], ids=["body", "headers"])
def test_a_dripping_server_is_cut_at_the_attempt_deadline(gateway_env: GatewayEnv, stop: threading.Event,
                                                          make: Callable[..., Play]) -> None:
    with HostileServer(make(DRIP, stop=stop)) as server:
        client = GatewayClient.from_settings(signing=gateway_env.signing(), verification=gateway_env.verification(),
                                             caller=ResilientCaller(RetryPolicy.no_retry()),  # the one attempt
                                             settings=_settings(server.url, attempt_timeout_seconds=1.0))
        with client:
            given_up, elapsed = _bounded(lambda: client.send_message(ECHO_SERVICE, None), limit=6.0)
        sent = server.sent
    assert isinstance(given_up, RetriesExhaustedError) and given_up.attempts == 1, given_up
    error = given_up.last
    assert isinstance(error, ExchangeTimeoutError), error
    assert error.context["kind"] == "deadline" and error.context["deadline_seconds"] == 1.0 and error.retryable
    assert 0.9 <= elapsed < 2.0
    assert sent < 200  # the drip was cut: its head and a few dozen bytes


def test_retries_end_at_the_call_deadline(gateway_env: GatewayEnv, stop: threading.Event, tmp_path: Path) -> None:
    journal = ExchangeJournal.open(f"sqlite:///{tmp_path / 'journal.db'}")
    with HostileServer(drip_body(DRIP, stop=stop)) as server:
        settings = _settings(server.url, attempt_timeout_seconds=1.0, call_timeout_seconds=1.6,
                             retry_max_attempts=10, retry_max_total_seconds=60.0)
        caller = ResilientCaller(RetryPolicy.from_settings(settings), journal=journal,
                                 rng=random.Random(11))  # back-off 0.2 s plus at most 0.1 s of jitter
        client = GatewayClient.from_settings(signing=gateway_env.signing(), verification=gateway_env.verification(),
                                             caller=caller, settings=settings)
        with client:
            error, elapsed = _bounded(lambda: client.send_message(ECHO_SERVICE, None, message_id="m-drip"),
                                      limit=8.0)
        attempts = len(server.requests)
    rows = journal.for_message("m-drip")
    journal.close()
    assert isinstance(error, RetriesExhaustedError), error
    assert isinstance(error.last, ExchangeTimeoutError) and error.last.context["kind"] == "deadline"
    assert 1.5 <= elapsed < 2.3  # 1 s, a back-off, then what was left of the 1.6 s
    assert attempts == 2 and [r.error_code for r in rows] == ["EGOV410", "EGOV410"]
    assert rows[-1].exhausted and all(r.response_digest is None for r in rows)  # nothing was accepted
