"""Any language can call the service: ``curl`` from a shell script looks up a BIN, starts a licensing
flow, follows it to its licence and downloads the licence PDF (``curl_lookup_and_pdf.sh``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest

from harness.landscape import MINISTRY_BIN, Landscape
from procedure.models import Service
from tests.service.conftest import Running
from tests.service.test_flows import application

SCRIPT = Path(__file__).with_name("curl_lookup_and_pdf.sh")
CURL = "/usr/bin/curl"


def test_curl_starts_a_flow_and_downloads_its_licence_pdf(flows: Running, landscape: Landscape,
                                                          tmp_path: Path) -> None:
    if not Path(CURL).exists() and shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    request = tmp_path / "application.json"
    request.write_text(json.dumps(application(landscape, 2, service=Service.RELIGIOUS)), encoding="utf-8")
    env = {"PATH": f"{Path(CURL).parent}:{os.environ.get('PATH', '')}", "SERVICE_URL": flows.url,
           "API_KEY": flows.keys["full"], "BIN": MINISTRY_BIN, "APPLICATION": str(request), "OUT": str(tmp_path)}
    done = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "curl: lookup, flow" in done.stdout
    assert json.loads((tmp_path / "lookup.json").read_text(encoding="utf-8"))["outcome"]["number"] == MINISTRY_BIN
    flow = json.loads((tmp_path / "flow.json").read_text(encoding="utf-8"))
    licence = (tmp_path / "licence-number.txt").read_text(encoding="utf-8").strip()
    assert flow["status"] == "completed" and flow["results"]["licence_number"] == licence
    assert flow["flow_id"] in done.stdout
    text = "".join(p.extract_text() for p in pypdf.PdfReader(tmp_path / "licence.pdf").pages)
    assert licence in text
