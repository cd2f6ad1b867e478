"""``egov serve``: prints its URL and serves until SIGTERM; a bad setting, a manifest that cannot be
read or a taken port is one line and exit status 1, never a traceback."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from cli.main import cli
from harness.landscape import MINISTRY_BIN
from service.callers import add_caller
from tests.paths import ROOT


def _one_line_error(output: str) -> str:
    """The one line saying what is wrong (an error of the project adds a ``hint:`` line: what to do)."""
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("hint: ")]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


def test_a_bad_setting_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["serve"], env={"EGOV_SERVICE_PORT": "eighty"})
    assert result.exit_code == 1
    line = _one_line_error(result.output)
    assert "EGOV_SERVICE_PORT" in line and "'eighty'" in line


def test_a_manifest_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "0"], env={
        "EGOV_LANDSCAPE_MANIFEST": str(tmp_path / "missing.json"),
        "EGOV_SERVICE_CALLERS_FILE": str(tmp_path / "callers.json")})
    assert result.exit_code == 1
    assert "EGOV110" in _one_line_error(result.output) and "missing.json" in result.output


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def test_a_taken_port_is_one_line(taken_port: int) -> None:
    result = CliRunner().invoke(cli, ["serve", "--host", "127.0.0.1", "--port", str(taken_port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{taken_port}: the port is taken" in _one_line_error(result.output)


@contextlib.contextmanager
def serving(manifest: Path, tmp_path: Path, callers: Path,
            *options: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``egov serve --port 0 OPTIONS`` as a process of its own (the landscape's manifest, a SQLite
    database, the callers' file) and the first line it prints; killed if a test leaves it running,
    and never with a traceback on its stderr."""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({"EGOV_LANDSCAPE_MANIFEST": str(manifest), "EGOV_SERVICE_CALLERS_FILE": str(callers),
                "EGOV_DATABASE_URL": f"sqlite:///{tmp_path / 'service.db'}", "EGOV_LOG_LEVEL": "WARNING"})
    process = subprocess.Popen([sys.executable, "-c", "from cli.main import main; main()", "serve", "--port", "0",
                                *options], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        assert process.stdout is not None
        yield process, process.stdout.readline()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def test_serve_prints_its_url_serves_and_stops_on_sigterm(manifest: Path, tmp_path: Path) -> None:
    callers = tmp_path / "callers.json"
    key = add_caller(callers, "crm", ["legal_entities:lookup"])
    with serving(manifest, tmp_path, callers) as (process, first):
        assert first.startswith("egov service listening on http://127.0.0.1:"), first
        url = first.split()[4]
        answer = requests.get(f"{url}/api/v1/legal-entities/{MINISTRY_BIN}", headers={"X-API-Key": key}, timeout=30)
        assert answer.status_code == 200 and answer.json()["outcome"]["kind"] == "found"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_serve_with_two_processes_shares_the_port_and_adds_up_their_metrics(manifest: Path, tmp_path: Path) -> None:
    """``egov serve --workers 2``: both processes answer on the one port, ``/metrics`` of either
    counts the requests of both, SIGTERM stops all with exit status 0."""
    with serving(manifest, tmp_path, tmp_path / "callers.json", "--workers", "2") as (process, first):
        assert first.startswith("egov service listening on http://127.0.0.1:") and "2 processes" in first, first
        url = first.split()[4]
        started: set[str] = set()
        calls, deadline = 0, time.monotonic() + 90
        # a new connection each time: whichever process accepts it first answers (the second may
        # still be starting)
        while len(started) < 2 and time.monotonic() < deadline:
            answer = requests.get(f"{url}/healthz", headers={"Connection": "close"}, timeout=60)
            assert answer.status_code == 200
            started.add(str(answer.json()["started_at"]))
            calls += 1
            time.sleep(0.02)
        assert len(started) == 2, f"one process answered all {calls} calls"
        shown = requests.get(f"{url}/metrics", timeout=30).text
        assert f'egov_service_requests_total{{method="GET",route="/healthz",status="200"}} {float(calls)}' in shown
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
