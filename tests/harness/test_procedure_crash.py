"""A flow killed mid-way (SIGKILL) and resumed in a new process: one application, one payment, one licence.

The simulator landscape runs in the test process and writes its manifest; ``egov flow run`` runs in
a subprocess with ``EGOV_FLOW_CRASH_AT`` (the test hook of :mod:`procedure.wiring`) and
dies at the chosen point; ``egov flow resume`` finishes the flow in another subprocess. The
simulators' control APIs then show that nothing was paid, registered or issued twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.landscape import Landscape
from procedure.models import FlowStatus
from procedure.store import FlowStore

EGOV = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def landscape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Landscape, Path]]:
    root = tmp_path_factory.mktemp("crash")
    with Landscape.start(root / "landscape") as land:
        yield land, land.write_manifest(root / "landscape.json")


def _egov(*args: str, crash_at: str | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_")}
    if crash_at:
        env["EGOV_FLOW_CRASH_AT"] = crash_at
    return subprocess.run([*EGOV, *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
                          check=False)


@pytest.mark.parametrize(("diagram", "crash_at", "repeated"), [
    ("1", "4:after", "4"),     # paid, the process died before the step was recorded
    ("1", "9:after", "9"),     # registered (and taken into work), not recorded
    ("1", "11:before", "11"),  # about to decide and fetch the licence
    ("2", "7:after", "7"),     # Diagram 2: registered, not recorded
])
def test_killed_flow_resumes_without_repeating_effects(landscape: tuple[Landscape, Path], tmp_path: Path,
                                                       diagram: str, crash_at: str, repeated: str) -> None:
    land, manifest = landscape
    db = f"sqlite:///{tmp_path / 'flows.db'}"
    flow_id = uuid.uuid4().hex
    common = ["--manifest", str(manifest), "--db", db, "--out", str(tmp_path / "out")]

    killed = _egov("flow", "run", "--service", "higher-postgraduate", "--operation", "issue", "--diagram", diagram,
                   "--flow-id", flow_id, *common, crash_at=crash_at, cwd=tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert f"flow {flow_id} started" in killed.stdout

    store = FlowStore.from_url(db)
    stopped = store.get_flow(flow_id)
    assert stopped.status is FlowStatus.RUNNING and stopped.current_step == repeated
    open_step = store.step(flow_id, repeated)
    assert not open_step.finished and open_step.attempts == 1
    applicant = stopped.data["scenario"]["applicant"]["bin"]

    resumed = _egov("flow", "resume", flow_id, *common, cwd=tmp_path)
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
