"""The service in broker mode: a start answered while the broker is down is recorded, not queued;
``/readyz`` says the broker does not answer; an ``egov worker``'s sweep (here in this process, on a
live Redis) finds the flow and runs it to its end."""

from __future__ import annotations

import time
from pathlib import Path

from harness.landscape import Landscape
from service import ServiceRuntime, ServiceServer, create_app
from service.callers import add_caller
from tests.fixtures.redis import RedisServer
from tests.service.conftest import Running, service_settings
from tests.service.test_flows import application, wait_ended
from workers import BrokerWorker


def test_a_flow_started_while_the_broker_is_down_is_run_by_a_workers_sweep(
        landscape: Landscape, manifest: Path, redis_server: RedisServer, tmp_path: Path) -> None:
    down = RedisServer(redis_server.binary, redis_server.root)  # nobody listens on its port
    common = {"flow_files_dir": landscape.workdir, "artefacts_dir": tmp_path / "artefacts",
              "worker_lease_seconds": 1.0, "worker_sweep_seconds": 0.3, "flow_notice_wait_seconds": 1.0}
    settings = service_settings(manifest, tmp_path, broker_url=down.url_for(0), **common)
    key = add_caller(settings.service_callers_file, "full", ["flows:*"])
    with ServiceRuntime.from_settings(settings) as runtime, ServiceServer(create_app(runtime)) as server:
        svc = Running(server.url, runtime, settings, {"full": key}, settings.service_callers_file)
        answer = svc.post("/api/v1/flows", json={"application": application(landscape, 2)})
        assert answer.status_code == 202, answer.text
        assert answer.json()["queued"] is False  # recorded, not queued
        flow_id = answer.json()["flow_id"]
        ready = svc.get("/readyz", caller=None)
        assert ready.status_code == 503 and ready.json()["checks"]["broker"]["ok"] is False
        time.sleep(1.2)
        flow = svc.get(f"/api/v1/flows/{flow_id}").json()
        assert (flow["status"], flow["current_step"], flow["steps"]) == ("running", "1", [])  # nothing ran it

        worker_settings = settings.model_copy(update={"broker_url": redis_server.new_database()})
        worker = BrokerWorker(worker_settings).start()
        try:
            done = wait_ended(svc, flow_id, timeout=60)
        finally:
            worker.stop()
        assert done["status"] == "completed" and done["results"]["licence_number"]
        assert worker.runtime.metrics.requeued.labels("orphan")._value.get() >= 1
