"""Any language can call the service: ``curl`` (from a shell script) looks up a BIN and downloads a licence PDF."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest

from harness.landscape import MINISTRY_BIN
from tests.service.conftest import Issued, Running

SCRIPT = Path(__file__).with_name("curl_lookup_and_pdf.sh")
CURL = "/usr/bin/curl"


def test_curl_looks_up_a_bin_and_downloads_a_licence_pdf(service: Running, issued: Issued, tmp_path: Path) -> None:
    if not Path(CURL).exists() and shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    env = {"PATH": f"{Path(CURL).parent}:{os.environ.get('PATH', '')}", "SERVICE_URL": service.url,
           "API_KEY": service.keys["full"], "BIN": MINISTRY_BIN, "LICENCE": issued.licence_number,
           "OUT": str(tmp_path)}
    done = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "lookup and licence PDF ok" in done.stdout
    assert json.loads((tmp_path / "lookup.json").read_text(encoding="utf-8"))["outcome"]["number"] == MINISTRY_BIN
    text = "".join(p.extract_text() for p in pypdf.PdfReader(tmp_path / "licence.pdf").pages)
    assert issued.licence_number in text
