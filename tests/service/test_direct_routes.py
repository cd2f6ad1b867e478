"""The busiest routes answered in front of FastAPI's router (service.direct_routes): which requests
they take, and that they answer as the declared routes do (caller checks, errors, metrics)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest
import requests
from starlette.requests import Request
from starlette.responses import Response

from harness.landscape import MINISTRY_BIN, Landscape
from service import ServiceRuntime, ServiceServer, create_app
from service.callers import add_caller, remove_caller
from service.direct_routes import DirectRoute, DirectRoutes
from service.routes import flows, legal_entities, shep
from service.threadpool import read_store
from tests.service.conftest import Running, error_of, service_settings
from tests.service.test_flows import application


async def _unused(request: Request, parameters: Mapping[str, str]) -> Response:
    raise AssertionError("not called")


def _routes() -> DirectRoutes:
    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("not called")

    return DirectRoutes(app, routes=[*shep.DIRECT, *flows.DIRECT, *legal_entities.DIRECT])


def test_a_route_takes_its_method_and_the_values_fastapi_accepts_and_nothing_else() -> None:
    routes = _routes()
    found = routes.find("GET", "/api/v1/flows/flow-1.a:b")
    assert found is not None
    route, template, parameters = found
    assert (route.template, template.path, parameters) == ("/api/v1/flows/{flow_id}", "/api/v1/flows/{flow_id}",
                                                           {"flow_id": "flow-1.a:b"})
    assert routes.find("GET", "/api/v1/flows/" + "a" * 64) is not None
    # what FastAPI answers itself: a value its route refuses (422), another method (405), another path
    for method, path in [("GET", "/api/v1/flows/" + "a" * 65), ("GET", "/api/v1/flows/a b"),
                         ("POST", "/api/v1/flows/flow-1"), ("GET", "/api/v1/flows/flow-1/resume"),
                         ("GET", "/api/v1/flows"), ("GET", "/api/v1/legal-entities/" + "1" * 33),
                         ("GET", "/shep/sync"), ("POST", "/shep/sync/")]:
        assert routes.find(method, path) is None, (method, path)
    assert routes.find("GET", f"/api/v1/legal-entities/{MINISTRY_BIN}") is not None
    assert routes.find("POST", "/shep/async") is not None


def test_a_parameter_the_template_lacks_is_refused_when_the_app_is_built() -> None:
    with pytest.raises(ValueError, match="no parameter"):
        DirectRoute("GET", "/api/v1/flows/{flow_id}", _unused, {"id": "[a-z]+"}).matcher()


def test_a_store_read_runs_on_the_event_loop_for_a_local_store_and_on_a_thread_otherwise() -> None:
    async def where(local: bool) -> tuple[int, int]:
        return threading.get_ident(), await read_store(threading.get_ident, local=local)

    loop_thread, reader = asyncio.run(where(True))
    assert reader == loop_thread
    loop_thread, reader = asyncio.run(where(False))
    assert reader != loop_thread


def test_a_flow_answered_directly_checks_the_caller_and_is_counted_under_its_template(flows: Running) -> None:
    def counted(status: int) -> float:
        wanted = f'egov_service_requests_total{{method="GET",route="/api/v1/flows/{{flow_id}}",status="{status}"}}'
        for line in requests.get(f"{flows.url}/metrics", timeout=30).text.splitlines():
            if line.startswith(wanted):
                return float(line.split()[-1])
        return 0.0

    before = counted(404)
    answer = flows.get("/api/v1/flows/no-such-flow", headers={"X-Request-ID": "direct-1"})
    assert error_of(answer, 404, "EGOV501")["request_id"] == "direct-1"
    assert counted(404) == before + 1
    error_of(flows.get("/api/v1/flows/no-such-flow", caller=None), 401, "EGOV601")
    error_of(flows.get("/api/v1/flows/no-such-flow", caller=None, headers={"X-API-Key": "egk_nope"}), 401, "EGOV601")
    other = add_caller(flows.callers_file, "direct-other", ["legal_entities:lookup"])
    try:
        error = error_of(flows.get("/api/v1/flows/no-such-flow", caller=None, headers={"X-API-Key": other}), 403,
                         "EGOV602")
        assert "'flows:read'" in error["message"]
    finally:
        remove_caller(flows.callers_file, "direct-other")
    # a value FastAPI's route refuses is FastAPI's answer, as before
    assert error_of(flows.get("/api/v1/flows/" + "a" * 65), 422, "EGOV100")["field"] == "flow_id"


def test_a_flow_in_a_postgresql_store_is_read_on_the_stores_threads(landscape: Landscape, manifest: Path,
                                                                      postgres_db_url: str, tmp_path: Path) -> None:
    """A server database is read on the store's threads (its reads wait on the network), and the
    route answers the same."""
    settings = service_settings(manifest, tmp_path, database_url=postgres_db_url, flow_files_dir=landscape.workdir,
                                artefacts_dir=tmp_path / "artefacts", worker_threads=1)
    key = add_caller(settings.service_callers_file, "reader", ["flows:read", "flows:start"])
    with ServiceRuntime.from_settings(settings) as runtime, ServiceServer(create_app(runtime)) as server:
        assert not runtime.store_is_local
        headers = {"X-API-Key": key}
        started = requests.post(f"{server.url}/api/v1/flows", json={"application": application(landscape, 2)},
                                headers=headers, timeout=60)
        assert started.status_code == 202, started.text
        flow_id = started.json()["flow_id"]
        answer = requests.get(f"{server.url}/api/v1/flows/{flow_id}", headers=headers, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["flow_id"] == flow_id and answer.json()["diagram_number"] == 2
        listed = requests.get(f"{server.url}/api/v1/flows", headers=headers, timeout=60).json()
        assert [f["flow_id"] for f in listed["flows"]] == [flow_id]
