"""Ops can scrape the adapters' metrics over HTTP while a procedure runs (EGOV_METRICS_PORT)."""

from pathlib import Path

import requests

from harness.landscape import Landscape
from procedure.clients import ProcedureClients


def test_metrics_served_over_http_while_clients_live(tmp_path: Path) -> None:
    with Landscape.start(tmp_path / "land") as land, \
            ProcedureClients(land.endpoints, database_url=f"sqlite:///{tmp_path / 'j.db'}", metrics_port=0) as clients:
        outcome = clients.legal_entities.lookup_bin("940140000385")
        assert outcome.present
        body = requests.get(f"http://127.0.0.1:{clients.metrics_port}/metrics", timeout=5).text
        calls = [line for line in body.splitlines()
                 if line.startswith("egov_call_attempts_total{") and 'system="legal_entities"' in line
                 and 'operation="SendMessage"' in line]
        assert len(calls) == 1 and 'outcome="ok"' in calls[0] and calls[0].endswith(" 1.0")
        assert "egov_call_latency_seconds_bucket" in body
        rows = clients.journal.tail(5) if clients.journal else []
        assert any(r.system == "legal_entities" and r.service == "GbdulInfoByBin_v2" and r.outcome == "ok"
                   for r in rows)
        port = clients.metrics_port
    try:
        requests.get(f"http://127.0.0.1:{port}/metrics", timeout=1)
        raise AssertionError("the metrics server should stop with the clients")
    except requests.ConnectionError:
        pass
