"""The licensing procedure end to end over real HTTP: every branch of both diagrams, every operation.

One simulator landscape (test PKI with OCSP/CRL, gateway + Legal Entities, payment gateway,
E-licensing) runs for the module; each test plays a scenario into the flow's request
(:mod:`harness.play`), runs it through :class:`~procedure.steps.ProcedureSteps` and checks the
outcome, the path, the norms recorded, the review deadline, the simulators' state and the
artefacts (the signed licence verifies again from its file), and that the flow store keeps no secret.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from harness.env import ProcedureEnv, procedure_env
from harness.scenario import Fault, Scenario
from procedure.application import Application
from procedure.calendar import registration_day, review_deadline, working_days_between
from procedure.credentials import reveal
from procedure.diagrams import DIAGRAM_PORTAL, DIAGRAM_PROVIDER, StepKind, get_diagram
from procedure.machine import FlowResult
from procedure.models import FlowStatus, NormVerdict, Operation, Service

SUCCESS_PATH = {1: ("1", "C1", "3", "4", "C2", "6", "C3", "8", "9", "C4", "11"),
                2: ("1", "C1", "3", "4", "C2", "6", "7", "C3", "9")}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcedureEnv]:
    root = tmp_path_factory.mktemp("procedure")
    with procedure_env(manifest=None, db=f"sqlite:///{root / 'egov.db'}", out_dir=root / "out") as made:
        yield made


def _run(env: ProcedureEnv, service: str, diagram: int, fault: Fault = Fault.NONE,
         operation: str = "issue") -> tuple[Scenario, FlowResult]:
    scenario = env.scenario(service, operation, diagram, fault)
    return scenario, env.run(scenario)


def _applications(env: ProcedureEnv, bin_value: str) -> list[dict[str, object]]:
    return [a for a in env.landscape.applications() if a["applicant"] == bin_value]


def _check_norms(result: FlowResult, diagram: int) -> None:
    d = get_diagram({1: "portal", 2: "provider"}[diagram])
    for record in result.history:
        assert record.finished and record.attempts == 1
        step = d.step(record.step)
        if step.norm is None:
            assert record.norm_verdict is NormVerdict.NO_NORM
        else:
            assert record.norm_max_seconds == step.norm.max_seconds
            assert record.norm_verdict is NormVerdict.WITHIN


def _check_licence(env: ProcedureEnv, result: FlowResult) -> None:
    xml, pdf = Path(str(result.data["licence_xml"])), Path(str(result.data["licence_pdf"]))
    assert pdf.read_bytes().startswith(b"%PDF")
    verified = env.clients.elicense.verify_licence(xml.read_bytes())  # signature, chain, OCSP, head's BIN
    assert verified.licence.number == result.data["licence_number"]
    assert "first-head" in verified.signer.roles


# --------------------------------------------------------------------------- success, every service

@pytest.mark.parametrize("service", ["higher-postgraduate", "religious", "technical-vocational", "school",
                                     "republican-budget"])
def test_portal_issue_for_every_service(env: ProcedureEnv, service: str) -> None:
    journal = env.clients.journal
    assert journal is not None
    since = dt.datetime.now(dt.UTC)
    scenario, result = _run(env, service, 1)
    operations = [r.operation for r in journal.between(since)]
    # the decision's answer carries the verified licence: it is not fetched a second time
    assert operations.count("Decide") == 1 and "GetLicence" not in operations
    assert result.status is FlowStatus.COMPLETED and result.path == SUCCESS_PATH[1]
    _check_norms(result, 1)
    received = dt.datetime.fromisoformat(str(result.data["registered_at"]))
    registered = dt.date.fromisoformat(str(result.data["registration_date"]))
    assert registered == registration_day(received)  # after hours or on a day off: the next working day
    deadline = dt.date.fromisoformat(str(result.data["deadline"]))
    assert deadline == review_deadline(registered)
    assert working_days_between(registered, deadline) == 30
    assert result.data["notices"] == ["SENT", "IN_PROGRESS", "ISSUED"]
    assert result.data["payment"]["amount"] == "16180.00"  # type: ignore[index]
    _check_licence(env, result)
    apps = _applications(env, scenario.applicant.bin)
    assert [(a["status"], a["licence_number"]) for a in apps] == [("ISSUED", result.data["licence_number"])]
    assert apps[0]["licensor"] == scenario.officer.licensor_code
    orders = env.landscape.payments(f"{result.flow_id}/4")
    assert [o["status"] for o in orders] == ["PAID"]


# --------------------------------------------------------------------------- every operation, both diagrams

@pytest.mark.parametrize("diagram", [1, 2])
def test_issue_appendix_duplicate_reissue(env: ProcedureEnv, diagram: int) -> None:
    land = env.landscape
    applicant = land.new_applicant()
    officer = land.officer(land.licensor_for("S3", applicant.city_kato).code)
    number: str | None = None
    results: dict[str, FlowResult] = {}
    for op in ("issue", "appendix", "duplicate", "reissue"):
        scenario = Scenario(service=Service.TECHNICAL_VOCATIONAL, operation=Operation(op),
                            diagram=diagram, applicant=applicant, officer=officer,  # type: ignore[arg-type]
                            licence_number=number)
        result = env.run(scenario)
        assert (result.status, result.path) == (FlowStatus.COMPLETED, SUCCESS_PATH[diagram]), result.detail
        _check_norms(result, diagram)
        _check_licence(env, result)
        results[op] = result
        number = str(result.data["licence_number"])
    first = str(results["issue"].data["licence_number"])
    assert results["appendix"].data["licence_number"] == first
    assert results["duplicate"].data["licence_number"] == first
    assert results["duplicate"].data["licence_kind"] == "DUPLICATE"
    assert results["reissue"].data["licence_number"] != first
    assert results["reissue"].data["licence_kind"] == "REISSUED"
    appendix = env.clients.elicense.verify_licence(Path(str(results["appendix"].data["licence_xml"])).read_bytes())
    assert len(appendix.licence.appendices) == 2
    registry = {lic["number"]: lic for lic in land.licences()}
    assert registry[first]["status"] == "REISSUED"
    assert registry[str(results["reissue"].data["licence_number"])]["status"] == "ACTIVE"
    assert len(_applications(env, applicant.bin)) == 4
    if diagram == 1:  # the state fee: a licence, then one MCI for each later operation
        assert [r.data["fee"] for r in results.values()] == ["16180.00", "1618.00", "1618.00", "1618.00"]


# --------------------------------------------------------------------------- Diagram 1 refusals

@pytest.mark.parametrize(("fault", "condition", "end", "reason"), [
    (Fault.NOT_AUTHORISED, "C1", "2", "ELC101"),
    (Fault.NOT_PAID, "C2", "5", "REJECTED"),
    (Fault.CERT_EXPIRED, "C3", "7", "certificate-expired"),
    (Fault.CERT_REVOKED, "C3", "7", "certificate-revoked"),
    (Fault.CERT_OTHER_BIN, "C3", "7", "bin-mismatch"),
])
def test_portal_refusals_before_registration(env: ProcedureEnv, fault: Fault, condition: str, end: str,
                                             reason: str) -> None:
    scenario, result = _run(env, "school", 1, fault)
    assert (result.status, result.step) == (FlowStatus.REFUSED, end)
    assert result.path[-2:] == (condition, end)
    assert result.refusal == DIAGRAM_PORTAL.step(end).message
    assert reason in result.detail
    _check_norms(result, 1)
    assert _applications(env, scenario.applicant.bin) == []  # nothing registered, nothing to review
    assert "deadline" not in result.data
    if fault is Fault.NOT_PAID:  # the bank declined: the applicant's card is short of funds
        orders = env.landscape.payments(f"{result.flow_id}/4")
        assert [(o["status"], o["status_reason"]) for o in orders] == [("REJECTED", "insufficient funds on the card")]


@pytest.mark.parametrize("diagram", [1, 2])
def test_not_authorised_is_a_mistyped_password(env: ProcedureEnv, diagram: int) -> None:
    """The actor typed its password wrong; the account itself holds the right one."""
    scenario, result = _run(env, "school", diagram, Fault.NOT_AUTHORISED)
    assert (result.status, result.step) == (FlowStatus.REFUSED, "2")
    request = Application.of_flow(result.data)
    if diagram == 1:
        portal = request.on_portal()
        assert portal.password.resolve() == scenario.applicant.portal_password + "-mistyped"
        assert not portal.first_time  # the applicant has an account, registered before with the right password
        auth = portal.auth_key.load()
        assert env.clients.elicense.authorize_applicant(auth, scenario.applicant.portal_password).subject == \
            scenario.applicant.bin
    else:
        assert request.officer.password.resolve() == scenario.officer.password + "-mistyped"
        assert env.clients.elicense.authorize_employee(request.officer.login, scenario.officer.password).subject


def test_portal_refusal_for_qualification_writes_the_letter(env: ProcedureEnv) -> None:
    scenario, result = _run(env, "higher-postgraduate", 1, Fault.QUALIFICATION_NOT_MET)
    assert (result.status, result.step) == (FlowStatus.REFUSED, "10")
    assert result.path[-2:] == ("C4", "10")
    assert result.refusal == DIAGRAM_PORTAL.step("10").message
    # the fee was paid at Condition 2: its payment document is never listed as not provided
    assert "restore licence data" in result.detail and "Payment document for the licence fee" not in result.detail
    assert "deadline" in result.data
    [app] = _applications(env, scenario.applicant.bin)
    assert app["status"] == "REFUSED"
    pdf = Path(str(result.data["refusal_pdf"]))
    assert pdf.name == f"refusal-{app['number']}.pdf" and pdf.read_bytes().startswith(b"%PDF")
    letter = env.clients.elicense.verify_refusal(Path(str(result.data["refusal_xml"])).read_bytes())
    comments = [m.comment_kz or "" for m in letter.letter.missing_documents]
    assert comments[0] == ("лицензия алуға өтініштің орнына лицензияның деректерін қалпына келтіру туралы "
                           "өтініш ұсынылған")
    assert len(comments) == 2 and "ғылыми дәрежелері бар оқытушылар үлесі" in comments[1]  # the declared share


# --------------------------------------------------------------------------- Diagram 2 refusals

@pytest.mark.parametrize(("fault", "condition", "end", "reason"), [
    (Fault.NOT_AUTHORISED, "C1", "2", "ELC101"),
    (Fault.ABSENT_FROM_LE, "C2", "5", "absent from the Legal Entities database (not-found)"),
    (Fault.LIQUIDATED, "C2", "5", "LIQUIDATED"),
    (Fault.QUALIFICATION_NOT_MET, "C3", "8", "restore licence data"),
])
def test_provider_refusals(env: ProcedureEnv, fault: Fault, condition: str, end: str, reason: str) -> None:
    scenario, result = _run(env, "religious", 2, fault)
    assert (result.status, result.step) == (FlowStatus.REFUSED, end)
    assert result.path[-2:] == (condition, end)
    assert result.refusal == DIAGRAM_PROVIDER.step(end).message
    assert reason in result.detail
    _check_norms(result, 2)
    apps = _applications(env, scenario.applicant.bin)
    if fault is Fault.QUALIFICATION_NOT_MET:
        assert [a["status"] for a in apps] == ["REFUSED"] and Path(str(result.data["refusal_pdf"])).is_file()
    else:
        assert apps == []
    if condition == "C2":
        assert result.data["legal_entity"]["present"] is (fault is Fault.LIQUIDATED)  # type: ignore[index]


def test_provider_refuses_an_inactive_entity(env: ProcedureEnv) -> None:
    land = env.landscape
    scenario = env.scenario("school", "issue", 2, Fault.NONE)
    record = land.organisation(scenario.applicant.bin)
    assert record is not None
    land.put_organisation({**record, "reg_status": {"code": "INACTIVE", "name_ru": "Бездействующий",
                                                    "name_kz": "Әрекетсіз"}})
    result = env.run(scenario)
    assert (result.status, result.step) == (FlowStatus.REFUSED, "5")
    assert result.data["legal_entity"]["kind"] == "inactive"  # type: ignore[index]
    assert "INACTIVE" in result.detail


def test_the_flow_store_keeps_no_secret(env: ProcedureEnv) -> None:
    """Complete flows of both diagrams (and mistyped passwords) leave no password in the flow
    database's bytes nor in ``egov flow show --json``: the request names its secrets by reference."""
    runs = [_run(env, "school", 1), _run(env, "school", 2), _run(env, "religious", 1, Fault.NOT_AUTHORISED),
            _run(env, "religious", 2, Fault.NOT_AUTHORISED)]
    assert [r.status for _, r in runs[:2]] == [FlowStatus.COMPLETED, FlowStatus.COMPLETED]
    secrets: set[str] = set()
    for scenario, result in runs:
        secrets |= scenario.applicant.secrets() | scenario.officer.secrets()
        request = Application.of_flow(env.store.get_flow(result.flow_id).data)
        refs = [request.officer.password, request.officer.key.password]
        if request.portal is not None:
            refs += [request.portal.password, request.portal.auth_key.password, request.portal.sign_key.password]
        assert all(ref.file is not None and Path(ref.file).stat().st_mode & 0o777 == 0o600 for ref in refs)
    manifest = env.landscape.endpoints
    secrets |= {reveal(manifest.keystore_password), reveal(manifest.sender_password or manifest.keystore_password)}
    assert all(len(secret) >= 8 for secret in secrets)

    database = Path(str(env.store.engine.url.database))
    stored = b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))
    assert all(scenario.applicant.bin.encode() in stored for scenario, _ in runs)  # the flows are in there
    leaked = sorted(secret for secret in secrets if secret.encode() in stored)
    assert leaked == []

    url = env.store.engine.url.render_as_string(hide_password=False)
    for _, result in runs:
        shown = CliRunner().invoke(cli, ["flow", "show", result.flow_id, "--db", url, "--json"])
        assert shown.exit_code == 0, shown.output
        flow = json.loads(shown.output)
        assert flow["flow_id"] == result.flow_id and [h["step"] for h in flow["history"]] == list(result.path)
        reference = Application.of_flow(result.data).officer.password
        assert flow["data"]["application"]["officer"]["password"] == reference.model_dump(mode="json")
        assert [secret for secret in secrets if secret in shown.output] == []


def test_every_branch_of_both_diagrams_is_covered() -> None:
    """The tests above walk every path of both diagrams (kept honest against the diagrams)."""
    walked = {("portal", SUCCESS_PATH[1][-1]), ("provider", SUCCESS_PATH[2][-1]),
              ("portal", "2"), ("portal", "5"), ("portal", "7"), ("portal", "10"),
              ("provider", "2"), ("provider", "5"), ("provider", "8")}
    ends = {(d.id, s.id) for d in (DIAGRAM_PORTAL, DIAGRAM_PROVIDER) for s in d
            if s.kind in (StepKind.REFUSAL, StepKind.RESULT)}
    assert walked == ends


def test_flow_show_and_describe_from_the_cli(env: ProcedureEnv) -> None:
    _, result = _run(env, "school", 2)
    url = env.store.engine.url.render_as_string(hide_password=False)
    shown = CliRunner().invoke(cli, ["flow", "show", result.flow_id, "--db", url])
    assert shown.exit_code == 0, shown.output
    assert f"flow {result.flow_id}: completed at step 9" in shown.output
    assert "1.5 min  within" in shown.output  # step 4, the Legal Entities request, against its norm
    # the memo's status and the application's type by code and by name, in Kazakh and Russian
    assert "application status: ISSUED беру шешімі қабылданды / принято решение о выдаче\n" in shown.output
    assert "application type:   ISSUE Лицензия және қосымшаларды беруге өтініш / " in shown.output
    described = CliRunner().invoke(cli, ["flow", "describe", "--diagram", "2", "--mermaid"])
    assert described.exit_code == 0 and described.output.startswith("flowchart TD")
    assert "sC2 -->|fail| s5" in described.output
