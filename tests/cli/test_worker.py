"""``egov worker``: without a broker, or with settings it cannot use, one line and exit status 1;
the broker's password never printed. (Running and stopping on SIGTERM: the scale drill.)"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cli.main import cli
from cli.worker import _redacted


def _one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


def test_without_a_broker_the_worker_says_what_to_set() -> None:
    result = CliRunner().invoke(cli, ["worker"], env={"EGOV_BROKER_URL": ""})
    assert result.exit_code == 1
    line = _one_line(result.output)
    assert "EGOV110" in line and "EGOV_BROKER_URL" in line


def test_a_manifest_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["worker", "--threads", "2"], env={
        "EGOV_BROKER_URL": "redis://127.0.0.1:1/0", "EGOV_LANDSCAPE_MANIFEST": str(tmp_path / "missing.json"),
        "EGOV_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"})
    assert result.exit_code == 1
    assert "EGOV110" in _one_line(result.output) and "missing.json" in result.output


def test_the_broker_url_is_shown_without_its_password() -> None:
    assert _redacted("redis://:s3cret@broker.internal:6380/2") == "redis://:***@broker.internal:6380/2"
    assert _redacted("redis://egov:s3cret@broker/0") == "redis://egov:***@broker/0"
    assert _redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert _redacted(None) == "-"


def test_the_command_is_listed() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert "worker" in result.output and "task queue" in result.output
