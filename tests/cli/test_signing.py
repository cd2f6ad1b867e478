"""``egov sign`` and ``egov verify`` through the real command group."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding

from cli.main import cli
from simulators.pki import IssuedKey, TestPKI

BIN = "940140000385"
IIN = "871008401427"
ENVELOPE = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            b'<m xmlns="urn:m">hello</m></soapenv:Body></soapenv:Envelope>')
DOCUMENT = b'<Request xmlns="urn:test"><BIN>940140000385</BIN></Request>'


@pytest.fixture(scope="module")
def key(pki: TestPKI) -> IssuedKey:
    return pki.issue(iin=IIN, bin=BIN)


@pytest.fixture
def files(key: IssuedKey, pki: TestPKI, tmp_path: Path) -> dict[str, Path]:
    paths = {
        "p12": key.write_pkcs12(tmp_path / "RSA256_test.p12", "secret"),
        "ca": tmp_path / "ca.pem",
        "issuing": tmp_path / "issuing.pem",
        "envelope": tmp_path / "envelope.xml",
        "document": tmp_path / "document.xml",
    }
    paths["ca"].write_bytes(pki.root_certificate.public_bytes(Encoding.PEM))
    paths["issuing"].write_bytes(pki.issuing_certificate.public_bytes(Encoding.PEM))
    paths["envelope"].write_bytes(ENVELOPE)
    paths["document"].write_bytes(DOCUMENT)
    return paths


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def test_sign_and_verify_envelope_auto_detected(files: dict[str, Path], key: IssuedKey, tmp_path: Path) -> None:
    out = tmp_path / "signed.xml"
    code, output = run("sign", "--p12", files["p12"], "--password", "secret", "--wsse", files["envelope"], out)
    assert code == 0, output
    assert b"wsse:Security" in out.read_bytes()
    code, output = run("verify", out, "--ca", files["ca"], "--intermediate", files["issuing"],
                       "--revocation", "ocsp", "--expect-bin", BIN, "--expect-iin", IIN)
    assert code == 0, output
    assert "valid wsse signature" in output
    for line in (f"IIN    : {IIN}", f"BIN    : {BIN}", "right-to-sign", f"serial : {key.serial}", "TESTOV"):
        assert line in output


def test_sign_and_verify_document_with_crl_file(files: dict[str, Path], pki: TestPKI, tmp_path: Path) -> None:
    out = tmp_path / "signed.xml"
    code, output = run("sign", "--p12", files["p12"], "--password", "secret", "--enveloped", files["document"], out)
    assert code == 0, output
    crl = tmp_path / "issuing.crl"
    crl.write_bytes(pki.crl_der())
    code, output = run("verify", out, "--ca", files["ca"], "--revocation", "crl", "--crl", crl, "--kind", "auto")
    assert code == 0, output
    assert "valid enveloped signature" in output


def test_bin_mismatch_exits_non_zero_with_the_reason(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "signed.xml"
    assert run("sign", "--p12", files["p12"], "--password", "secret", "--enveloped", files["document"], out)[0] == 0
    code, output = run("verify", out, "--ca", files["ca"], "--revocation", "none", "--expect-bin", "950341000052")
    assert code == 1
    assert "refused (bin-mismatch):" in output
    assert "950341000052" in output


def test_revoked_signer_is_refused_by_default_policy(files: dict[str, Path], pki: TestPKI, tmp_path: Path) -> None:
    revoked = pki.issue(iin=IIN, bin=BIN)
    p12 = revoked.write_pkcs12(tmp_path / "revoked.p12", "pw")
    pki.revoke(revoked)
    out = tmp_path / "signed.xml"
    assert run("sign", "--p12", p12, "--password", "pw", "--wsse", files["envelope"], out)[0] == 0
    code, output = run("verify", out, "--ca", files["ca"], "--intermediate", files["issuing"])
    assert code == 1
    assert "refused (certificate-revoked):" in output and revoked.serial in output


def test_unsigned_input_and_wrong_password(files: dict[str, Path], tmp_path: Path) -> None:
    code, output = run("verify", files["envelope"], "--ca", files["ca"], "--revocation", "none", "--kind", "wsse")
    assert code == 1 and "refused (missing-signature):" in output
    code, output = run("sign", "--p12", files["p12"], "--password", "wrong", "--wsse", files["envelope"],
                       tmp_path / "x.xml")
    assert code != 0 and "PKCS#12" in output
    code, output = run("sign", "--p12", files["p12"], "--password", "secret", files["envelope"], tmp_path / "x.xml")
    assert code != 0 and "--wsse or --enveloped" in output
