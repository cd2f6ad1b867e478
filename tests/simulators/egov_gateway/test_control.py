"""QA's tools: the control API over HTTP, scenario files, the simulator registry and the CLI."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from lxml import etree

from adapters.core.errors import ConfigurationError, HttpStatusError, RetriesExhaustedError
from adapters.core.resilience import ResilientCaller, RetryPolicy
from adapters.egov_gateway import GatewayFaultError
from simulators.common.faults import FaultInjector, parse_scenario
from tests.fixtures.control import control_session
from tests.fixtures.gateway import ECHO_SERVICE, GatewayEnv

SCENARIO = """
maintenance: false
faults:
  - kind: soap_fault
    service: ECHO
    code: SCE909
    times: 1
  - kind: latency
    operation: getMessages
    latency_ms: 0
"""


def payload() -> etree._Element:
    return etree.Element("{urn:test}q")


def test_faults_and_journal_over_http(gateway_env: GatewayEnv) -> None:
    base = gateway_env.sim.url + "/_control"
    control = control_session(gateway_env.sim.control_token)
    added = control.post(f"{base}/faults", json={"kind": "soap_fault", "code": "SCE006", "times": 1},
                          timeout=10)
    assert added.status_code == 201 and added.json()["faults"][0]["kind"] == "soap_fault"
    assert control.post(f"{base}/faults", json={"kind": "nonsense"}, timeout=10).status_code == 400
    client = gateway_env.client(caller=ResilientCaller(RetryPolicy.no_retry()))  # each fault seen once
    with pytest.raises(GatewayFaultError) as info:
        client.send_message(ECHO_SERVICE, payload())
    assert info.value.error_code == "SCE006"
    mid = str(uuid.uuid4())
    client.send_message(ECHO_SERVICE, payload(), message_id=mid)
    journal = control.get(f"{base}/journal", params={"message_id": mid}, timeout=10).json()
    assert journal["count"] == 1 and journal["entries"][0]["outcome"] == "ok"
    assert control.get(f"{base}/journal", timeout=10).json()["count"] == 2
    assert control.get(f"{base}/stats", timeout=10).json()["backend_calls"] == 1
    assert control.delete(f"{base}/journal", timeout=10).json()["count"] == 0

    control.put(f"{base}/faults/maintenance", json={"enabled": True}, timeout=10)
    with pytest.raises(RetriesExhaustedError) as exhausted:
        client.send_message(ECHO_SERVICE, payload())
    assert isinstance(exhausted.value.last, HttpStatusError) and exhausted.value.last.status == 503
    control.put(f"{base}/faults/maintenance", json={"enabled": False}, timeout=10)
    assert control.post(f"{base}/faults/scenario", json=yaml.safe_load(SCENARIO), timeout=10).status_code == 200
    assert len(control.get(f"{base}/faults", timeout=10).json()["faults"]) == 2
    with pytest.raises(RetriesExhaustedError) as exhausted:
        client.send_message(ECHO_SERVICE, payload())
    assert isinstance(exhausted.value.last, GatewayFaultError) and exhausted.value.last.error_code == "SCE909"
    assert client.send_message(ECHO_SERVICE, payload()).status.code == "SCSS001"
    assert control.post(f"{base}/reset", timeout=10).json() == {"status": "reset"}
    assert control.get(f"{base}/services", timeout=10).json()["services"] == [ECHO_SERVICE]


def test_scenario_file_and_validation(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    injector = FaultInjector()
    scenario = injector.load_scenario(path)
    assert [f.kind for f in scenario.faults] == ["soap_fault", "latency"]
    assert injector.pick(ECHO_SERVICE, "SendMessage") is not None
    assert injector.pick(ECHO_SERVICE, "SendMessage") is None  # times: 1, spent
    with pytest.raises(ConfigurationError, match="kind"):
        parse_scenario({"faults": [{"kind": "explode"}]})
    with pytest.raises(ConfigurationError, match="not found"):
        injector.load_scenario(tmp_path / "missing.yaml")


@pytest.fixture
def registry_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    from adapters.core.settings import get_settings
    from simulators.registry import SimContext, default_registry, stop_all

    get_settings.cache_clear()
    ctx = SimContext(workdir=tmp_path, config={"pki": {"port": 0}, "gateway": {"port": 0}})
    running = default_registry().start_all(ctx)
    try:
        assert [r.name for r in running][:2] == ["pki", "gateway"]
        for key, value in ctx.env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        yield ctx.env
    finally:
        stop_all(running)
        get_settings.cache_clear()


def test_registry_starts_simulators_and_cli_calls_the_gateway(registry_up: dict[str, str],
                                                               tmp_path: Path) -> None:
    from cli.main import cli

    data = tmp_path / "data.xml"
    data.write_text('<q xmlns="urn:cli">from the CLI</q>', encoding="utf-8")
    result = CliRunner().invoke(cli, ["call", "gateway", "--service", "ECHO", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "SCSS001" in result.output
    assert "from the CLI" in result.output
    result = CliRunner().invoke(cli, ["call", "gateway", "--service", "NOPE", "--data", str(data)])
    assert result.exit_code != 0
    assert "SCE004" in result.output and "final" in result.output
    result = CliRunner().invoke(cli, ["sim", "fault", "add", "--url", registry_up["EGOV_GATEWAY_URL"],
                                      "--kind", "reset", "--times", "1"])
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()  # one line per fault
    assert line.startswith("added ") and " reset " in line and "times=1" in line
