"""Crash drill: a flow killed (SIGKILL) at each step in turn resumes and finishes with no duplicate.

For every crash point of a successful flow (every action, condition and the result step of
Diagram 1 and Diagram 2, ``:before`` and ``:after``; derived from the diagrams in
:mod:`tests.drills.crash`), ``egov flow run`` runs in a subprocess with ``EGOV_FLOW_CRASH_AT`` and
dies by SIGKILL; ``egov flow resume`` is killed once more at the next step, then resumed again to
the end. The flow store and the simulators' control APIs then show: the flow completed, each
killed step ran twice under the same idempotency key, and nothing was registered, paid, charged,
issued or notified twice.

The default run drills a bounded subset (see ``default_subset``); ``EGOV_DRILL_SCALE`` > 1 or
``-m drill`` runs the full matrix (docs/drills.md, "Crash drill"). A few cells also run with each
``egov`` in a fresh interpreter (not forked from the warm server): a worker that shares nothing with
the killed process but the flow store and the landscape's manifest resumes the flow.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.landscape import Landscape
from procedure.diagrams import StepKind
from procedure.models import FlowStatus
from procedure.store import FlowStore, idempotency_key
from tests.drills import drill_scale
from tests.drills.crash import (
    DIAGRAMS,
    CrashCase,
    ForkServer,
    crash_points,
    default_subset,
    describe,
    full_matrix,
    notices_by_application,
    of_applicant,
    success_path,
)
from tests.drills.crash import egov as fresh_egov

pytestmark = pytest.mark.drill


def _full_run(config: pytest.Config) -> bool:
    return drill_scale() > 1 or "drill" in (config.getoption("markexpr", "") or "")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        cases = full_matrix() if _full_run(metafunc.config) else default_subset()
        metafunc.parametrize("case", cases, ids=[c.id for c in cases])


@pytest.fixture(scope="module")
def landscape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Landscape, Path]]:
    root = tmp_path_factory.mktemp("crash-drill")
    with Landscape.start(root / "landscape") as land:
        yield land, land.write_manifest(root / "landscape.json")


@pytest.fixture(scope="module")
def egov() -> Iterator[ForkServer]:
    """``egov`` in fresh processes forked from a warm server (tests/drills/forkserver.py)."""
    with ForkServer() as server:
        yield server


# --------------------------------------------------------------------------- the matrix itself

def test_crash_points_cover_every_step_a_successful_flow_passes() -> None:
    for diagram in DIAGRAMS.values():
        path = success_path(diagram)
        on_path = {s.id for s in diagram if s.kind in (StepKind.ACTION, StepKind.CONDITION, StepKind.RESULT)}
        assert set(path) == on_path  # every action and condition lies on the ok path, and the result ends it
        points = crash_points(diagram)
        assert len(points) == 2 * len(on_path) == len(set(points))
    matrix = full_matrix()
    assert len(matrix) == len(set(matrix)) == sum(len(crash_points(d)) for d in DIAGRAMS.values()) \
        + len(crash_points(DIAGRAMS["1"]))
    subset = default_subset()
    assert set(subset) <= set(matrix)
    # the bounded run still kills every action step of both diagrams, and the re-issue where state changes
    for d, diagram in DIAGRAMS.items():
        assert {c.step for c in subset if c.diagram == d and c.operation == "issue"} == \
            {s.id for s in diagram.of_kind(StepKind.ACTION)}
    assert {c.step for c in subset if c.operation == "reissue"} == {"4", "9", "11"}


# --------------------------------------------------------------------------- one cell

def test_killed_flow_resumes_without_duplicates(landscape: tuple[Landscape, Path], egov: ForkServer,
                                                tmp_path: Path, case: CrashCase) -> None:
    land, manifest = landscape
    run = _crash_and_resume(egov, manifest, tmp_path, case)
    _assert_no_duplicates(land, case, run)


def test_the_drill_catches_a_step_that_ignores_its_idempotency_key(landscape: tuple[Landscape, Path],
                                                                   egov: ForkServer, tmp_path: Path) -> None:
    """Self-test: with step 4 paying under a new reference at each attempt, the flow still completes,
    but the drill sees the second order."""
    land, manifest = landscape
    case = CrashCase("1", "issue", "4", "after")
    run = _crash_and_resume(egov, manifest, tmp_path, case, sabotage="fresh-payment-reference")
    with pytest.raises(AssertionError):
        _assert_no_duplicates(land, case, run)
    payer_orders = of_applicant(land.payments(), "payer_iin_bin", run.applicant)
    assert len(payer_orders) == 2 and all(o["status"] == "PAID" for o in payer_orders)


@dataclass(frozen=True)
class DrillRun:
    flow_id: str
    applicant: str
    data: dict[str, Any]
    kills: tuple[str, ...]


def _crash_and_resume(egov: ForkServer, manifest: Path, tmp_path: Path, case: CrashCase, *,
                      sabotage: str | None = None) -> DrillRun:
    """Kill the flow at the case's point, kill the resume at the next step, resume to the end;
    check the flow store at each stage."""
    diagram = case.diagram_def
    result_step = success_path(diagram)[-1]
    db = f"sqlite:///{tmp_path / 'flows.db'}"
    flow_id = uuid.uuid4().hex
    common = ["--manifest", str(manifest), "--db", db, "--out", str(tmp_path / "out")]

    # 1. killed at the crash point
    killed = egov.egov("flow", "run", "--service", "higher-postgraduate", "--operation", case.operation,
                       "--diagram", case.diagram, "--flow-id", flow_id, *common, crash_at=case.spec, cwd=tmp_path,
                       sabotage=sabotage)
    assert killed.returncode == -signal.SIGKILL, describe(killed)
    assert f"flow {flow_id} started" in killed.stdout
    store = FlowStore.from_url(db)
    try:
        stopped = store.get_flow(flow_id)
        assert (stopped.status, stopped.current_step) == (FlowStatus.RUNNING, case.step)
        open_step = store.step(flow_id, case.step)
        assert open_step.finished_at is None and open_step.attempts == 1
        assert open_step.idempotency_key == idempotency_key(flow_id, case.step)
        applicant = str(stopped.data["application"]["applicant"]["bin"])
        kills = [case.spec]

        # 2. the resume is killed once more, at the next step (just after it did its work)
        later = case.later_step()
        if later is not None:
            again = egov.egov("flow", "resume", flow_id, *common, crash_at=f"{later}:after", cwd=tmp_path,
                              sabotage=sabotage)
            assert again.returncode == -signal.SIGKILL, describe(again)
            assert f"resuming at step {case.step}" in again.stdout
            mid = store.get_flow(flow_id)
            assert (mid.status, mid.current_step) == (FlowStatus.RUNNING, later)
            assert store.step(flow_id, case.step).finished_at is not None
            assert store.step(flow_id, later).finished_at is None
            kills.append(f"{later}:after")

        # 3. resumed to the end
        resumed = egov.egov("flow", "resume", flow_id, *common, cwd=tmp_path, sabotage=sabotage)
        assert resumed.returncode == 0, describe(resumed)
        done = store.get_flow(flow_id)
        assert (done.status, done.current_step) == (FlowStatus.COMPLETED, result_step), done.error
        history = store.history(flow_id)
    finally:
        store.engine.dispose()

    # the flow walked the ok path once; each killed step ran twice with its one key, the others once
    assert [r.step for r in history] == list(success_path(diagram))
    repeated = {spec.partition(":")[0] for spec in kills}
    for record in history:
        assert record.finished_at is not None, record.step
        assert record.idempotency_key == idempotency_key(flow_id, record.step)
        assert record.attempts == (2 if record.step in repeated else 1), (record.step, record.attempts)
    assert Path(str(done.data["licence_xml"])).is_file()
    return DrillRun(flow_id=flow_id, applicant=applicant, data=dict(done.data), kills=tuple(kills))


def _assert_no_duplicates(land: Landscape, case: CrashCase, run: DrillRun) -> None:
    """The simulators' state: one application, order, charge, licence and notice where one is due."""
    flow_id, applicant, data, kills = run.flow_id, run.applicant, run.data, run.kills
    reissue = case.operation == "reissue"
    licence_number = str(data["licence_number"])

    # E-licensing: one application per flow, one licence per decision
    apps = of_applicant(land.applications(), "applicant", applicant)
    assert sorted(a["type"] for a in apps) == (["ISSUE", "REISSUE"] if reissue else ["ISSUE"]), apps
    assert all(a["status"] == "ISSUED" for a in apps), apps
    mine = [a for a in apps if a["number"] == data["application_number"]]
    assert len(mine) == 1 and mine[0]["licence_number"] == licence_number
    licences = {lic["number"]: lic for lic in of_applicant(land.licences(), "iin_bin", applicant)}
    assert licences[licence_number]["status"] == "ACTIVE"
    if reissue:
        original = next(a for a in apps if a["type"] == "ISSUE")["licence_number"]
        assert mine[0]["target_licence"] == original
        assert set(licences) == {original, licence_number}
        assert licences[original]["status"] == "REISSUED" and licences[licence_number]["kind"] == "REISSUED"
    else:
        assert list(licences) == [licence_number]

    # one status notice per status change of each application, none published twice
    notices = notices_by_application(land.notifications(), {str(a["number"]) for a in apps})
    for app in apps:
        statuses = [h["status"] for h in app["history"]]
        assert len(statuses) == len(set(statuses)), app["history"]
        assert notices[str(app["number"])] == statuses, (app["number"], notices)

    # the payment gateway: Diagram 1 pays once per flow (one order, one charge); Diagram 2 pays nothing
    payer_orders = of_applicant(land.payments(), "payer_iin_bin", applicant)
    if case.diagram == "1":
        orders = land.payments(idempotency_key(flow_id, "4"))
        assert len(orders) == 1 and orders[0]["status"] == "PAID", orders
        payment = data["payment"]
        assert isinstance(payment, dict) and payment["document_number"] == orders[0]["document_number"]
        # a process killed right after creating the order asked again with the same clientReference
        assert orders[0]["create_requests"] == 1 + kills.count("4:after")
        assert len(payer_orders) == (2 if reissue else 1)
        assert all(o["status"] == "PAID" for o in payer_orders)
        assert len({o["document_number"] for o in payer_orders}) == len(payer_orders)
    else:
        assert payer_orders == []


# --------------------------------------------------------------------------- a fresh interpreter each time

@pytest.mark.parametrize(("diagram", "crash_at", "repeated"), [
    ("1", "4:after", "4"),     # paid, the process died before the step was recorded
    ("1", "9:after", "9"),     # registered (and taken into work), not recorded
    ("1", "11:before", "11"),  # about to decide and fetch the licence
    ("2", "7:after", "7"),     # Diagram 2: registered, not recorded
])
def test_killed_flow_resumes_in_a_fresh_interpreter(landscape: tuple[Landscape, Path], tmp_path: Path,
                                                    diagram: str, crash_at: str, repeated: str) -> None:
    """``egov flow run`` killed, ``egov flow resume`` in a new interpreter: one application, one
    payment, one licence."""
    land, manifest = landscape
    db = f"sqlite:///{tmp_path / 'flows.db'}"
    flow_id = uuid.uuid4().hex
    common = ["--manifest", str(manifest), "--db", db, "--out", str(tmp_path / "out")]

    killed = fresh_egov("flow", "run", "--service", "higher-postgraduate", "--operation", "issue",
                        "--diagram", diagram, "--flow-id", flow_id, *common, crash_at=crash_at, cwd=tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert f"flow {flow_id} started" in killed.stdout

    store = FlowStore.from_url(db)
    stopped = store.get_flow(flow_id)
    assert stopped.status is FlowStatus.RUNNING and stopped.current_step == repeated
    open_step = store.step(flow_id, repeated)
    assert not open_step.finished and open_step.attempts == 1
    applicant = stopped.data["application"]["applicant"]["bin"]

    resumed = fresh_egov("flow", "resume", flow_id, *common, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    done = store.get_flow(flow_id)
    assert done.status is FlowStatus.COMPLETED
    again = store.step(flow_id, repeated)
    assert again.finished and again.attempts == 2  # the same step, with the same idempotency key
    assert [r.step for r in store.history(flow_id)][-1] == ("11" if diagram == "1" else "9")
    store.engine.dispose()

    apps = [a for a in land.applications() if a["applicant"] == applicant]
    assert len(apps) == 1 and apps[0]["status"] == "ISSUED"
    licences = [lic for lic in land.licences() if lic["iin_bin"] == applicant]
    assert [lic["number"] for lic in licences] == [apps[0]["licence_number"]] == [done.data["licence_number"]]
    if diagram == "1":
        orders = land.payments(f"{flow_id}/4")
        assert len(orders) == 1 and orders[0]["status"] == "PAID"  # one order, one charge
        assert len([o for o in land.payments() if o["payer_iin_bin"] == applicant]) == 1
        # dying right after paying, the resumed step asked again with the same clientReference
        assert orders[0]["create_requests"] == (2 if repeated == "4" else 1)
    assert Path(str(done.data["licence_xml"])).is_file()
