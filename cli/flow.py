"""``egov flow``: run, resume, show and describe one licensing flow.

``egov flow run --service S --operation O --diagram 1|2 [--scenario FAULT]`` runs one flow against
a landscape: the one named by ``--manifest`` (started elsewhere, e.g. by ``egov sim up``), or a
landscape started in this process for the run. Flow state goes to ``--db`` (default: the settings'
database), so ``egov flow resume FLOW_ID`` continues a flow interrupted at any step.

Test hook: ``EGOV_FLOW_CRASH_AT=<step id>[:before|:after]`` kills the process (SIGKILL) at that
point of the flow — see :mod:`procedure.wiring`. Only for crash drills.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from harness.landscape import Landscape
    from procedure.clients import ProcedureClients
    from procedure.machine import FlowContext, FlowResult
    from procedure.store import FlowStore
    from procedure.wiring import Fault, ProcedureWiring, Scenario, StepObserver

SERVICES = ("higher-postgraduate", "religious", "technical-vocational", "school", "republican-budget")
OPERATIONS = ("issue", "reissue", "duplicate", "appendix")
FAULTS = ("none", "not-authorised", "not-paid", "cert-expired", "cert-revoked", "cert-other-bin",
          "absent-from-le", "liquidated", "qualification-not-met")


@dataclass
class ProcedureEnv:
    """A landscape (started here or attached), the clients, the flow store, and a wiring factory."""

    landscape: Landscape
    clients: ProcedureClients
    store: FlowStore
    out_dir: Path
    observer: StepObserver | None = None

    def wiring(self, *, crash_at: str | None = None) -> ProcedureWiring:
        from adapters.core.settings import get_settings
        from procedure.wiring import ProcedureWiring

        s = get_settings()
        return ProcedureWiring(self.clients, bank=self.landscape.bank, out_dir=self.out_dir, observer=self.observer,
                               mci=s.mci_kzt, licence_fee_mci=s.licence_fee_mci, crash_at=crash_at,
                               notice_deadline=2.0)

    def run(self, scenario: Scenario, *, flow_id: str | None = None, crash_at: str | None = None) -> FlowResult:
        runner = self.wiring(crash_at=crash_at).runner(scenario.diagram_id, self.store)
        return runner.start(service=scenario.service.value, operation=scenario.operation.value,
                            data={"scenario": scenario.model_dump(mode="json")}, flow_id=flow_id)

    def scenario(self, service: str, operation: str, diagram: int, fault: Fault, *,
                 prepare: Callable[[FlowResult], None] | None = None) -> Scenario:
        """A scenario with a new applicant; for a re-issue, duplicate or appendix the applicant's
        licence is issued first (a flow of its own, reported to ``prepare``), then the fault's world
        is set up."""
        from procedure.models import FlowStatus, Operation
        from procedure.wiring import Fault as F
        from procedure.wiring import Scenario

        land = self.landscape
        op = Operation(operation)
        applicant = land.new_applicant(fault=fault if op is Operation.ISSUE else F.NONE)
        officer = land.officer(land.licensor_for(_service_code(service), applicant.city_kato).code)
        licence_number = None
        if op is not Operation.ISSUE:
            base = Scenario(service=service, operation=Operation.ISSUE, diagram=diagram,  # type: ignore[arg-type]
                            applicant=applicant, officer=officer)
            issued = self.run(base, crash_at="")
            if prepare is not None:
                prepare(issued)
            if issued.status is not FlowStatus.COMPLETED:
                raise click.ClickException(f"the licence to {operation} could not be issued: {issued.detail}")
            licence_number = str(issued.data["licence_number"])
            applicant = land.apply_fault(applicant, fault)
        return Scenario(service=service, operation=op, diagram=diagram, fault=fault,  # type: ignore[arg-type]
                        applicant=applicant, officer=officer, licence_number=licence_number)


def _service_code(service: str) -> str:
    from procedure.models import Service
    from procedure.wiring import SERVICE_CODES

    return SERVICE_CODES[Service(service)]


@contextlib.contextmanager
def procedure_env(*, manifest: Path | None, db: str | None, out_dir: Path,
                  observer: StepObserver | None = None, metrics_port: int | None = None) -> Iterator[ProcedureEnv]:
    """Attach to ``manifest``'s landscape, or start one in a temporary directory for the run."""
    from adapters.core.settings import get_settings
    from harness.landscape import Landscape
    from procedure.clients import ProcedureClients
    from procedure.store import FlowStore

    with contextlib.ExitStack() as stack:
        if manifest is not None:
            land = Landscape.attach(manifest)
            url = db or get_settings().database_url
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="egov-flow-")))
            land = stack.enter_context(Landscape.start(workdir / "landscape"))
            url = db or f"sqlite:///{workdir / 'egov.db'}"
        port = metrics_port if metrics_port is not None else get_settings().metrics_port
        clients = stack.enter_context(ProcedureClients(land.endpoints, database_url=url, metrics_port=port))
        store = FlowStore.from_url(url)
        stack.callback(store.engine.dispose)
        yield ProcedureEnv(land, clients, store, out_dir, observer)


# --------------------------------------------------------------------------- printing

def progress_printer(echo: Callable[[str], None]) -> StepObserver:
    def observe(ctx: FlowContext, phase: str) -> None:
        if phase == "start":
            attempt = f" (attempt {ctx.attempt})" if ctx.attempt > 1 else ""
            echo(f"   · {ctx.diagram.id:<8} step {ctx.step.id:<3} {ctx.step.description.en[:70]}{attempt}")
    return observe


def history_lines(result: FlowResult, diagram_id: str) -> list[str]:
    """The flow's history: each step's outcome and time against the regulation's norm."""
    from procedure.diagrams import get_diagram

    diagram = get_diagram(diagram_id)
    lines = [f"{'step':<5}{'outcome':<9}{'time':>9}  {'norm':<9}{'verdict':<9}{'tries':<6}detail"]
    for r in result.history:
        step_norm = diagram.step(r.step).norm
        norm = step_norm.label if step_norm is not None else "-"
        took = f"{r.duration_seconds:.3f}s" if r.duration_seconds is not None else "open"
        verdict = r.norm_verdict.value if r.norm_verdict else "-"
        detail = r.error or r.detail
        lines.append(f"{r.step:<5}{r.outcome or '-':<9}{took:>9}  {norm:<9}{verdict:<9}{r.attempts:<6}{detail[:90]}")
    return lines


def echo_result(result: FlowResult, diagram_id: str) -> None:
    click.echo(f"flow {result.flow_id}: {result.status.value} at step {result.step}")
    if result.refusal is not None:
        click.echo(f"refusal: {result.refusal.en}\n         {result.refusal.kk}")
    if result.detail:
        click.echo(f"why:     {result.detail}")
    for key in ("application_number", "deadline", "licence_number", "licence_xml", "licence_pdf", "refusal_pdf"):
        if key in result.data:
            click.echo(f"{key + ':':<20}{result.data[key]}")
    for line in history_lines(result, diagram_id):
        click.echo("  " + line)


def _expected(result: FlowResult) -> tuple[Any, str] | None:
    from procedure.wiring import Scenario

    raw = result.data.get("scenario")
    if raw is None:
        return None
    exp = Scenario.model_validate(raw).expected()
    return exp.status, exp.step


# --------------------------------------------------------------------------- commands

_MANIFEST = click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                         help="landscape manifest (egov sim up writes one); none: start a landscape here")
_DB = click.option("--db", "db", help="database URL of the flow state (default: EGOV_DATABASE_URL)")
_OUT = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
                    show_default=True, help="where licences and refusal letters are written")


@click.group("flow")
def flow_group() -> None:
    """Run, resume, show and describe licensing flows (the regulation's Diagrams 1 and 2)."""


@flow_group.command("run")
@click.option("--service", type=click.Choice(SERVICES), required=True)
@click.option("--operation", type=click.Choice(OPERATIONS), default="issue", show_default=True)
@click.option("--diagram", type=click.Choice(["1", "2"]), default="1", show_default=True,
              help="1: through the portal; 2: through the provider's employee")
@click.option("--scenario", "fault", type=click.Choice(FAULTS), default="none", show_default=True,
              help="what goes wrong")
@click.option("--flow-id", help="id of the new flow (default: random)")
@_MANIFEST
@_DB
@_OUT
def flow_run(service: str, operation: str, diagram: str, fault: str, flow_id: str | None, manifest: Path | None,
             db: str | None, out_dir: Path) -> None:
    """Run one flow end to end and print its history against the regulation's norms."""
    from adapters.core.errors import EgovError
    from procedure.wiring import Fault

    f = Fault(fault)
    if not f.applies_to(int(diagram)):
        raise click.BadParameter(f"{fault} does not exist in Diagram {diagram}", param_hint="--scenario")
    try:
        with procedure_env(manifest=manifest, db=db, out_dir=out_dir, observer=progress_printer(click.echo)) as env:
            scenario = env.scenario(service, operation, int(diagram), f,
                                    prepare=lambda r: click.echo(f"(prepared: licence {r.data.get('licence_number')} "
                                                                 f"issued by flow {r.flow_id})"))
            flow_id = flow_id or uuid.uuid4().hex
            click.echo(f"flow {flow_id} started: {service} / {operation} / Diagram {diagram} / scenario {fault}")
            result = env.run(scenario, flow_id=flow_id)
    except EgovError as exc:
        raise click.ClickException(f"{type(exc).__name__} [{exc.code}]: {exc}") from exc
    echo_result(result, {"1": "portal", "2": "provider"}[diagram])
    expected = _expected(result)
    if expected is not None and (result.status, result.step) != expected:
        raise click.ClickException(f"expected {expected[0].value} at step {expected[1]}, "
                                   f"got {result.status.value} at step {result.step}")


@flow_group.command("resume")
@click.argument("flow_id")
@_MANIFEST
@_DB
@_OUT
def flow_resume(flow_id: str, manifest: Path | None, db: str | None, out_dir: Path) -> None:
    """Continue a flow from the step it stopped at (after a crash or a failed step)."""
    from adapters.core.errors import EgovError

    if manifest is None:
        raise click.UsageError("resume needs --manifest: the landscape the flow started against")
    try:
        with procedure_env(manifest=manifest, db=db, out_dir=out_dir, observer=progress_printer(click.echo)) as env:
            flow = env.store.get_flow(flow_id)
            click.echo(f"flow {flow_id}: resuming at step {flow.current_step} ({flow.status.value})")
            result = env.wiring().runner(flow.diagram, env.store).resume(flow_id)
    except EgovError as exc:
        raise click.ClickException(f"{type(exc).__name__} [{exc.code}]: {exc}") from exc
    echo_result(result, flow.diagram)


@flow_group.command("show")
@click.argument("flow_id")
@_DB
def flow_show(flow_id: str, db: str | None) -> None:
    """A flow's state and history, each step's time against its norm."""
    from adapters.core.errors import EgovError
    from procedure.diagrams import get_diagram
    from procedure.machine import FlowResult
    from procedure.store import FlowStore

    try:
        store = FlowStore.from_url(db)
        flow = store.get_flow(flow_id)
        diagram = get_diagram(flow.diagram)
        step = diagram.step(flow.current_step)
        result = FlowResult(flow_id=flow.flow_id, status=flow.status, step=flow.current_step, data=flow.data,
                            history=tuple(store.history(flow_id)),
                            refusal=step.message if flow.status.value == "refused" else None,
                            detail=flow.error or "")
    except EgovError as exc:
        raise click.ClickException(f"{type(exc).__name__} [{exc.code}]: {exc}") from exc
    click.echo(f"{flow.service} / {flow.operation} / {diagram.title.en}")
    echo_result(result, flow.diagram)


@flow_group.command("describe")
@click.option("--diagram", type=click.Choice(["1", "2"]), default="1", show_default=True)
@click.option("--mermaid", is_flag=True, help="a Mermaid flowchart instead of the table")
def flow_describe(diagram: str, mermaid: bool) -> None:
    """The diagram as the machine runs it: steps, actors, norms, branches, refusal messages."""
    from procedure.diagrams import get_diagram
    from procedure.machine import describe, to_mermaid

    d = get_diagram({"1": "portal", "2": "provider"}[diagram])
    click.echo(to_mermaid(d) if mermaid else describe(d))
