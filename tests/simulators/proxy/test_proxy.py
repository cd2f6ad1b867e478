"""The fault proxy in front of a simulator: faults set with the same CLI and control API as the
simulators' are played on the wire, and the adapters retry through them to the target's answer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from lxml import etree

from adapters.core.errors import RetriesExhaustedError, TransportError
from adapters.core.journal import ExchangeJournal
from adapters.core.metrics import Metrics
from adapters.core.resilience import CircuitBreakerRegistry, ResilientCaller, RetryPolicy
from cli.main import cli
from simulators.common.control_guard import control_headers, write_control_token
from simulators.common.faults import FaultSpec
from simulators.proxy import PROXY_KINDS, FaultProxy
from tests.fixtures.gateway import ECHO_SERVICE, GatewayEnv
from tests.paths import ROOT

TOKEN = "proxy-test-token-" + "x" * 32


def payload() -> etree._Element:
    el = etree.Element("{urn:test:payload}query")
    el.text = "ping"
    return el


@pytest.fixture
def proxy(gateway_env: GatewayEnv) -> Iterator[FaultProxy]:
    with FaultProxy(gateway_env.sim.url, control_token=TOKEN, timeout=10) as running:
        yield running


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    return write_control_token(tmp_path / "control-token", TOKEN)


def _cli_fault(proxy: FaultProxy, token_file: Path, *args: str) -> None:
    result = CliRunner().invoke(cli, ["sim", "fault", "add", "--url", proxy.url, "--token-file", str(token_file),
                                      *args])
    assert result.exit_code == 0, result.output


def test_the_adapter_retries_through_faults_the_cli_set_on_the_proxy(gateway_env: GatewayEnv, proxy: FaultProxy,
                                                                     token_file: Path, tmp_path: Path) -> None:
    # three faults, one attempt each, in the order they strike: a reset, a 503, an answer cut short
    _cli_fault(proxy, token_file, "--kind", "reset", "--times", "1")
    _cli_fault(proxy, token_file, "--kind", "http_status", "--http-status", "503", "--times", "1")
    _cli_fault(proxy, token_file, "--kind", "truncated", "--times", "1")
    journal = ExchangeJournal.open(f"sqlite:///{tmp_path / 'journal.db'}")
    metrics = Metrics()
    caller = ResilientCaller(RetryPolicy(max_attempts=5, initial_backoff=0.0, max_backoff=0.0, jitter=0.0),
                             CircuitBreakerRegistry(failure_threshold=50), journal=journal, metrics=metrics,
                             sleep=lambda s: None)
    client = gateway_env.client(caller=caller)
    client.endpoint_url = proxy.url + gateway_env.sim.SYNC_PATH  # the adapter talks to the proxy
    mid = str(uuid.uuid4())
    try:
        answer = client.send_message(ECHO_SERVICE, payload(), message_id=mid)
        rows = journal.for_message(mid)
    finally:
        journal.close()
    assert answer.status.code == "SCSS001" and answer.attempts == 4
    assert [(r.attempt, r.outcome) for r in rows] == [(1, "retry"), (2, "retry"), (3, "retry"), (4, "ok")]
    assert [r.error_code for r in rows[:3]] == ["EGOV401", "EGOV402", "EGOV401"]
    seen = [(e.outcome, e.backend_called) for e in proxy.journal.entries()]
    # the reset and the 503 never reached the simulator; the truncated answer did (it was processed)
    assert seen == [("injected:reset", False), ("injected:http_status", False), ("injected:truncated", True),
                    ("ok", True)]
    assert gateway_env.echo.count(mid) == 1  # the gateway deduplicated the repeated message
    assert metrics.value("egov_call_attempts_total", system="egov_gateway", operation="SendMessage",
                         outcome="retry") == 3
    assert proxy.faults.list() == []


def test_faults_that_do_not_exhaust_the_retries_fail_the_call(gateway_env: GatewayEnv, proxy: FaultProxy) -> None:
    proxy.faults.set({"kind": "reset"})  # every call
    caller = ResilientCaller(RetryPolicy(max_attempts=2, initial_backoff=0.0, max_backoff=0.0, jitter=0.0),
                             sleep=lambda s: None)
    client = gateway_env.client(caller=caller)
    client.endpoint_url = proxy.url + gateway_env.sim.SYNC_PATH
    with pytest.raises(RetriesExhaustedError) as err:
        client.send_message(ECHO_SERVICE, payload())
    assert isinstance(err.value.__cause__, TransportError)
    assert gateway_env.sim.journal.entries() == []  # nothing reached the target


def test_latency_drip_and_malformed_answers(gateway_env: GatewayEnv, proxy: FaultProxy) -> None:
    url = f"{proxy.url}/metrics"  # any route of the target passes
    direct = requests.get(f"{gateway_env.sim.url}/metrics", timeout=5)
    proxy.faults.set({"kind": "latency", "latency_ms": 50, "times": 1})
    proxy.faults.set({"kind": "drip", "drip_chunk": 512, "drip_interval_ms": 1, "times": 1})
    proxy.faults.set({"kind": "malformed_xml", "times": 1})
    slow = requests.get(url, timeout=5)
    dripped = requests.get(url, timeout=5)
    spoilt = requests.get(url, timeout=5)
    assert slow.status_code == dripped.status_code == 200
    assert slow.headers["Content-Type"] == direct.headers["Content-Type"]
    assert dripped.text.startswith("# HELP") and "egov_sim_requests_total" in dripped.text
    assert spoilt.content.endswith(b"<<not-xml")
    assert [e.fault for e in proxy.journal.entries()] == ["latency", "drip", "malformed_xml"]


def test_the_control_api_is_the_simulators_and_refuses_what_a_proxy_cannot_play(proxy: FaultProxy) -> None:
    headers = control_headers(TOKEN)
    assert requests.get(f"{proxy.url}/_control/faults", timeout=5).status_code == 401
    refused = requests.post(f"{proxy.url}/_control/faults", json={"kind": "soap_fault", "code": "SCE006"},
                            headers=headers, timeout=5)
    assert refused.status_code == 400 and "soap_fault" in refused.json()["error"]
    added = requests.post(f"{proxy.url}/_control/faults", json={"kind": "truncated", "when": "before"},
                          headers=headers, timeout=5)
    assert added.status_code == 201 and added.json()["added"][0]["when"] == "after"  # it needs the answer
    assert requests.put(f"{proxy.url}/_control/faults/maintenance", json={"enabled": True}, headers=headers,
                        timeout=5).status_code == 200
    assert requests.get(f"{proxy.url}/anything", timeout=5).status_code == 503
    assert requests.get(f"{proxy.url}/_control/elsewhere", headers=headers, timeout=5).status_code == 404
    assert set(PROXY_KINDS) == {"latency", "drip", "reset", "empty", "garbage", "http_status", "truncated",
                                "malformed_xml", "empty_body"}
    assert FaultSpec(kind="reset").kind in PROXY_KINDS


def test_a_target_that_does_not_answer_is_a_502() -> None:
    with FaultProxy("http://127.0.0.1:9", control_token=TOKEN, timeout=2) as proxy:
        answer = requests.get(f"{proxy.url}/x", timeout=10)
    assert answer.status_code == 502 and "did not answer" in answer.text
    assert [(e.outcome, e.backend_called) for e in proxy.journal.entries()] == [("http:502", False)]


def test_egov_sim_proxy_runs_until_interrupted(gateway_env: GatewayEnv, token_file: Path) -> None:
    env: dict[str, Any] = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()", "sim", "proxy",
                                "--listen", "0", "--target", gateway_env.sim.url, "--token-file", str(token_file)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().split()
        assert first[:2] == ["fault", "proxy"], first
        proxy_url = first[2]
        assert requests.get(f"{proxy_url}/metrics", timeout=10).status_code == 200
        listed = requests.get(f"{proxy_url}/_control/faults", headers=control_headers(TOKEN), timeout=10)
        assert listed.json() == {"maintenance": False, "faults": []}
    finally:
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopped" in err
