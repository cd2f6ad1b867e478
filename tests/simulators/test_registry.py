"""One way to start the simulators: the registry's factories, driven by the config file, behind both
``egov sim up`` and :class:`Landscape`.

- a config file is applied: ports, a Legal Entities fixtures file replaced by QA, fault scenario files,
  extra senders, the payment gateway's auto-pay delay, E-licensing's database URL;
- a broken config file is refused before anything starts, naming the section and key;
- ``egov sim up`` in a subprocess prints the URLs and writes a manifest that ``egov flow run --manifest``
  and ``Landscape.attach`` use.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner

from adapters.core.errors import ConfigurationError
from harness.landscape import Landscape, LandscapePorts
from procedure.clients import Endpoints
from simulators.legal_entities.state import DEFAULT_FIXTURES
from simulators.registry import MINISTRY_BIN, SimContext, default_registry
from tests.fixtures.control import control_session
from tests.paths import ROOT

EGOV = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]

SCENARIO = """
faults:
  - kind: soap_fault
    service: ECHO
    code: SCE909
    times: 3
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _qa_fixtures(path: Path) -> str:
    """A fixtures file holding one organisation of the packaged file (not our own BIN), renamed."""
    data = json.loads(Path(DEFAULT_FIXTURES).read_text(encoding="utf-8"))
    chosen = next(o for o in data["organisations"] if o["bin"] != MINISTRY_BIN)
    chosen["full_name_ru"] = "ТОО «QA»"
    data["organisations"] = [chosen]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(chosen["bin"])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


# --------------------------------------------------------------------------- config applied


def test_landscape_applies_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "faults.yaml").write_text(SCENARIO, encoding="utf-8")
    qa_bin = _qa_fixtures(tmp_path / "orgs.json")
    payment_port, gateway_port, ignored_port = _free_port(), _free_port(), _free_port()
    db = tmp_path / "elicense.db"
    config: dict[str, Any] = {
        "gateway": {"port": ignored_port, "scenario": "faults.yaml",
                    "senders": [{"sender_id": "OTHER_SYSTEM", "password": "pw", "services": ["ECHO"]}],
                    "dedup_retention_seconds": 120, "dedup_max_bytes": 1_000_000},
        "legal_entities": {"fixtures": "orgs.json"},
        "payment_gateway": {"port": payment_port, "auto_pay_delay_seconds": 0},
        "elicense": {"database_url": f"sqlite:///{db}"},
    }
    with Landscape.start(tmp_path / "land", config=config, config_dir=tmp_path,
                         ports=LandscapePorts(gateway=gateway_port)) as land:
        e = land.endpoints
        control = control_session(e.control_token)
        # ports: the config's, and Landscape's own ports win over the config's
        assert urlsplit(e.payment_gateway_url).port == payment_port
        assert urlsplit(e.gateway_url).port == gateway_port
        # the scenario file, relative to the config file's directory, is active on the gateway
        faults = control.get(f"{e.gateway_control_url}faults", timeout=10).json()["faults"]
        assert [(f["kind"], f["code"], f["service"]) for f in faults] == [("soap_fault", "SCE909", "ECHO")]
        senders = control.get(f"{e.gateway_control_url}senders", timeout=10).json()["senders"]
        assert {"sender_id": "OTHER_SYSTEM", "has_password": True, "bin": None, "services": ["ECHO"]} in senders
        assert any(s["sender_id"] == e.sender_id and s["bin"] == e.requestor_bin for s in senders)
        # the dedup store's bounds
        assert (land.gateway.dedup.retention_seconds, land.gateway.dedup.max_bytes) == (120, 1_000_000)
        # QA's fixtures replace the packaged ones
        assert land.organisation(qa_bin)["full_name_ru"] == "ТОО «QA»"  # type: ignore[index]
        assert land.organisation(MINISTRY_BIN) is None
        # auto-pay after 0 s: an order is paid as soon as anyone looks
        assert control.get(f"{e.payment_control_url}auto-pay", timeout=10).json() == {"delay_seconds": 0.0}
        from simulators.payment_gateway.state import OrderDetails

        ref = f"auto-{uuid.uuid4().hex[:8]}"
        land.payment_gateway.store.create(OrderDetails(
            client_reference=ref, payer_iin_bin=qa_bin, payer_name="QA", amount=Decimal("16180.00"),
            kbk="108140", knp="911", application_reference="APP-1"), e.sender_id)
        assert [p["status"] for p in land.payments(ref)] == ["PAID"]
        # `egov sim fault` reaches any simulator by any of its URLs (here the payment SOAP endpoint)
        from cli.main import cli

        added = CliRunner().invoke(cli, ["sim", "fault", "add", "--url", e.payment_gateway_url, "--kind", "reset",
                                         "--operation", "GetReceipt", "--times", "1",
                                         "--token-file", str(land.workdir / "control-token")])
        assert added.exit_code == 0, added.output
        faults = control.get(f"{e.payment_control_url}faults", timeout=10).json()["faults"]
        assert [(f["kind"], f["operation"]) for f in faults] == [("reset", "GetReceipt")]
        # E-licensing keeps its tables in the configured database
        assert land.applications() == []
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables, "E-licensing created no table in the configured database"


def test_default_landscape_has_no_auto_pay_and_free_ports(tmp_path: Path) -> None:
    with Landscape.start(tmp_path / "land") as land:
        control = control_session(land.endpoints.control_token)
        assert control.get(f"{land.endpoints.payment_control_url}auto-pay", timeout=10).json() == \
            {"delay_seconds": None}
        assert all(urlsplit(url).port not in (8780, 8781, 8782, 8790) for url in land.urls.values())
        assert land.organisation(MINISTRY_BIN) is not None  # the packaged fixtures
        manifest = land.write_manifest()
    attached = Landscape.attach(manifest)
    assert attached.endpoints == land.endpoints and not attached.running


# --------------------------------------------------------------------------- config refused


@pytest.mark.parametrize(("config", "where"), [
    ({"gatway": {"port": 0}}, "gatway"),
    ({"gateway": {"sceanrio": "x.yaml"}}, "gateway.sceanrio"),
    ({"payment_gateway": {"port": -1}}, "payment_gateway.port"),
    ({"payment_gateway": {"auto_pay_delay_seconds": "soon"}}, "payment_gateway.auto_pay_delay_seconds"),
    ({"gateway": {"senders": [{"password": "pw"}]}}, "gateway.senders.0.sender_id"),
    ({"elicense": ["not", "a", "mapping"]}, "elicense"),
    ({"legal_entities": {"port": 8000}}, "legal_entities.port"),
])
def test_a_broken_config_is_refused_naming_the_key(config: dict[str, Any], where: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        default_registry().validate(config)
    assert caught.value.context["setting"] == where
    assert where in str(caught.value)


def test_nothing_starts_on_a_broken_config(tmp_path: Path) -> None:
    ctx = SimContext(workdir=tmp_path / "w", config={"elicense": {"database_uri": "sqlite://"}})
    with pytest.raises(ConfigurationError, match=r"elicense\.database_uri"):
        default_registry().start_all(ctx)
    assert ctx.running == {} and not (tmp_path / "w" / "pki").exists()
    with pytest.raises(ConfigurationError, match="fixtures file not found"):
        Landscape.start(tmp_path / "l", config={"legal_entities": {"fixtures": str(tmp_path / "none.json")}})
    with pytest.raises(ConfigurationError, match="every simulator"):
        Landscape.start(tmp_path / "l2", config={"elicense": {"enabled": False}})


def test_sim_up_refuses_a_broken_config_file(tmp_path: Path) -> None:
    from cli.main import cli

    config = tmp_path / "sims.yaml"
    config.write_text("gateway:\n  sceanrio: faults.yaml\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["sim", "up", "--config", str(config), "--workdir", str(tmp_path / "w")])
    assert result.exit_code == 1
    assert "gateway.sceanrio" in result.output
    config.write_text("gateway: [\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["sim", "up", "--config", str(config), "--workdir", str(tmp_path / "w")])
    assert result.exit_code == 1 and "not YAML" in result.output


# --------------------------------------------------------------------------- egov sim up, end to end


def test_sim_up_prints_urls_and_a_manifest_that_flow_run_uses(tmp_path: Path) -> None:
    (tmp_path / "faults.yaml").write_text(SCENARIO, encoding="utf-8")
    config = tmp_path / "sims.yaml"
    config.write_text("pki: {port: 0}\ngateway: {port: 0, scenario: faults.yaml}\n"
                      "payment_gateway: {port: 0}\nelicense: {port: 0}\n", encoding="utf-8")
    workdir = tmp_path / "sims"
    proc = subprocess.Popen([*EGOV, "sim", "up", "--config", str(config), "--workdir", str(workdir),
                             "--portal-port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:  # bounded by pytest-timeout should sim up hang
            lines.append(line.rstrip("\n"))
            if line.startswith("export EGOV_ELICENSE_URL="):
                break
        printed = "\n".join(lines)
        assert "# for `egov flow run --manifest`: " in printed, printed + (proc.stderr.read() if proc.stderr else "")
        manifest = Path(printed.split("# for `egov flow run --manifest`: ", 1)[1].splitlines()[0])
        assert manifest == workdir / "landscape.json"
        endpoints = Endpoints.read(manifest)
        urls = {tuple(line.split()[:2]): line.split()[2] for line in lines if len(line.split()) == 3}
        assert urls[("gateway", "sync")] == endpoints.gateway_url
        assert urls[("payment_gateway", "soap")] == endpoints.payment_gateway_url
        assert urls[("elicense", "soap")] == endpoints.elicense_url
        assert urls[("pki", "crl/ocsp")] == endpoints.pki_url
        portal = requests.get(urls[("portal", "web")] + "/services/education", timeout=30)
        assert portal.status_code == 200 and "S1" in portal.text  # the portal reads E-licensing's catalogue
        assert f"export EGOV_KEYSTORE_PATH='{endpoints.keystore_path}'" in lines
        token_file = workdir / "control-token"
        assert f"# the control APIs' token (Authorization: Bearer ...): {token_file.resolve()}" in lines
        assert f"export EGOV_SIM_CONTROL_TOKEN_FILE='{token_file.resolve()}'" in lines
        assert token_file.read_text().strip() == endpoints.control_token
        faults = control_session(endpoints.control_token).get(f"{endpoints.gateway_control_url}faults",
                                                              timeout=10).json()["faults"]
        assert [f["code"] for f in faults] == ["SCE909"]

        run = subprocess.run([*EGOV, "flow", "run", "--service", "school", "--operation", "issue", "--diagram", "1",
                              "--manifest", str(manifest), "--db", f"sqlite:///{tmp_path / 'flows.db'}",
                              "--out", str(tmp_path / "out")],
                             capture_output=True, text=True, timeout=120, env=_env(), cwd=tmp_path, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        land = Landscape.attach(manifest)
        issued = [a for a in land.applications() if a["status"] == "ISSUED"]
        assert len(issued) == 1
        assert [lic["number"] for lic in land.licences()] == [issued[0]["licence_number"]]
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped" in err


def test_a_reused_workdir_keeps_the_pki_port(tmp_path: Path) -> None:
    from simulators.pki.factory import start_pki

    first = start_pki(SimContext(workdir=tmp_path))
    first.stop()
    url = first.urls["crl/ocsp"]
    # the default port (1: would fail) gives way to the URL the PKI's certificates already name
    again = start_pki(SimContext(workdir=tmp_path, ports={"pki": 1}))
    try:
        assert again.urls["crl/ocsp"] == url == again.obj.base_url
    finally:
        again.stop()


def test_sim_up_default_ports_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.core.settings import get_settings
    from simulators.registry import settings_ports

    monkeypatch.setenv("EGOV_PAYMENT_GATEWAY_URL", "http://127.0.0.1:9781/pshep/")
    get_settings.cache_clear()
    try:
        assert settings_ports() == {"pki": 8790, "gateway": 8780, "payment_gateway": 9781, "elicense": 8782}
    finally:
        monkeypatch.delenv("EGOV_PAYMENT_GATEWAY_URL")
        get_settings.cache_clear()
