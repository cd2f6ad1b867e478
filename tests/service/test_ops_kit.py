"""The ops kit in ``deploy/``: the Grafana dashboard asks only for metrics the service exposes, the
alert rules pass ``promtool`` (syntax and unit tests), the Prometheus configuration is valid, and the
process files start commands that exist."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.main import SUBCOMMANDS
from harness.landscape import Landscape
from tests.paths import ROOT
from tests.service.conftest import Running
from tests.service.test_flows import application, start, wait_ended

DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "egov-dashboard.json"
ALERTS = DEPLOY / "prometheus" / "egov-alerts.yml"
METRIC = re.compile(r"\begov_[a-z0-9_]+\b")
STRING = re.compile(r'"[^"]*"')


def metric_names(expr: str) -> list[str]:
    """The metric names a PromQL expression uses (not label values that look like one)."""
    return METRIC.findall(STRING.sub('""', expr))


def exposed_names(text: str) -> set[str]:
    """Every name a query may use: the samples of the exposition, and the series every metric family
    declared by # TYPE has even before its first observation (_total, _bucket, _sum, _count)."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()[:4]
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            if kind == "counter" and not name.endswith("_total"):
                names.add(f"{name}_total")
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def _queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            out.append((panel["title"], target["expr"]))
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            out.append((variable["name"], query["query"]))
    return out


@pytest.fixture(scope="module")
def scraped(flows: Running, landscape: Landscape) -> set[str]:
    """/metrics after a flow of each diagram ran as tasks."""
    for diagram in (1, 2):
        wait_ended(flows, start(flows, application(landscape, diagram))["flow_id"])
    answer = flows.get("/metrics", caller=None)
    assert answer.status_code == 200
    return exposed_names(answer.text)


def test_every_dashboard_query_names_metrics_the_service_exposes(scraped: set[str]) -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = _queries(dashboard)
    assert len(queries) >= 15
    unknown = {(title, name) for title, expr in queries for name in metric_names(expr) if name not in scraped}
    assert unknown == set()
    used = {name for _, expr in queries for name in metric_names(expr)}
    # the dashboard covers what the issue asks: exchanges (rate, failures, retries, latency), circuits,
    # steps against the norms, applications against the deadline
    assert {"egov_call_attempts_total", "egov_call_failures_total", "egov_retries_total",
            "egov_retries_exhausted_total", "egov_call_latency_seconds_bucket", "egov_circuit_state",
            "egov_flow_step_seconds_bucket",
            "egov_flow_step_norm_seconds", "egov_flow_steps_total", "egov_applications_by_deadline"} <= used
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_every_alert_names_metrics_the_service_exposes(scraped: set[str]) -> None:
    rules = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    exprs = {r["alert"]: r["expr"] for group in rules["groups"] for r in group["rules"]}
    assert {"EgovRetriesExhausted", "EgovCircuitOpen", "EgovGatewayErrorRate", "EgovFlowsStuck",
            "EgovDeadlineNear"} <= set(exprs)
    unknown = {(alert, name) for alert, expr in exprs.items() for name in metric_names(expr) if name not in scraped}
    assert unknown == set()


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool (Debian package prometheus) not installed")
    return found


@pytest.mark.parametrize("args", [("check", "rules", "egov-alerts.yml"), ("test", "rules", "egov-alerts.test.yml"),
                                  ("check", "config", "prometheus.yml")], ids=["check-rules", "test-rules",
                                                                                "check-config"])
def test_promtool_accepts_the_rules_their_unit_tests_and_the_config(args: tuple[str, ...]) -> None:
    done = subprocess.run([_promtool(), *args], cwd=DEPLOY / "prometheus", capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def test_the_process_files_start_the_two_commands() -> None:
    procfile = dict(line.split(":", 1) for line in (DEPLOY / "Procfile").read_text().splitlines()
                    if line and not line.startswith("#"))
    assert {k: v.split() for k, v in procfile.items()} == {"web": ["egov", "serve"], "worker": ["egov", "worker"]}
    for unit, command in (("egov-serve.service", "serve"), ("egov-worker@.service", "worker")):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.read(DEPLOY / "systemd" / unit)
        exec_start = parser["Service"]["ExecStart"].split()
        assert Path(exec_start[0]).name == "egov" and exec_start[1] == command and command in SUBCOMMANDS
        assert parser["Service"]["KillSignal"] == "SIGTERM" and parser["Service"]["User"] != "root"
