"""Operations: /healthz, /readyz (one JSON check per dependency), /metrics (one process, and several
worker processes added up), request ids echoed and carried by every log line of the request."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from adapters.core.logs import json_formatter
from harness.landscape import MINISTRY_BIN
from service import ServiceRuntime, ServiceServer, create_app
from tests.paths import ROOT
from tests.service.conftest import Running, service_settings


def test_healthz(service: Running) -> None:
    answer = service.get("/healthz", caller=None)
    assert answer.status_code == 200 and answer.json()["status"] == "ok"
    assert answer.json()["uptime_seconds"] >= 0


def test_readyz_checks_database_pki_and_gateway(service: Running) -> None:
    answer = service.get("/readyz", caller=None)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ready"] is True and set(body["checks"]) == {"database", "pki", "gateway"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "not revoked" in body["checks"]["pki"]["detail"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_readyz_says_which_dependency_is_down(manifest: Path, tmp_path: Path) -> None:
    raw = json.loads(manifest.read_text(encoding="utf-8"))
    raw["gateway_url"] = f"http://127.0.0.1:{_closed_port()}/bip-sync-wss-gost/"
    broken = tmp_path / "broken-manifest.json"
    broken.write_text(json.dumps(raw), encoding="utf-8")
    settings = service_settings(broken, tmp_path, service_readiness_timeout_seconds=1.0)
    with ServiceRuntime.from_settings(settings) as runtime, ServiceServer(create_app(runtime)) as server:
        answer = requests.get(f"{server.url}/readyz", timeout=30)
    assert answer.status_code == 503, answer.text
    checks = answer.json()["checks"]
    assert (checks["database"]["ok"], checks["pki"]["ok"], checks["gateway"]["ok"]) == (True, True, False)
    assert "refused" in checks["gateway"]["detail"]


def test_metrics_show_exchanges_and_requests_by_route(service: Running) -> None:
    assert service.get(f"/api/v1/legal-entities/{MINISTRY_BIN}").status_code == 200
    answer = service.get("/metrics", caller=None)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    lines = answer.text.splitlines()
    assert any(line.startswith("egov_service_requests_total{") and 'route="/api/v1/legal-entities/{bin}"' in line
               and 'status="200"' in line for line in lines)
    assert any(line.startswith("egov_call_attempts_total{") and 'system="legal_entities"' in line
               and 'outcome="ok"' in line for line in lines)
    assert any(line.startswith("egov_service_request_seconds_bucket{") for line in lines)


_WORKER = """
import sys
from adapters.core.metrics import Metrics
from service.metrics import ServiceMetrics, exposition
metrics = Metrics()
requests_ = ServiceMetrics(metrics)
if sys.argv[1] == "work":
    requests_.observe("GET", "/healthz", 200, 0.01)
    metrics.observe_attempt("egov_gateway", "SendMessage", "ok", 0.02)
else:
    sys.stdout.write(exposition(metrics).decode())
"""


def test_metrics_of_several_worker_processes_add_up(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", _WORKER, "work"], cwd=ROOT, env=env, check=True, timeout=60)
    shown = subprocess.run([sys.executable, "-c", _WORKER, "show"], cwd=ROOT, env=env, check=True, timeout=60,
                           capture_output=True, text=True).stdout
    assert 'egov_service_requests_total{method="GET",route="/healthz",status="200"} 2.0' in shown
    assert 'egov_call_attempts_total{operation="SendMessage",outcome="ok",system="egov_gateway"} 2.0' in shown


def test_the_request_id_is_echoed_or_made(service: Running) -> None:
    given = service.get("/healthz", caller=None, headers={"X-Request-ID": "crm-4711"})
    assert given.headers["X-Request-ID"] == "crm-4711"
    made = service.get("/healthz", caller=None, headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["X-Request-ID"] != "bad id with spaces" and len(made.headers["X-Request-ID"]) == 32


def test_logs_carry_the_request_id_and_the_exchange_ids(service: Running, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    answer = service.get(f"/api/v1/legal-entities/{MINISTRY_BIN}", headers={"X-Request-ID": "trace-lookup-1"})
    assert answer.status_code == 200
    # the access line is written when the request's handling ends, which may be just after the
    # answer's last byte reached us: wait for it (bounded)
    deadline = time.monotonic() + 10
    while True:
        mine = [r for r in caplog.records if getattr(r, "request_id", None) == "trace-lookup-1"]
        exchange = [r for r in mine if r.name == "adapters.exchange"]
        access = [r for r in mine if r.name == "service.access"]
        if access or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    message_id = getattr(exchange[0], "message_id", None) if exchange else None
    assert message_id  # the exchange's messageId, next to the request id
    assert len(access) == 1 and getattr(access[0], "route", None) == "/api/v1/legal-entities/{bin}"
    assert getattr(access[0], "caller", None) == "full" and getattr(access[0], "status", None) == 200
    line = json.loads(json_formatter().format(exchange[0]))
    assert line["request_id"] == "trace-lookup-1" and line["message_id"] == message_id


def test_operations_refuse_other_methods(service: Running) -> None:
    from tests.service.conftest import error_of

    for path in ("/healthz", "/readyz", "/metrics"):
        error_of(service.post(path, caller=None), 405, "EGOV604")
