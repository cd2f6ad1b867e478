"""After a set of flows (both diagrams, green and refused), every metric the adapters and the
simulators expose follows one label scheme: ``system``, ``operation`` (a SOAP operation of the
WSDLs), ``outcome``; and a green run shows no failure (business answers are ``refused``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests
from lxml import etree
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from adapters.core.journal import FAILED_OUTCOMES, OUTCOMES
from adapters.core.logs import IdsFilter
from harness.env import ProcedureEnv, procedure_env
from harness.scenario import Fault
from procedure.models import FlowStatus
from tests.paths import ROOT

SYSTEMS = {"egov_gateway", "legal_entities", "payment_gateway", "elicense"}
SIM_SYSTEMS = {"egov_gateway", "payment_gateway", "elicense", "pki"}
SIM_OUTCOMES = {"ok", "fault", "http-error", "wire-fault"}
WSDL = "{http://schemas.xmlsoap.org/wsdl/}"


def wsdl_operations() -> set[str]:
    """Every operation the WSDLs of ``wsdl/`` name (their portTypes)."""
    names: set[str] = set()
    for path in (ROOT / "wsdl").rglob("*.wsdl"):
        tree = etree.parse(str(path))
        names |= {str(op.get("name")) for op in tree.iter(f"{WSDL}operation") if op.get("name")}
    return names


def samples(text: str, prefix: str) -> list[Sample]:
    return [s for family in text_string_to_metric_families(text) for s in family.samples
            if s.name.startswith(prefix)]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.addFilter(IdsFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


EXCHANGES = _Records()
FLOW_IDS: list[str] = []


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProcedureEnv, list[FlowStatus]]]:
    out = tmp_path_factory.mktemp("scheme")
    exchange_log = logging.getLogger("adapters.exchange")
    level = exchange_log.level
    exchange_log.addHandler(EXCHANGES)
    exchange_log.setLevel(logging.DEBUG)
    try:
        with procedure_env(manifest=None, db=f"sqlite:///{out / 'egov.db'}", out_dir=out, metrics_port=0) as env:
            statuses = []
            for service, diagram, fault in (("religious", 1, Fault.NONE), ("school", 2, Fault.NONE),
                                            ("school", 1, Fault.NOT_PAID), ("religious", 2, Fault.ABSENT_FROM_LE),
                                            ("technical-vocational", 1, Fault.NOT_AUTHORISED)):
                result = env.run(env.scenario(service, "issue", diagram, fault))
                statuses.append(result.status)
                FLOW_IDS.append(result.flow_id)
            yield env, statuses
    finally:
        exchange_log.removeHandler(EXCHANGES)
        exchange_log.setLevel(level)


def test_every_exchange_of_a_flow_carries_its_flow_and_correlation_ids(
        ran: tuple[ProcedureEnv, list[FlowStatus]]) -> None:
    env, _ = ran
    by_system: dict[str, set[str]] = {}
    for record in EXCHANGES.records:
        flow_id = getattr(record, "flow_id", None)
        assert flow_id in FLOW_IDS, (record.getMessage(), flow_id)
        correlation_id = getattr(record, "correlation_id", None)
        assert correlation_id, record.getMessage()
        if getattr(record, "system", None) in ("elicense", "payment_gateway", "legal_entities"):
            assert correlation_id == flow_id, record.getMessage()  # a call without its own: the flow's
        assert getattr(record, "message_id", None), record.getMessage()
        by_system.setdefault(str(getattr(record, "system", "")), set()).add(flow_id)
    assert set(by_system) == SYSTEMS  # E-licensing's and the payment gateway's exchanges too
    assert env.clients.journal is not None
    rows = env.clients.journal.tail(1000)
    assert rows and all(r.correlation_id for r in rows)
    assert {r.correlation_id for r in rows if r.system != "egov_gateway"} <= set(FLOW_IDS)
    assert {r.system for r in rows} == SYSTEMS


def _scrape(url: str) -> str:
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    return answer.text


def test_the_flows_ended_as_their_scenarios_say(ran: tuple[ProcedureEnv, list[FlowStatus]]) -> None:
    _, statuses = ran
    assert statuses == [FlowStatus.COMPLETED, FlowStatus.COMPLETED, FlowStatus.REFUSED, FlowStatus.REFUSED,
                        FlowStatus.REFUSED]


def test_adapter_metrics_follow_the_scheme_and_a_green_run_has_no_failure(
        ran: tuple[ProcedureEnv, list[FlowStatus]]) -> None:
    env, _ = ran
    text = _scrape(f"http://127.0.0.1:{env.clients.metrics_port}/metrics")
    operations = wsdl_operations()
    calls = samples(text, "egov_call_")
    assert {s.name for s in calls} >= {"egov_call_attempts_total", "egov_call_failures_total",
                                       "egov_call_latency_seconds_bucket"}
    assert "egov_calls_total" not in text  # the old name is gone: the counter counts attempts
    for s in calls + samples(text, "egov_retries"):
        extra = {"le"} if s.name.endswith("_bucket") else set()
        counted = s.name.startswith("egov_call_attempts_")  # _total and _created
        expected = {"system", "operation", *extra} | ({"outcome"} if counted else set())
        assert set(s.labels) == expected, s
        assert s.labels["system"] in SYSTEMS, s
        assert s.labels["operation"] in operations, s
        if "outcome" in s.labels:
            assert s.labels["outcome"] in OUTCOMES, s
    for s in samples(text, "egov_circuit_state"):
        assert set(s.labels) == {"system", "service"} and s.labels["system"] in SYSTEMS, s
    for s in samples(text, "egov_async_pending"):
        assert set(s.labels) == {"system"} and s.labels["system"] in SYSTEMS, s
    attempts = {(s.labels["system"], s.labels["operation"], s.labels["outcome"]): s.value
                for s in calls if s.name == "egov_call_attempts_total"}
    assert {system for system, _, _ in attempts} == SYSTEMS  # every system was reached, each named once
    # the first-time registration check (ELC101) on the portal flows is a business answer, not a failure
    assert attempts.get(("elicense", "Authorize", "refused"), 0) >= 1
    failures = [s for s in calls if s.name == "egov_call_failures_total" and s.value > 0]
    assert failures == []
    assert not [k for k, v in attempts.items() if k[2] in FAILED_OUTCOMES and v > 0]


def test_every_simulator_serves_its_metrics_in_the_same_scheme(ran: tuple[ProcedureEnv, list[FlowStatus]]) -> None:
    env, _ = ran
    land = env.landscape
    bases = {"egov_gateway": land.gateway.url, "payment_gateway": land.payment_gateway.url,
             "elicense": land.elicense.url, "pki": land.endpoints.pki_url}
    operations = wsdl_operations()
    for system, base in bases.items():
        assert base
        found = samples(_scrape(f"{base.rstrip('/')}/metrics"), "egov_sim_requests_total")
        assert found, system
        for s in found:
            assert set(s.labels) == {"system", "operation", "outcome"}, s
            assert s.labels["system"] == system and s.labels["outcome"] in SIM_OUTCOMES, s
        soap = {s.labels["operation"] for s in found} & operations
        assert soap or system == "pki", (system, found)
    gateway = samples(_scrape(f"{land.gateway.url}/metrics"), "egov_sim_requests_total")
    assert any(s.labels["operation"] == "SendMessage" and s.labels["outcome"] == "ok" and s.value >= 1
               for s in gateway)
