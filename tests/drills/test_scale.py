"""Scale drill: flows started through the JSON API of two ``egov serve`` processes run on two
``egov worker`` processes over PostgreSQL and Redis; one worker is killed (SIGKILL) mid-run and
the broker restarts (losing every message it held); every flow still completes, with no duplicate
payment, application or licence, and every exchange attempt that reached a system journalled.

The bounded run (``make test``) starts 8 flows (4 of each diagram); ``EGOV_DRILL_SCALE=N`` starts
8·N (``make drills``). PostgreSQL, Redis and the simulators are throwaway servers on 127.0.0.1.
docs/drills.md, "Scale drill".
"""

from __future__ import annotations

import datetime as dt
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from adapters.core.errors import NotFoundError
from harness import play
from harness.landscape import Landscape
from harness.scenario import Scenario
from procedure.application import SERVICE_CODES
from procedure.models import FlowStatus, Operation, Service
from procedure.store import FlowStore
from service.callers import add_caller
from tests.drills import scaled
from tests.drills.scale import EgovProcess, flows_held_by, journal_of, running, serve, worker
from tests.fixtures.paying_bank import PayingBank
from tests.fixtures.redis import RedisServer, find_redis_server

pytestmark = [pytest.mark.drill, pytest.mark.timeout(600)]

FLOWS = 8
"""Flows of the bounded run (half in each diagram)."""
WORKER_THREADS = 4
LEASE_SECONDS = 3.0
SERVICES = tuple(Service)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of the drill's own: it is restarted."""
    binary = find_redis_server()
    if binary is None:
        pytest.skip("redis-server (Debian package redis-server) not installed")
    server = RedisServer(binary, tmp_path)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def landscape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Landscape, Path]]:
    root = tmp_path_factory.mktemp("scale-drill")
    with Landscape.start(root / "landscape") as land:
        yield land, land.write_manifest(root / "landscape.json")


def _application(land: Landscape, i: int) -> dict[str, Any]:
    service = SERVICES[i % len(SERVICES)]
    diagram = 1 + i % 2
    applicant = land.new_applicant()
    officer = land.officer(land.licensor_for(SERVICE_CODES[service], applicant.city_kato).code)
    scenario = Scenario(service=service, operation=Operation.ISSUE, diagram=diagram,  # type: ignore[arg-type]
                        applicant=applicant, officer=officer)
    return play.application(scenario, land).model_dump(mode="json")


def test_flows_survive_a_killed_worker_and_a_broker_restart(landscape: tuple[Landscape, Path], broker: RedisServer,
                                                            postgres_db_url: str, tmp_path: Path) -> None:
    land, manifest = landscape
    count = scaled(FLOWS)
    callers = tmp_path / "callers.json"
    key = add_caller(callers, "crm", ["flows:*"])
    settings = {
        "EGOV_LANDSCAPE_MANIFEST": str(manifest), "EGOV_DATABASE_URL": postgres_db_url,
        "EGOV_BROKER_URL": broker.url_for(0), "EGOV_SERVICE_CALLERS_FILE": str(callers),
        "EGOV_FLOW_FILES_DIR": str(land.workdir), "EGOV_ARTEFACTS_DIR": str(tmp_path / "artefacts"),
        "EGOV_WORKER_THREADS": str(WORKER_THREADS), "EGOV_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
        "EGOV_WORKER_SWEEP_SECONDS": "1", "EGOV_WORKER_RETRY_SECONDS": "0.5", "EGOV_WORKER_MAX_RETRIES": "20",
        "EGOV_FLOW_NOTICE_WAIT_SECONDS": "1", "EGOV_RETRY_MAX_ATTEMPTS": "3", "EGOV_RETRY_MAX_TOTAL_SECONDS": "10",
        "EGOV_READ_TIMEOUT_SECONDS": "30", "EGOV_LOG_LEVEL": "WARNING"}
    store = FlowStore.from_url(postgres_db_url)  # creates the tables before four processes race to
    started = time.monotonic()
    workers = [worker(f"worker-{i}", tmp_path, settings) for i in (1, 2)]
    services = [serve(f"serve-{i}", tmp_path, settings) for i in (1, 2)]
    with running([*workers, *services]) as processes, PayingBank(land) as bank:
        applications = [_application(land, i) for i in range(count)]
        for proc in workers:
            proc.wait_for("egov worker:")
        for proc in services:
            proc.wait_for("egov service listening")
        ready = time.monotonic()

        flow_ids = []
        for i, app in enumerate(applications):
            url = services[i % 2].url
            answer = requests.post(f"{url}/api/v1/flows", json={"application": app}, headers={"X-API-Key": key},
                                   timeout=30)
            assert answer.status_code == 202, answer.text
            flow_ids.append(answer.json()["flow_id"])
        accepted = time.monotonic()

        victim, survivor = workers
        killed_flow, killed_step, attempts_at_kill = _kill_mid_step(victim, store)
        killed_when = dt.datetime.now(dt.UTC)
        killed_at = time.monotonic()
        broker.restart(down_seconds=1.0)

        _wait_all_ended(store, flow_ids, processes, timeout=60.0 + 15.0 * count)
        ended = time.monotonic()
        assert survivor.process is not None and survivor.process.poll() is None, survivor.describe()
        statuses = {s.stop(): s.name for s in (survivor, *services)}
        assert set(statuses) == {0}, statuses  # graceful stops
    # the bank is the test's actor: a call of its that failed under load was made again at its next
    # round (the flows' completion shows every order paid); its failures are reported, not judged

    flows = {fid: store.get_flow(fid) for fid in flow_ids}
    assert {f.status for f in flows.values()} == {FlowStatus.COMPLETED}, {k: (f.status, f.error) for k, f in
                                                                          flows.items()}
    attempts = _assert_each_effect_once(land, flows, store)
    # the step the worker died in was entered again after the killed attempt, under its one key
    # (unless it had just ended, in the instant between the check and the kill). Its count of
    # attempts need not be 2: a step that had failed before (a payment or notice not there yet, a
    # timeout under load) was already in a later attempt when killed, and the attempt after the
    # kill may fail and be retried in its turn
    killed = store.step(killed_flow, killed_step)
    assert killed.finished_at is not None
    assert killed.attempts > attempts_at_kill or (killed.attempts == attempts_at_kill
                                                  and killed.finished_at <= killed_when), (attempts_at_kill, killed)
    missing = _unjournalled_attempts(land, postgres_db_url)
    # an exchange is journalled when its attempt ends: only the killed worker's exchanges in flight
    # at the kill (at most one per thread) may have reached a system without a row
    assert len(missing) <= WORKER_THREADS, missing
    store.engine.dispose()
    print(f"\nscale drill: {count} flows, 2 serve + 2 worker processes (×{WORKER_THREADS} threads); start-up "
          f"{ready - started:.1f} s, {count} accepted in {accepted - ready:.2f} s; worker killed "
          f"{killed_at - accepted:.1f} s later, broker restarted; all completed {ended - killed_at:.1f} s after "
          f"the kill; step attempts {sum(attempts.values())} for {len(attempts)} steps "
          f"({sum(1 for a in attempts.values() if a > 1)} run again; killed in step {killed_step}, "
          f"{attempts_at_kill} attempt(s) at the kill, {killed.attempts} in all); unjournalled in-flight "
          f"attempts: {len(missing)}; the bank's failed calls (made again): {len(bank.errors)}")


def _kill_mid_step(victim: EgovProcess, store: FlowStore, timeout: float = 60.0) -> tuple[str, str, int]:
    """SIGKILL ``victim`` while one of its steps is under way (started, not finished); that (flow,
    step, the step's attempts when it was killed)."""
    deadline = time.monotonic() + timeout
    while True:
        for flow_id in flows_held_by(store.engine, victim.pid):
            flow = store.get_flow(flow_id)
            try:
                open_step = store.step(flow_id, flow.current_step)
            except NotFoundError:  # claimed, its start not committed yet
                continue
            if open_step.finished_at is None:
                victim.kill()
                assert victim.process is not None and victim.process.returncode == -signal.SIGKILL
                return flow_id, flow.current_step, open_step.attempts
        assert time.monotonic() < deadline, "the worker never ran a step:\n" + victim.describe()
        time.sleep(0.01)


def _wait_all_ended(store: FlowStore, flow_ids: list[str], processes: list[EgovProcess], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        flows = [store.get_flow(fid) for fid in flow_ids]
        if all(f.status.terminal for f in flows):
            return
        if time.monotonic() > deadline:
            stuck = [(f.flow_id, f.status.value, f.current_step, f.error) for f in flows if not f.status.terminal]
            logs = "\n".join(p.describe() for p in processes)
            raise AssertionError(f"{len(stuck)} flow(s) did not end: {stuck}\n{logs}")
        time.sleep(0.25)


def _assert_each_effect_once(land: Landscape, flows: dict[str, Any], store: FlowStore) -> dict[tuple[str, str], int]:
    """One application, one licence per flow; Diagram 1: one paid order, under the step's key."""
    applications = land.applications()
    licences = land.licences()
    payments = land.payments()
    attempts: dict[tuple[str, str], int] = {}
    for flow_id, flow in flows.items():
        applicant = str(flow.data["application"]["applicant"]["bin"])
        apps = [a for a in applications if a["applicant"] == applicant]
        assert len(apps) == 1 and apps[0]["status"] == "ISSUED", (flow_id, apps)
        assert apps[0]["number"] == flow.data["application_number"]
        issued = [lic for lic in licences if lic["iin_bin"] == applicant]
        assert [lic["number"] for lic in issued] == [flow.data["licence_number"]], (flow_id, issued)
        orders = [p for p in payments if p["payer_iin_bin"] == applicant]
        if flow.diagram == "portal":
            assert [(o["client_reference"], o["status"]) for o in orders] == [(f"{flow_id}/4", "PAID")], orders
        else:
            assert orders == []
        for record in store.history(flow_id):
            assert record.finished_at is not None and record.attempts >= 1, record
            attempts[(flow_id, record.step)] = record.attempts
    return attempts


def _unjournalled_attempts(land: Landscape, database_url: str) -> list[tuple[str, str]]:
    """(system, messageId) of requests the gateway and the payment gateway received with no row in
    our exchange journal (counted per messageId: a retried message needs as many rows)."""
    from sqlalchemy import create_engine, select

    from adapters.core.journal import exchange_attempts

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            ours = Counter(str(m) for (m,) in conn.execute(select(exchange_attempts.c.message_id)))
    finally:
        engine.dispose()
    missing: list[tuple[str, str]] = []
    for system, control in (("gateway", land.endpoints.gateway_control_url),
                            ("payment", land.endpoints.payment_control_url)):
        entries = journal_of(control, land.endpoints.control_token)
        seen = Counter(str(e["message_id"]) for e in entries if e.get("message_id"))
        for message_id, times in seen.items():
            short = times - ours.get(message_id, 0)
            missing += [(system, message_id)] * max(0, short)
    return missing


def test_the_drill_sees_a_duplicate_payment(landscape: tuple[Landscape, Path]) -> None:
    """Self-test of the check: two paid orders of one applicant are caught."""
    land, _ = landscape
    applicant = land.new_applicant()
    flow = type("Flow", (), {"data": {"application": {"applicant": {"bin": applicant.bin}}, "application_number": "x",
                                      "licence_number": "y"}, "diagram": "portal"})()
    with pytest.raises(AssertionError):
        _assert_each_effect_once(land, {uuid.uuid4().hex: flow}, FlowStore.in_memory())
