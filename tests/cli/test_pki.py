"""``egov pki``: init, issue, revoke, status with click's runner; serve in a real subprocess."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.core.errors import RefusalReason, SignatureRefused
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
from adapters.core.trust.subject import signer_info
from adapters.core.trust.validator import CertificateValidator
from cli.main import cli
from tests.paths import ROOT

IIN = "871008401427"
BIN = "940140000385"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["pki", *args])
    return result.exit_code, result.output


def test_init_issue_revoke_status(tmp_path: Path) -> None:
    pki_dir = tmp_path / "pki"
    code, out = _run("init", str(pki_dir), "--base-url", "http://127.0.0.1:8799")
    assert code == 0, out
    assert (pki_dir / "ca.pem").exists() and "http://127.0.0.1:8799/ocsp" in out

    p12 = tmp_path / "RSA256_test.p12"
    code, out = _run("issue", str(pki_dir), "--iin", IIN, "--bin", BIN, "--org", "TOO TEST",
                     "--out", str(p12), "--password", "pw")
    assert code == 0, out
    key = KeyMaterial.from_pkcs12(p12, "pw")
    info = signer_info(key.certificate)
    assert (info.iin, info.bin, info.roles) == (IIN, BIN, ("legal-entity", "right-to-sign"))
    assert f"serial: {info.serial}" in out and f"OU=BIN{BIN}" in out
    assert _run("status", str(pki_dir), info.serial) == (0, "good\n")

    code, out = _run("revoke", str(pki_dir), str(p12), "--password", "pw", "--reason", "keyCompromise")
    assert code == 0, out
    assert f"revoked: serial {info.serial}" in out and "keyCompromise" in out
    assert _run("status", str(pki_dir), info.serial) == (0, "revoked\n")

    code, out = _run("revoke", str(pki_dir), "--serial", info.serial)
    assert code == 1 and "already revoked" in out


def test_errors_exit_non_zero_with_one_line_reason(tmp_path: Path) -> None:
    pki_dir = tmp_path / "pki"
    code, out = _run("issue", str(pki_dir), "--iin", IIN, "--out", str(tmp_path / "x.p12"), "--password", "p")
    assert code == 1 and "no PKI" in out
    assert _run("init", str(pki_dir))[0] == 0
    code, out = _run("init", str(pki_dir))
    assert code == 1 and "already holds a PKI" in out
    code, out = _run("issue", str(pki_dir), "--iin", "871008401428", "--out", str(tmp_path / "x.p12"),
                     "--password", "p")
    assert code == 1 and "iin" in out and "Traceback" not in out
    p12 = tmp_path / "ok.p12"
    assert _run("issue", str(pki_dir), "--iin", IIN, "--expired", "--out", str(p12), "--password", "p")[0] == 0
    code, out = _run("revoke", str(pki_dir), str(p12), "--password", "wrong")
    assert code == 1 and "PKCS#12" in out
    code, out = _run("revoke", str(pki_dir))
    assert code == 2 and "--serial" in out


@pytest.mark.timeout(60)
def test_serve_in_subprocess_answers_ocsp_and_sees_revocations(tmp_path: Path) -> None:
    port = _free_port()
    pki_dir = tmp_path / "pki"
    assert _run("init", str(pki_dir), "--base-url", f"http://127.0.0.1:{port}")[0] == 0
    p12 = tmp_path / "AUTH_RSA256_test.p12"
    assert _run("issue", str(pki_dir), "--iin", IIN, "--usage", "auth", "--out", str(p12),
                "--password", "pw")[0] == 0
    key = KeyMaterial.from_pkcs12(p12, "pw")

    proc = subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; main()", "pki", "serve", str(pki_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert f"serving CRL and OCSP at http://127.0.0.1:{port}" in banner, banner
        validator = CertificateValidator.from_files(
            [pki_dir / "ca.pem"], [pki_dir / "issuing.pem"],
            # TTL 0: the server's view right after the revocation is checked, not a cached answer
            revocation=RevocationChecker(RevocationPolicy.OCSP, timeout=5, ocsp_cache_seconds=0))
        assert validator.validate(key.certificate, usage="auth").iin == IIN
        # revoked by another process (the CLI here), seen by the server at once
        assert _run("revoke", str(pki_dir), "--serial", format(key.certificate.serial_number, "x"))[0] == 0
        with pytest.raises(SignatureRefused) as info:
            validator.validate(key.certificate, usage="auth")
        assert info.value.reason is RefusalReason.REVOKED
        assert info.value.context["source"] == "OCSP"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
