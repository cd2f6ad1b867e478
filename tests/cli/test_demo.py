"""``egov demo`` (behind ``make demo``): exits 0 and leaves a licence that ``egov verify`` and
``xmlsec1 --verify`` accept, its PDF and a refusal letter PDF, with Kazakh text that extracts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

from adapters.core.journal import FAILED_OUTCOMES, ExchangeJournal
from cli.main import cli

KAZAKH_LETTERS = "әғқңөұүһі"


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "53/53 runs as expected" in result.output
    (out.parent / "demo-output.txt").write_text(result.output, encoding="utf-8")
    return out


def test_demo_names_every_flow_in_kazakh_and_russian(demo_out: Path) -> None:
    """Under each flow's line: its service and application type (and once decided, the status) by
    name in both languages; the indicators at the end name their service and licensor."""
    from procedure.names import operation_names, service_names, status_names

    output = (demo_out.parent / "demo-output.txt").read_text(encoding="utf-8")
    for service in ("religious", "school"):
        names = service_names(service)
        assert f"{names.code} {names.kk} / {names.ru}\n" in output
    refused = status_names("REFUSED")
    assert f"{operation_names('issue').shown()}: {refused.kk} / {refused.ru}\n" in output
    assert f"{operation_names('duplicate').shown()}: {status_names('ISSUED').shown()}\n" in output
    assert f"{operation_names('issue').shown()}\n" in output  # a flow refused before E-licensing: no status
    indicator_lines = output.split("survey indicators", 1)[1].splitlines()
    assert any(line.strip().startswith("service  S2") and service_names("S2").shown() in line
               for line in indicator_lines)
    assert any(line.strip().startswith("licensor KKSON") and " / " in line for line in indicator_lines)


def _text(pdf: Path) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)


def test_demo_runs_every_service_operation_and_refusal(demo_out: Path) -> None:
    summary = json.loads((demo_out / "summary.json").read_text(encoding="utf-8"))
    runs = summary["runs"]
    assert summary["all_as_expected"] is True
    done = {(r["service"], r["operation"], r["diagram"]) for r in runs if r["status"] == "completed"}
    assert len(done) == 5 * 4 * 2
    refused = {(r["diagram"], r["step"]) for r in runs if r["status"] == "refused"}
    assert refused == {(1, "2"), (1, "5"), (1, "7"), (1, "10"), (2, "2"), (2, "5"), (2, "8")}
    assert {r["fault"] for r in runs} >= {"cert-expired", "cert-revoked", "cert-other-bin", "liquidated",
                                          "absent-from-le", "not-paid", "not-authorised", "qualification-not-met"}
    # the qualification check gives both outcomes for every service
    assert {r["service"] for r in runs if r["fault"] == "qualification-not-met" and r["status"] == "refused"} == {
        "higher-postgraduate", "religious", "technical-vocational", "school", "republican-budget"}
    assert all(not r["over_norm"] for r in runs)
    issued = [r for r in runs if r["status"] == "completed"]
    assert all(r["application_status"] == {"code": "ISSUED", "kk": "беру шешімі қабылданды",
                                           "ru": "принято решение о выдаче"} for r in issued)
    assert {r["application_type"]["kk"] for r in issued} == {
        "Лицензия және қосымшаларды беруге өтініш", "Лицензияны қайта ресімдеуге өтініш",
        "Лицензияның телнұсқасын беруге өтініш", "Лицензияға қосымша беруге өтініш"}
    assert {r["service_name"]["kk"] for r in issued} >= {"Діни білім беретін ұйымдар"}
    # every decided flow's survey answered, with varied answers; the indicators per service and licensor
    surveyed = [r["survey"] for r in runs if r["application"] and r["status"] in ("completed", "refused")]
    assert surveyed and all(surveyed)
    assert len({(s["service_quality"], s["information_quality"]) for s in surveyed}) >= 3
    indicators = summary["survey_indicators"]
    assert set(indicators["by_service"]) == {"S1", "S2", "S3", "S4", "S5"}
    assert "KKSON" in indicators["by_licensor"] and len(indicators["by_licensor"]) >= 2
    assert sum(g["quality"]["answers"] for g in indicators["by_service"].values()) == len(surveyed)
    assert all(r["deadline"] for r in runs if r["status"] == "completed")


def test_demo_licence_verifies_with_egov_verify_and_xmlsec1(demo_out: Path) -> None:
    licence = sorted(demo_out.glob("licence-*[0-9].xml"))[0]
    pki = demo_out / "pki"
    result = CliRunner().invoke(cli, ["verify", str(licence), "--ca", str(pki / "ca.pem"), "--intermediate",
                                      str(pki / "issuing.pem"), "--crl", str(pki / "issuing.crl"),
                                      "--revocation", "crl"])
    assert result.exit_code == 0, result.output
    assert "first-head" in result.output
    xmlsec1 = shutil.which("xmlsec1")
    if xmlsec1 is None:
        pytest.skip("xmlsec1 is not installed")
    done = subprocess.run([xmlsec1, "--verify", "--trusted-pem", str(pki / "ca.pem"), "--untrusted-pem",
                           str(pki / "issuing.pem"), str(licence)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "SignedInfo References (ok/all): 1/1" in done.stdout + done.stderr


def test_demo_pdfs_carry_kazakh_text(demo_out: Path) -> None:
    licence_pdf = sorted(demo_out.glob("licence-*[0-9].pdf"))[0]
    refusals = sorted(demo_out.glob("refusal-*.pdf"))
    assert refusals, "no refusal letter written"
    for pdf in (licence_pdf, refusals[0]):
        text = _text(pdf)
        missing = [c for c in KAZAKH_LETTERS if c not in text]
        assert not missing, f"{pdf.name} lacks {missing}"
    assert "ЛИЦЕНЗИЯ" in _text(licence_pdf)
    assert "қанағаттандыруға БАС ТАРТЫЛДЫ" in _text(refusals[0])  # as the regulation's sample writes it


def test_a_green_demo_journals_no_failure(demo_out: Path) -> None:
    """Every refusal of the demo is an answer the procedure expects (outcome ``refused``), not a
    failure that would page someone: the journal's failing outcomes stay empty."""
    journal = ExchangeJournal.open(f"sqlite:///{demo_out / 'egov-demo.db'}")
    try:
        rows = journal.tail(1_000_000)
    finally:
        journal.close()
    assert len(rows) > 100
    assert [r for r in rows if r.outcome in FAILED_OUTCOMES] == []
    # E-licensing's first-time registration check on the portal flows answers ELC101: a business answer
    assert any(r.system == "elicense" and r.outcome == "refused" and r.error_code == "ELC101" for r in rows)
    assert {r.system for r in rows} == {"egov_gateway", "legal_entities", "payment_gateway", "elicense"}
