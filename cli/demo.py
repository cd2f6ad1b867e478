"""``egov demo``: the project's main job, run by ``make demo``.

Chapter 1 walks through the trust layer (sign, verify, tamper, refuse). Chapter 2 starts every
simulator in this process (:class:`harness.landscape.Landscape`) and runs the licensing
procedure: both diagrams for all five services and for issue, appendix, duplicate and re-issue,
then one run ending at each refusal of the regulation. It prints a table (service, operation,
diagram, outcome, steps, time against the norms, review deadline) and writes to ``--out`` the
signed licences (XML) with their PDFs, the refusal letters (XML, PDF), the trust files to verify
them offline (``pki/``), and ``summary.json``. It exits non-zero when any run ends elsewhere than
its scenario expects.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.flow import SERVICES, flow_group
from cli.settings import current_settings

if TYPE_CHECKING:
    from harness.env import ProcedureEnv
    from harness.scenario import Scenario
    from procedure.machine import FlowResult

__all__ = ["demo_cmd", "flow_group"]

# One run ending at each refusal: (diagram, fault, service)
REFUSALS: tuple[tuple[int, str, str], ...] = (
    (1, "not-authorised", "religious"),
    (1, "not-paid", "school"),
    (1, "cert-expired", "technical-vocational"),
    (1, "cert-revoked", "republican-budget"),
    (1, "cert-other-bin", "higher-postgraduate"),
    (1, "qualification-not-met", "higher-postgraduate"),
    (2, "not-authorised", "school"),
    (2, "absent-from-le", "religious"),
    (2, "liquidated", "technical-vocational"),
    (2, "qualification-not-met", "school"),
    # every service refused once at qualification (its staff share declared below the rule's threshold)
    (1, "qualification-not-met", "religious"),
    (2, "qualification-not-met", "technical-vocational"),
    (1, "qualification-not-met", "republican-budget"),
)
CHAIN = ("issue", "appendix", "duplicate", "reissue")


def _row(scenario: Scenario, result: FlowResult, seconds: float) -> dict[str, Any]:
    expected = scenario.expected()
    over = result.over_norm()
    normed = [r for r in result.history if r.norm_verdict is not None and r.norm_verdict.value != "no-norm"]
    return {
        "flow_id": result.flow_id, "service": scenario.service.value, "operation": scenario.operation.value,
        "diagram": scenario.diagram, "fault": scenario.fault.value, "status": result.status.value,
        "step": result.step, "path": list(result.path), "steps": len(result.history),
        "expected": f"{expected.status.value}@{expected.step}",
        "as_expected": (result.status, result.step) == (expected.status, expected.step),
        "seconds": round(seconds, 3), "steps_with_norm": len(normed), "over_norm": [r.step for r in over],
        "deadline": result.data.get("deadline"), "application": result.data.get("application_number"),
        "licence": result.data.get("licence_number"), "licence_xml": result.data.get("licence_xml"),
        "licence_pdf": result.data.get("licence_pdf"), "refusal_pdf": result.data.get("refusal_pdf"),
        "refusal": result.refusal.en if result.refusal else None, "detail": result.detail,
    }


def _line(row: dict[str, Any]) -> str:
    outcome = f"{row['status']}@{row['step']}"
    norms = (f"{row['steps_with_norm'] - len(row['over_norm'])}/{row['steps_with_norm']} in norm"
             if row["steps_with_norm"] else "-")
    mark = "ok" if row["as_expected"] else f"UNEXPECTED (want {row['expected']})"
    return (f"{row['service']:<21}{row['operation']:<10}{row['diagram']:<3}{row['fault']:<22}{outcome:<15}"
            f"{row['steps']:>5}  {row['seconds']:>6.2f}s {norms:<12}{row['deadline'] or '-':<12}{mark}")


HEADER = (f"{'service':<21}{'operation':<10}{'D':<3}{'scenario':<22}{'outcome':<15}{'steps':>5}  "
          f"{'time':>7} {'norms':<12}{'deadline':<12}")


def _run(env: ProcedureEnv, scenario: Scenario, rows: list[dict[str, Any]], total: int) -> FlowResult:
    """One flow, its survey answered, its line and its names (service, application type and, once
    decided, the application's status, in Kazakh and Russian) printed."""
    from harness.survey import answer_survey
    from procedure.names import operation_names, service_names, status_names

    started = time.monotonic()
    result = env.run(scenario)
    row = _row(scenario, result, time.monotonic() - started)
    row["survey"] = answer_survey(env.landscape, env.clients, scenario, result, len(rows))
    rows.append(row)
    click.echo(f"[{len(rows):>2}/{total}] {_line(row)}")
    service, kind = service_names(scenario.service), operation_names(scenario.operation)
    row["service_name"], row["application_type"] = {"kk": service.kk, "ru": service.ru}, kind.as_dict()
    click.echo(f"{'':8}{service.code} {service.shown()}")
    status = result.data.get("application_status")
    decided = f": {status_names(str(status['code'])).shown()}" if isinstance(status, dict) else ""
    if isinstance(status, dict):
        row["application_status"] = status
    click.echo(f"{'':8}{kind.shown()}{decided}")
    if row["survey"]:
        s = row["survey"]
        click.echo(f"{'':8}survey: сапа / качество: {s['service_quality_kk']} / {s['service_quality_ru']}; "
                   f"ақпарат / информация: {s['information_quality_kk']} / {s['information_quality_ru']}")
    return result


def survey_indicators(env: ProcedureEnv, since: dt.date) -> dict[str, Any]:
    """The two indicators per service and per licensor over the run's days, as E-licensing counts them."""
    from procedure.survey import indicator_report

    client, today = env.clients.elicense, env.clients.clock.now().date()
    return indicator_report(client.survey_indicators(first_day=since, last_day=today), client.get_catalogue(),
                            first_day=since, last_day=today)


def _echo_indicators(indicators: dict[str, Any]) -> None:
    click.echo("\n   survey indicators (satisfied or partly satisfied), quality / accessibility:")
    for key in ("by_service", "by_licensor"):
        for code, group in indicators[key].items():
            q, a = group["quality"], group["accessibility"]
            name = group["name"] or {"kk": "?", "ru": "?"}
            click.echo(f"   {key[3:]:<9}{code:<10}{float(q['share']) * 100:>5.0f} % / {float(a['share']) * 100:>3.0f} %"
                       f"   ({q['answers']} answers)   {name['kk']} / {name['ru']}")


def run_procedure(out_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Chapter 2: every service × operation × diagram, then each refusal, each decided flow's survey
    answered. Returns the table's rows and the survey's indicators."""
    from harness.env import procedure_env
    from harness.scenario import Fault, Scenario
    from procedure.models import FlowStatus, Operation, Service

    rows: list[dict[str, Any]] = []
    total = 2 * len(SERVICES) * len(CHAIN) + len(REFUSALS)
    db = f"sqlite:///{(out_dir / 'egov-demo.db').resolve()}"
    with procedure_env(manifest=None, db=db, out_dir=out_dir, settings=current_settings()) as env:
        land = env.landscape
        since = env.clients.clock.now().date()
        click.echo("   landscape: " + ", ".join(f"{k} {v}" for k, v in land.urls.items()))
        click.echo(HEADER)
        for diagram in (1, 2):
            for service in SERVICES:
                applicant = land.new_applicant()
                officer = land.officer(land.licensor_for(env_service_code(service), applicant.city_kato).code)
                number: str | None = None
                for op in CHAIN:
                    scenario = Scenario(service=Service(service), operation=Operation(op),
                                        diagram=diagram, applicant=applicant,
                                        officer=officer, licence_number=number)
                    result = _run(env, scenario, rows, total)
                    if result.status is not FlowStatus.COMPLETED:
                        break
                    number = str(result.data["licence_number"])
        for diagram, fault, service in REFUSALS:
            scenario = env.scenario(service, "issue", diagram, Fault(fault))
            _run(env, scenario, rows, total)
        _copy_trust_files(land, out_dir / "pki")
        indicators = survey_indicators(env, since)
    return rows, indicators


def env_service_code(service: str) -> str:
    from procedure.application import SERVICE_CODES
    from procedure.models import Service

    return SERVICE_CODES[Service(service)]


def _copy_trust_files(land: Any, target: Path) -> None:
    """The PKI's root and issuing certificates and its current CRL, to verify the licences offline."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(land.pki.directory / "ca.pem", target / "ca.pem")
    shutil.copyfile(land.pki.directory / "issuing.pem", target / "issuing.pem")
    (target / "issuing.crl").write_bytes(land.pki.crl_der())


@click.command("demo")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out"),
              show_default=True, help="folder where the artefacts are written (emptied first)")
@click.option("--only", type=click.Choice(["all", "trust", "procedure"]), default="all", show_default=True,
              help="run one chapter only")
def demo_cmd(out_dir: Path, only: str) -> None:
    """Run the walk-through and the licensing procedure against in-process simulators; artefacts to OUT."""
    from cli.trust_walkthrough import run_trust_walkthrough
    from procedure.artefacts import write_summary

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    failures: list[str] = []
    if only in ("all", "trust"):
        click.echo("== 1. trust layer: sign → verify → tamper → refuse (test PKI, live CRL and OCSP)")
        steps = run_trust_walkthrough(out_dir / "trust", echo=click.echo)
        failed = [s for s in steps if not s.as_expected]
        click.echo(f"   {len(steps) - len(failed)}/{len(steps)} steps as expected")
        failures += [f"trust: {s.title}: expected {s.expected}, got {s.outcome}" for s in failed]
    if only in ("all", "procedure"):
        click.echo("\n== 2. the licensing procedure: Diagrams 1 and 2 over the simulators "
                   "(gateway, Legal Entities, payment gateway, E-licensing, PKI)")
        started = time.monotonic()
        rows, indicators = run_procedure(out_dir)
        _echo_indicators(indicators)
        summary = write_summary(out_dir, rows, survey=indicators)
        unexpected = [r for r in rows if not r["as_expected"]]
        click.echo(f"\n   {len(rows) - len(unexpected)}/{len(rows)} runs as expected in "
                   f"{time.monotonic() - started:.1f} s; summary: {summary}")
        licence = next((r["licence_xml"] for r in rows if r["licence_xml"]), None)
        if licence:
            click.echo(f"   verify a licence: egov verify {licence} --ca {out_dir}/pki/ca.pem "
                       f"--intermediate {out_dir}/pki/issuing.pem --crl {out_dir}/pki/issuing.crl --revocation crl")
        failures += [f"procedure: {r['service']} {r['operation']} D{r['diagram']} {r['fault']}: expected "
                     f"{r['expected']}, got {r['status']}@{r['step']} ({r['detail']})" for r in unexpected]
    if failures:
        for failure in failures:
            click.echo(f"   unexpected: {failure}", err=True)
        sys.exit(1)
