"""``egov flow``: run, resume, show and describe one licensing flow.

``egov flow run --service S --operation O --diagram 1|2 [--scenario FAULT]`` runs one flow against
a landscape: the one named by ``--manifest`` (started elsewhere, e.g. by ``egov sim up``), or a
landscape started in this process for the run (:mod:`harness.env`). Flow state goes to ``--db``
(default: the settings' database), so ``egov flow resume FLOW_ID`` continues a flow interrupted at
any step, in any process attached to the same landscape: the stored request and the manifest are
all it needs.

Names for people: ``run``, ``resume`` and ``show`` print the flow's service, application type,
category and, once decided, the application's status (the memo's) by their codes and their names,
in Kazakh and Russian, or in the one ``--lang`` chooses (:mod:`procedure.names`); ``describe
--lang`` shows the diagram's steps in Kazakh or Russian instead of English.

An error of the project (a refused setting, a database that cannot be written...) is shown by the
``egov`` group as one line and a hint (:mod:`cli.failure`); a flow stopped by one resumes with
``egov flow resume``.

Crash drills: ``EGOV_FLOW_CRASH_AT=<step id>[:before|:after]`` makes ``run`` and ``resume`` kill
themselves (SIGKILL) at that point of the flow (:mod:`harness.crash`).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from cli.failure import ReportingGroup
from cli.settings import current_settings

if TYPE_CHECKING:
    from procedure.machine import FlowContext, FlowResult, StepObserver, StepPhase

SERVICES = ("higher-postgraduate", "religious", "technical-vocational", "school", "republican-budget")
OPERATIONS = ("issue", "reissue", "duplicate", "appendix")
FAULTS = ("none", "not-authorised", "not-paid", "cert-expired", "cert-revoked", "cert-other-bin",
          "absent-from-le", "liquidated", "qualification-not-met")
"""The values of :class:`harness.scenario.Fault` (written out: ``egov --help`` imports no harness)."""
Language = Literal["kk", "ru"]
LANGUAGE_CHOICES = ("kk", "ru")
""":data:`procedure.names.LANGUAGES`, written out like the choices above."""


# --------------------------------------------------------------------------- printing

def progress_printer(echo: Callable[[str], None], language: str | None = None) -> StepObserver:
    """A step observer printing a line as each step starts (its description in ``language``, else English)."""
    def observe(ctx: FlowContext, phase: StepPhase) -> None:
        if phase == "before":
            attempt = f" (attempt {ctx.attempt})" if ctx.attempt > 1 else ""
            text = getattr(ctx.step.description, language or "en")
            echo(f"   · {ctx.diagram.id:<8} step {ctx.step.id:<3} {text[:70]}{attempt}")
    return observe


def name_lines(service: str, operation: str, data: Mapping[str, Any], language: Language | None) -> list[str]:
    """The flow's service, application type, category and (once decided) the application's status:
    code, then the name in ``language`` or in both."""
    from procedure.names import flow_names

    return [f"{label + ':':<20}{f'{names.code} ' if names.code else ''}{names.shown(language)}"
            for label, names in flow_names(service, operation, data).labelled()]


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


def echo_result(result: FlowResult, diagram_id: str, *, service: str, operation: str,
                language: Language | None = None) -> None:
    click.echo(f"flow {result.flow_id}: {result.status.value} at step {result.step}")
    for line in name_lines(service, operation, result.data, language):
        click.echo(line)
    if result.refusal is not None:
        texts = [getattr(result.refusal, language)] if language else [result.refusal.kk, result.refusal.ru]
        click.echo("refusal: " + "\n         ".join(texts))
    if result.detail:
        click.echo(f"why:     {result.detail}")
    for key in ("application_number", "deadline", "licence_number", "licence_xml", "licence_pdf", "refusal_pdf"):
        if key in result.data:
            click.echo(f"{key + ':':<20}{result.data[key]}")
    for line in history_lines(result, diagram_id):
        click.echo("  " + line)


@contextlib.contextmanager
def _naming_the_flow(flow_id: str) -> Iterator[None]:
    """An error of the project raised while the flow runs names it (so that the hint can say which
    flow to resume)."""
    from adapters.core.errors import EgovError

    try:
        yield
    except EgovError as exc:
        exc.context.setdefault("flow_id", flow_id)
        raise


# --------------------------------------------------------------------------- commands

_MANIFEST = click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                         help="landscape manifest (egov sim up writes one); none: start a landscape here")
_DB = click.option("--db", "db", help="database URL of the flow state (default: EGOV_DATABASE_URL)")
_LANG = click.option("--lang", "language", type=click.Choice(LANGUAGE_CHOICES), default=None,
                     help="names in Kazakh or Russian (default: both)")
_OUT = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
                    show_default=True, help="where licences and refusal letters are written")


@click.group("flow", cls=ReportingGroup)
def flow_group() -> None:
    """Run, resume, show and describe licensing flows (the regulation's Diagrams 1 and 2)."""


@flow_group.command("run")
@click.option("--service", type=click.Choice(SERVICES), required=True, help="the licensed activity")
@click.option("--operation", type=click.Choice(OPERATIONS), default="issue", show_default=True,
              help="a new licence, or re-issue, duplicate or appendix of one (issued first by its own flow)")
@click.option("--diagram", type=click.Choice(["1", "2"]), default="1", show_default=True,
              help="1: through the portal; 2: through the provider's employee")
@click.option("--scenario", "fault", type=click.Choice(FAULTS), default="none", show_default=True,
              help="what goes wrong")
@click.option("--flow-id", help="id of the new flow (default: random)")
@_MANIFEST
@_DB
@_OUT
@_LANG
def flow_run(service: str, operation: str, diagram: str, fault: str, flow_id: str | None, manifest: Path | None,
             db: str | None, out_dir: Path, language: Language | None) -> None:
    """Run one flow end to end and print its history against the regulation's norms."""
    from harness.crash import crash_observer
    from harness.env import procedure_env
    from harness.scenario import Fault

    f = Fault(fault)
    if not f.applies_to(int(diagram)):
        raise click.BadParameter(f"{fault} does not exist in Diagram {diagram}", param_hint="--scenario")
    crash = crash_observer()
    with procedure_env(manifest=manifest, db=db, out_dir=out_dir,
                       observers=[progress_printer(click.echo, language)], settings=current_settings()) as env:
        scenario = env.scenario(service, operation, int(diagram), f,
                                prepare=lambda r: click.echo(f"(prepared: licence {r.data.get('licence_number')} "
                                                             f"issued by flow {r.flow_id})"))
        flow_id = flow_id or uuid.uuid4().hex
        click.echo(f"flow {flow_id} started: {service} / {operation} / Diagram {diagram} / scenario {fault}")
        with _naming_the_flow(flow_id):
            result = env.run(scenario, flow_id=flow_id, observers=[crash] if crash is not None else [])
    echo_result(result, scenario.diagram_id, service=service, operation=operation, language=language)
    expected = scenario.expected()
    if (result.status, result.step) != (expected.status, expected.step):
        raise click.ClickException(f"expected {expected.status.value} at step {expected.step}, "
                                   f"got {result.status.value} at step {result.step}")


@flow_group.command("resume")
@click.argument("flow_id")
@_MANIFEST
@_DB
@_OUT
@_LANG
def flow_resume(flow_id: str, manifest: Path | None, db: str | None, out_dir: Path,
                language: Language | None) -> None:
    """Continue a flow from the step it stopped at (after a crash or a failed step)."""
    from harness.crash import crash_observer
    from harness.env import procedure_env

    if manifest is None:
        raise click.UsageError("resume needs --manifest: the landscape the flow started against")
    crash = crash_observer()
    with procedure_env(manifest=manifest, db=db, out_dir=out_dir,
                       observers=[progress_printer(click.echo, language)], settings=current_settings()) as env:
        flow = env.store.get_flow(flow_id)
        click.echo(f"flow {flow_id}: resuming at step {flow.current_step} ({flow.status.value})")
        with _naming_the_flow(flow_id):
            result = env.resume(flow_id, observers=[crash] if crash is not None else [])
    echo_result(result, flow.diagram, service=flow.service, operation=flow.operation, language=language)


@flow_group.command("show")
@click.argument("flow_id")
@_DB
@click.option("--json", "as_json", is_flag=True, help="the flow as JSON: its record, data and history")
@_LANG
def flow_show(flow_id: str, db: str | None, as_json: bool, language: Language | None) -> None:
    """A flow's state and history, each step's time against its norm."""
    from adapters.core.db import existing_database
    from procedure.diagrams import get_diagram
    from procedure.machine import FlowResult
    from procedure.store import FlowStore

    store = FlowStore.from_url(existing_database(db or current_settings().database_url, what="flow state"))
    try:
        flow = store.get_flow(flow_id)
        history = tuple(store.history(flow_id))
    finally:
        store.engine.dispose()
    diagram = get_diagram(flow.diagram)
    step = diagram.step(flow.current_step)
    result = FlowResult(flow_id=flow.flow_id, status=flow.status, step=flow.current_step, data=flow.data,
                        history=history, refusal=step.message if flow.status.value == "refused" else None,
                        detail=flow.error or "")
    if as_json:
        record = {**flow.model_dump(mode="json"), "history": [r.model_dump(mode="json") for r in history]}
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    click.echo(f"{flow.service} / {flow.operation} / {getattr(diagram.title, language or 'en')}")
    echo_result(result, flow.diagram, service=flow.service, operation=flow.operation, language=language)


@flow_group.command("describe")
@click.option("--diagram", type=click.Choice(["1", "2"]), default="1", show_default=True,
              help="1: through the portal; 2: through the provider's employee")
@click.option("--mermaid", is_flag=True, help="a Mermaid flowchart instead of the table")
@click.option("--lang", "language", type=click.Choice(LANGUAGE_CHOICES), default=None,
              help="the steps in Kazakh or Russian (default: English)")
def flow_describe(diagram: str, mermaid: bool, language: Language | None) -> None:
    """The diagram as the machine runs it: steps, actors, norms, branches, refusal messages."""
    from procedure.diagrams import get_diagram
    from procedure.machine import describe, to_mermaid

    d = get_diagram({"1": "portal", "2": "provider"}[diagram])
    click.echo(to_mermaid(d) if mermaid else describe(d, language=language or "en"))
