"""``egov conformance``: green against the simulators, red naming the check and what it saw when a
simulator has a fault injected (set with the simulators' own CLI), and JUnit XML written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lxml import etree

from cli.main import cli
from conformance import CHECKS
from harness.landscape import Landscape


@pytest.fixture(scope="module")
def landscape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Landscape, Path]]:
    root = tmp_path_factory.mktemp("conformance")
    with Landscape.start(root / "land") as land:
        yield land, land.write_manifest(root / "landscape.json")


def _run(land: Landscape, manifest: Path, *extra: str) -> Result:
    e = land.endpoints
    return CliRunner().invoke(cli, ["--log-level", "CRITICAL", "conformance", "--gateway", e.gateway_url,
                                    "--elicense", e.elicense_url, "--payment", e.payment_gateway_url,
                                    "--manifest", str(manifest), *extra])


def _lines(result: Result) -> dict[str, tuple[str, str]]:
    """check name -> (mark, detail) of the command's output."""
    found: dict[str, tuple[str, str]] = {}
    for line in result.output.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] in ("ok", "FAIL", "skip"):
            found[parts[1]] = (parts[0], parts[2] if len(parts) > 2 else "")
    return found


def test_green_against_the_simulators_with_junit(landscape: tuple[Landscape, Path], tmp_path: Path) -> None:
    land, manifest = landscape
    junit = tmp_path / "conformance.xml"
    result = _run(land, manifest, "--junit", str(junit))
    assert result.exit_code == 0, result.output
    lines = _lines(result)
    every = [name for checks in CHECKS.values() for name, _ in checks]
    assert sorted(lines) == sorted(every)  # every check ran, one line each
    # every simulator publishes its WSDL: nothing is skipped, every check passes
    assert {mark for mark, _ in lines.values()} == {"ok"}, lines
    assert {"gateway.wsdl.sync", "payment.wsdl", "elicense.wsdl"} <= set(lines), lines
    assert lines["gateway.signing.profile"][1].startswith("rsa-sha256, exc-c14n, covers Body, Timestamp")
    assert lines["gateway.dedup.other-service"][1] == "SCE008"
    assert lines["elicense.status.refused-login"][1] == "ELC101"
    suites = etree.parse(str(junit)).getroot()
    assert suites.tag == "testsuites" and suites.get("failures") == "0"
    assert int(str(suites.get("tests"))) == len(every)
    assert {s.get("name") for s in suites.iter("testsuite")} == {"gateway", "legal_entities", "payment", "elicense"}


def test_red_naming_the_check_and_what_it_saw_with_a_fault_injected(landscape: tuple[Landscape, Path],
                                                                      tmp_path: Path) -> None:
    land, manifest = landscape
    token = str(land.endpoints.control_token)
    token_file = tmp_path / "token"
    token_file.write_text(token, encoding="utf-8")
    token_file.chmod(0o600)
    added = CliRunner().invoke(cli, ["sim", "fault", "add", "--url", land.endpoints.gateway_url, "--token-file",
                                     str(token_file), "--kind", "missing_signature", "--service",
                                     "GbdulInfoByBin_v2", "--operation", "SendMessage"])
    assert added.exit_code == 0, added.output
    junit = tmp_path / "red.xml"
    try:
        result = _run(land, manifest, "--check", "gateway.sync.*", "--check", "gateway.signing.*",
                      "--check", "gateway.status.unknown-service", "--junit", str(junit))
    finally:
        land.gateway.injector.reset()
    assert result.exit_code == 1, result.output
    lines = _lines(result)
    mark, detail = lines["gateway.sync.answer"]
    assert mark == "FAIL" and "ResponseRefusedError" in detail and "signature" in detail.lower(), detail
    mark, detail = lines["gateway.signing.profile"]
    assert (mark, detail) == ("FAIL", "expected a wsse:Security header; seen no wsse:Security in soap:Header")
    assert lines["gateway.status.unknown-service"] == ("ok", "SCE004")  # the fault struck one service only
    assert "1 passed, 2 failed, 0 skipped" in result.output
    failures = {case.get("name"): case.find("failure") for case in etree.parse(str(junit)).getroot().iter("testcase")}
    assert failures["gateway.status.unknown-service"] is None
    failure = failures["gateway.signing.profile"]
    assert failure is not None and failure.text == detail


def test_a_wrong_url_is_one_line_not_a_traceback(landscape: tuple[Landscape, Path]) -> None:
    _, manifest = landscape
    result = CliRunner().invoke(cli, ["conformance", "--gateway", "ftp://nowhere", "--manifest", str(manifest)])
    assert result.exit_code != 0
    assert "expected an http(s) URL" in result.output and "Traceback" not in result.output
