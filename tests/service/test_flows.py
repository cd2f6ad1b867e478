"""``/api/v1/flows``: licensing flows started over the API, run as tasks on the service's own
threads (no broker), read and resumed; the secrets policy of the request; permissions.

The applicants pay their fee orders at their bank in the background (``tests.fixtures.paying_bank``):
the service only creates the order and waits for the payment, as a deployment does.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

from adapters.contracts.elicense import SERVICE_NAMES
from adapters.core.private_files import write_private
from harness import play
from harness.landscape import Landscape
from harness.scenario import Fault, Scenario
from procedure.application import SERVICE_CODES
from procedure.diagrams import get_diagram
from procedure.models import Operation, Service
from tests.service.conftest import Running, error_of

FLOW_TIMEOUT = 90.0


def application(land: Landscape, diagram: int = 1, fault: Fault = Fault.NONE,
                service: Service = Service.SCHOOL) -> dict[str, Any]:
    """A new applicant's request, as JSON, its fault played (``harness.play``)."""
    applicant = land.new_applicant(fault=fault)
    officer = land.officer(land.licensor_for(SERVICE_CODES[service], applicant.city_kato).code)
    scenario = Scenario(service=service, operation=Operation.ISSUE, diagram=diagram,  # type: ignore[arg-type]
                        fault=fault, applicant=applicant, officer=officer)
    return play.application(scenario, land).model_dump(mode="json")


def start(svc: Running, app: dict[str, Any], **extra: Any) -> dict[str, Any]:
    answer = svc.post("/api/v1/flows", json={"application": app, **extra})
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    assert answer.headers["Location"] == body["href"] == f"/api/v1/flows/{body['flow_id']}"
    return body


def wait_ended(svc: Running, flow_id: str, *, statuses: tuple[str, ...] = ("completed", "refused"),
               timeout: float = FLOW_TIMEOUT) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = svc.get(f"/api/v1/flows/{flow_id}").json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def test_a_flow_started_over_the_api_runs_to_a_licence_as_tasks(flows: Running, landscape: Landscape) -> None:
    first, second = application(landscape, 1), application(landscape, 2, service=Service.RELIGIOUS)
    d1 = start(flows, first)
    d2 = start(flows, second)
    assert (d1["status"], d1["current_step"], d1["queued"]) == ("running", "1", True)
    for accepted, diagram in ((d1, "portal"), (d2, "provider")):
        flow = wait_ended(flows, accepted["flow_id"])
        assert (flow["status"], flow["diagram"]) == ("completed", diagram), flow
        steps = flow["steps"]
        walked = [s["step"] for s in steps]
        assert walked[0] == "1" and walked[-1] == get_diagram(diagram).step(flow["current_step"]).id
        assert all(s["attempts"] == 1 and s["finished_at"] and s["error"] is None for s in steps)
        assert all(s["idempotency_key"] == f"{flow['flow_id']}/{s['step']}" for s in steps)
        normed = [s for s in steps if s["norm"] is not None]
        assert normed and all(s["verdict"] in ("within", "over") for s in normed)
        assert all(s["verdict"] == "no-norm" for s in steps if s["norm"] is None)
        results = flow["results"]
        assert results["licence_number"] and results["application_number"]
        dt.date.fromisoformat(results["deadline"])
        assert Path(flow["documents"]["licence_xml"]).is_file()
        pdf = Path(flow["documents"]["licence_pdf"])
        for _ in range(100):  # rendered by a task of its own
            if pdf.is_file():
                break
            time.sleep(0.1)
        assert pdf.read_bytes().startswith(b"%PDF")
        # the simulators saw one application of the flow, and Diagram 1 paid one order under the step's key
        apps = [a for a in landscape.applications() if a["number"] == results["application_number"]]
        assert len(apps) == 1 and apps[0]["status"] == "ISSUED"
        # what a person reads, by code and in Kazakh and Russian; the codes themselves unchanged
        names = flow["names"]
        assert names["application_status"] == {"code": "ISSUED", "kk": "беру шешімі қабылданды",
                                               "ru": "принято решение о выдаче"}
        assert names["application_type"]["code"] == "ISSUE" and flow["operation"] == "issue"
        assert names["category"] == {"code": "", "kk": "Қызмет түріне лицензия", "ru": "Лицензия на вид деятельности"}
        assert names["service"]["code"] == SERVICE_CODES[Service(flow["service"])]
        assert names["service"]["kk"] and names["service"]["ru"] and names["service"]["kk"] != names["service"]["ru"]
    orders = landscape.payments(client_reference=f"{d1['flow_id']}/4")
    assert [o["status"] for o in orders] == ["PAID"]


def test_a_refusal_is_reported_with_the_regulations_message(flows: Running, landscape: Landscape) -> None:
    accepted = start(flows, application(landscape, 1, Fault.NOT_PAID))
    flow = wait_ended(flows, accepted["flow_id"])
    assert (flow["status"], flow["current_step"]) == ("refused", get_diagram("portal").step("C2").on_fail), flow
    assert flow["refusal"]["kk"] and flow["refusal"]["ru"] and flow["refusal"]["en"]
    assert "REJECTED: insufficient funds" in flow["refusal_detail"]
    assert flow["deadline_state"] is None and flow["documents"]["licence_xml"] is None
    assert flow["names"]["application_status"] is None  # refused before E-licensing had an application


def test_starting_with_a_flow_id_is_idempotent(flows: Running, landscape: Landscape) -> None:
    app = application(landscape, 2)
    flow_id = f"crm-{uuid.uuid4().hex[:12]}"
    first = start(flows, app, flow_id=flow_id)
    again = flows.post("/api/v1/flows", json={"application": app, "flow_id": flow_id})
    assert first["flow_id"] == flow_id
    assert again.status_code == 200 and again.json()["flow_id"] == flow_id
    other = application(landscape, 2)
    error_of(flows.post("/api/v1/flows", json={"application": other, "flow_id": flow_id}), 409, "EGOV502")
    wait_ended(flows, flow_id)


def test_a_failed_flow_is_resumed_through_the_api(flows: Running, landscape: Landscape) -> None:
    """The applicant's password file is missing when the flow starts: the step fails (a setting to
    mend, not worth waiting for), the flow is left failed; once the file is back, resume finishes it."""
    app = application(landscape, 1)
    original = Path(app["portal"]["password"]["file"])
    moved = original.with_name(original.name + ".later")
    copy = original.with_name(f"resume-{uuid.uuid4().hex[:8]}.typed")
    write_private(copy, original.read_bytes())  # a secret file others may read is refused
    app["portal"]["password"]["file"] = str(copy)
    accepted = start(flows, app)
    copy.rename(moved)
    failed = wait_ended(flows, accepted["flow_id"], statuses=("failed",))
    assert failed["error"] and "secret" in failed["error"]
    assert failed["steps"][-1]["error"] and failed["retry_at"] is None
    moved.rename(copy)
    resumed = flows.post(f"/api/v1/flows/{accepted['flow_id']}/resume")
    assert resumed.status_code == 202 and resumed.json()["queued"] is True
    done = wait_ended(flows, accepted["flow_id"])
    assert done["status"] == "completed"
    assert max(s["attempts"] for s in done["steps"]) == 2  # the failed step, run again under its key
    again = flows.post(f"/api/v1/flows/{accepted['flow_id']}/resume")
    assert again.status_code == 200 and again.json()["status"] == "completed"
    error_of(flows.post("/api/v1/flows/no-such-flow/resume"), 404, "EGOV501")


def test_secrets_are_references_to_allowed_places_only(flows: Running, landscape: Landscape, tmp_path: Path) -> None:
    app = application(landscape, 1)
    clear = {**app, "portal": {**app["portal"], "password": "s3cret-typed-in-clear"}}
    assert error_of(flows.post("/api/v1/flows", json={"application": clear}), 422, "EGOV100")["field"] \
        .startswith("application.portal.password")
    outside = tmp_path / "password"
    outside.write_text("x")
    elsewhere = {**app, "portal": {**app["portal"], "password": {"file": str(outside)}}}
    error = error_of(flows.post("/api/v1/flows", json={"application": elsewhere}), 422, "EGOV100")
    assert error["field"] == "application.portal.password.file" and "EGOV_FLOW_FILES_DIR" in error["message"]
    escape = {**app, "attachments": [{"name": "x.pdf", "path": str(landscape.workdir / ".." / outside.name)}]}
    assert error_of(flows.post("/api/v1/flows", json={"application": escape}), 422, "EGOV100")["field"] \
        == "application.attachments.0.path"
    env = {**app, "officer": {**app["officer"], "password": {"env": "HOME"}}}
    assert error_of(flows.post("/api/v1/flows", json={"application": env}), 422, "EGOV100")["field"] \
        == "application.officer.password.env"
    assert flows.get("/api/v1/flows", params={"limit": 500}).json()["count"] == len(
        flows.runtime.flows.runtime.store.find_flows(limit=500))  # none of them was recorded


def test_flows_are_listed_with_filters(flows: Running, landscape: Landscape) -> None:
    since = dt.datetime.now(dt.UTC)
    accepted = start(flows, application(landscape, 2, service=Service.TECHNICAL_VOCATIONAL))
    wait_ended(flows, accepted["flow_id"])
    listed = flows.get("/api/v1/flows", params={"since": since.isoformat(), "diagram": "2",
                                                "service": "technical-vocational", "status": "completed"}).json()
    assert [f["flow_id"] for f in listed["flows"]] == [accepted["flow_id"]] and listed["count"] == 1
    assert listed["flows"][0]["licence_number"]
    assert listed["flows"][0]["names"]["service"] == {"code": "S3", "kk": SERVICE_NAMES["S3"][0],
                                                      "ru": SERVICE_NAMES["S3"][1]}
    assert flows.get("/api/v1/flows", params={"since": since.isoformat(), "diagram": "portal",
                                              "service": "technical-vocational"}).json()["count"] == 0
    assert error_of(flows.get("/api/v1/flows", params={"diagram": "3"}), 422, "EGOV100")["field"] == "diagram"
    assert error_of(flows.get("/api/v1/flows", params={"status": "lost"}), 422, "EGOV100")["field"] == "status"


def test_callers_need_the_flows_permissions(flows: Running, landscape: Landscape) -> None:
    body = {"application": application(landscape, 2)}
    error_of(flows.post("/api/v1/flows", json=body, caller=None), 401, "EGOV601")
    error_of(flows.post("/api/v1/flows", json=body, caller="reader"), 403, "EGOV602")
    error_of(flows.post("/api/v1/flows/any-flow/resume", caller="starter"), 403, "EGOV602")
    assert flows.get("/api/v1/flows", caller="reader").status_code == 200
    error_of(flows.get("/api/v1/flows/no-such-flow", caller="reader"), 404, "EGOV501")


def test_the_flow_routes_are_in_the_openapi_schema(flows: Running) -> None:
    paths = flows.get("/openapi.json", caller=None).json()["paths"]
    assert set(paths["/api/v1/flows"]) == {"get", "post"}
    assert "202" in paths["/api/v1/flows"]["post"]["responses"]
    assert "post" in paths["/api/v1/flows/{flow_id}/resume"] and "get" in paths["/api/v1/flows/{flow_id}"]
