"""One simulator landscape and one running service for the service's tests, over real HTTP.

- ``landscape``: every simulator on free ports (``Landscape.start``), its manifest written;
- ``issued``: a licence issued by one licensing flow run through the ``egov flow run`` command
  against that landscape (its licence number, application number, licensor);
- ``service``: ``egov serve``'s app (``create_app`` over a ``ServiceRuntime`` built from settings
  that point at the manifest) on uvicorn on a free port, with three callers: ``full`` (``*``),
  ``lookup`` (``legal_entities:lookup`` only) and ``echo`` (``shep:ECHO`` only);
- ``flows``: a second service running licensing flows as tasks on its own threads (no broker),
  allowed the landscape's files, with the applicants paying at their bank in the background;
  callers ``full``, ``reader`` (``flows:read``) and ``starter`` (``flows:start``, ``flows:read``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from adapters.core.settings import Settings, load_settings
from cli.main import cli
from harness.landscape import Landscape
from procedure.credentials import SecretRef
from service import ServiceRuntime, ServiceServer, create_app
from service.callers import add_caller
from tests.fixtures.paying_bank import PayingBank


@dataclass(frozen=True)
class Issued:
    licence_number: str
    application_number: str
    licensor: str
    licensee_bin: str


@dataclass
class Running:
    """A running service: its URL, runtime, settings and the callers' keys."""

    url: str
    runtime: ServiceRuntime
    settings: Settings
    keys: dict[str, str]
    callers_file: Path

    def call(self, method: str, path: str, *, caller: str | None = "full", **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if caller is not None:
            headers.setdefault("X-API-Key", self.keys[caller])
        return requests.request(method, self.url + path, headers=headers, timeout=60, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)


def error_of(answer: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The JSON error of ``answer``, checked: status, code, the documented shape, no traceback."""
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/json")
    assert "Traceback" not in answer.text
    body = answer.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["retryable"], bool)
    assert error["request_id"] == answer.headers["X-Request-ID"]
    return error


@pytest.fixture(scope="package")
def landscape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landscape]:
    with Landscape.start(tmp_path_factory.mktemp("service-landscape")) as land:
        land.write_manifest()
        yield land


@pytest.fixture(scope="package")
def manifest(landscape: Landscape) -> Path:
    return landscape.write_manifest()


@pytest.fixture(scope="package")
def issued(landscape: Landscape, manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Issued:
    work = tmp_path_factory.mktemp("service-flow")
    result = CliRunner().invoke(cli, ["flow", "run", "--service", "school", "--manifest", str(manifest),
                                      "--db", f"sqlite:///{work / 'flows.db'}", "--out", str(work / "out")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    found = dict(re.findall(r"^(licence_number|application_number):\s+(\S+)$", result.output, re.MULTILINE))
    application = next(a for a in landscape.applications() if a["number"] == found["application_number"])
    return Issued(found["licence_number"], found["application_number"], str(application["licensor"]),
                  str(application["applicant"]))


def service_settings(manifest: Path, work: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "landscape_manifest": manifest, "service_callers_file": work / "callers.json",
        "database_url": f"sqlite:///{work / 'service.db'}", "retry_max_attempts": 3,
        "retry_max_total_seconds": 10.0, "read_timeout_seconds": 30.0, "service_max_request_bytes": 1024 * 1024,
        **overrides}
    return load_settings(**values)


@pytest.fixture(scope="package")
def service(landscape: Landscape, manifest: Path, issued: Issued,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    work = tmp_path_factory.mktemp("service")
    employee_password = landscape.endpoints.employee_password  # the manifest's reference to its file
    assert isinstance(employee_password, SecretRef) and employee_password.file is not None
    settings = service_settings(manifest, work, elicense_employee_login=f"{issued.licensor.lower()}.officer",
                                elicense_employee_password_file=Path(employee_password.file))
    keys = {"full": add_caller(settings.service_callers_file, "full", ["*"]),
            "lookup": add_caller(settings.service_callers_file, "lookup", ["legal_entities:lookup"]),
            "echo": add_caller(settings.service_callers_file, "echo", ["shep:ECHO"])}
    with ServiceRuntime.from_settings(settings) as runtime, ServiceServer(create_app(runtime)) as server:
        yield Running(server.url, runtime, settings, keys, settings.service_callers_file)


@pytest.fixture(scope="package")
def flows(landscape: Landscape, manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The service running flows in-process, allowed to read the landscape's files."""
    work = tmp_path_factory.mktemp("flows-service")
    settings = service_settings(manifest, work, flow_files_dir=landscape.workdir, artefacts_dir=work / "artefacts",
                                worker_threads=4, worker_sweep_seconds=0.5, worker_lease_seconds=5.0,
                                worker_retry_seconds=0.5, flow_notice_wait_seconds=2.0)
    keys = {"full": add_caller(settings.service_callers_file, "full", ["*"]),
            "reader": add_caller(settings.service_callers_file, "reader", ["flows:read"]),
            "starter": add_caller(settings.service_callers_file, "starter", ["flows:start", "flows:read"])}
    with PayingBank(landscape), ServiceRuntime.from_settings(settings) as runtime, \
            ServiceServer(create_app(runtime)) as server:
        yield Running(server.url, runtime, settings, keys, settings.service_callers_file)
