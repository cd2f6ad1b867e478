"""``egov flow``: its choices are the harness's, without importing the harness for ``--help``; the
names it prints (service, application type, category, status) in Kazakh and Russian."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from cli.flow import FAULTS, LANGUAGE_CHOICES, OPERATIONS, SERVICES, name_lines
from cli.main import cli
from harness.scenario import Fault
from procedure.diagrams import DIAGRAM_PORTAL, DIAGRAM_PROVIDER
from procedure.models import Operation, Service
from procedure.names import CATEGORY, LANGUAGES, operation_names, service_names, status_names


def test_the_commands_choices_are_the_scenarios() -> None:
    assert tuple(f.value for f in Fault) == FAULTS
    assert tuple(s.value for s in Service) == SERVICES
    assert set(OPERATIONS) == {o.value for o in Operation}
    assert LANGUAGE_CHOICES == LANGUAGES


def test_flow_run_and_show_print_the_names_in_kazakh_and_russian(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'flows.db'}"
    ran = CliRunner().invoke(cli, ["flow", "run", "--service", "religious", "--scenario", "not-authorised",
                                   "--db", db, "--out", str(tmp_path / "out"), "--lang", "kk"],
                             catch_exceptions=False)
    assert ran.exit_code == 0, ran.output
    service, kind = service_names("religious"), operation_names("issue")
    assert f"service:            S2 {service.kk}\n" in ran.output and service.ru not in ran.output
    assert f"application type:   ISSUE {kind.kk}\n" in ran.output
    assert f"category:           {CATEGORY.kk}\n" in ran.output
    refusal = DIAGRAM_PORTAL.step("2").message
    assert refusal is not None and f"refusal: {refusal.kk}\n" in ran.output and refusal.ru not in ran.output
    flow_id = re.search(r"^flow (\w+) started", ran.output, re.MULTILINE)
    assert flow_id is not None
    shown = CliRunner().invoke(cli, ["flow", "show", flow_id.group(1), "--db", db], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert f"service:            S2 {service.kk} / {service.ru}\n" in shown.output  # both by default
    assert f"application type:   ISSUE {kind.kk} / {kind.ru}\n" in shown.output
    assert f"refusal: {refusal.kk}\n         {refusal.ru}\n" in shown.output
    assert "application status" not in shown.output  # refused before E-licensing registered an application
    russian = CliRunner().invoke(cli, ["flow", "show", flow_id.group(1), "--db", db, "--lang", "ru"])
    assert f"category:           {CATEGORY.ru}\n" in russian.output and CATEGORY.kk not in russian.output


def test_the_application_status_is_named_once_decided() -> None:
    lines = name_lines("school", "duplicate", {"application_status": {"code": "ISSUED"}}, None)
    status, kind = status_names("ISSUED"), operation_names("duplicate")
    assert lines[1] == f"application type:   DUPLICATE {kind.kk} / {kind.ru}"
    assert lines[-1] == "application status: ISSUED беру шешімі қабылданды / принято решение о выдаче"
    assert status.shown("ru") == "принято решение о выдаче"
    assert [names.shown() for names in map(status_names, ("SENT", "IN_PROGRESS"))] == [
        "мемлекеттік органға жөнелтілді / отправлено в государственный орган", "жұмыс барысында / в работе"]


def test_flow_describe_in_kazakh_or_russian() -> None:
    for language in ("kk", "ru"):
        described = CliRunner().invoke(cli, ["flow", "describe", "--diagram", "2", "--lang", language])
        assert described.exit_code == 0, described.output
        assert described.output.startswith(getattr(DIAGRAM_PROVIDER.title, language))
        assert getattr(DIAGRAM_PROVIDER.step("1").description, language) in described.output
    english = CliRunner().invoke(cli, ["flow", "describe", "--diagram", "2"]).output
    assert english.startswith(DIAGRAM_PROVIDER.title.en)
