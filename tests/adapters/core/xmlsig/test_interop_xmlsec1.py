"""Interoperability with the independent verifier and signer ``xmlsec1`` (Debian package xmlsec1)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from adapters.core.clock import FrozenClock
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlparse import NS
from adapters.core.xmlsig import SignatureConfig, SigningService, VerificationService
from adapters.core.xmlsig import algorithms as alg
from cli.main import cli
from simulators.pki import IssuedKey, TestPKI

XMLSEC1 = shutil.which("xmlsec1")
pytestmark = pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 is not installed")

BIN = "940140000385"
IIN = "871008401427"
WSU_TIMESTAMP = f"{NS['wsu']}:Timestamp"
SOAP_BODY = f"{NS['soap']}:Body"

ENVELOPE = (
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soapenv:Body><t:SendMessage xmlns:t="http://bip.bee.kz/SyncChannel/v10/Types">'
    b"<request><requestInfo><serviceId>GbdulInfoByBin_v2</serviceId></requestInfo></request>"
    b"</t:SendMessage></soapenv:Body></soapenv:Envelope>"
)
DOCUMENT = (b'<Request xmlns="urn:test:gbdul"><RequestorBIN>940140000385</RequestorBIN>\n'
            b"  <BIN>950341000052</BIN>\n</Request>")


def _xmlsec1(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert XMLSEC1 is not None
    return subprocess.run([XMLSEC1, *map(str, args)], capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def rsa_key(pki: TestPKI) -> IssuedKey:
    return pki.issue(iin=IIN, bin=BIN)


@pytest.fixture(scope="module")
def ec_key(pki: TestPKI) -> IssuedKey:
    return pki.issue(iin=IIN, bin=BIN, key_type="ec")


@pytest.fixture
def pems(pki: TestPKI, tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "ca.pem"
    root.write_bytes(pki.root_certificate.public_bytes(Encoding.PEM))
    issuing = tmp_path / "issuing.pem"
    issuing.write_bytes(pki.issuing_certificate.public_bytes(Encoding.PEM))
    return {"root": root, "issuing": issuing}


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key"])
@pytest.mark.parametrize("token", ["key-identifier", "binary-security-token"])
def test_our_envelope_verifies_with_xmlsec1(key_name: str, token: str, request: pytest.FixtureRequest,
                                            tmp_path: Path) -> None:
    key: IssuedKey = request.getfixturevalue(key_name)
    signed = SigningService(key.key_material, SignatureConfig(token_reference=token)).sign_envelope(ENVELOPE)
    envelope = _write(tmp_path, "signed.xml", signed)
    cert = _write(tmp_path, "signer.pem", key.key_material.certificate_pem())
    result = _xmlsec1("--verify", "--pubkey-cert-pem", cert, "--id-attr:Id", SOAP_BODY,
                      "--id-attr:Id", WSU_TIMESTAMP, envelope)
    assert result.returncode == 0, result.stderr
    assert "SignedInfo References (ok/all): 2/2" in result.stderr + result.stdout

    # and the same tool notices tampering, so the check above means something
    tampered = _write(tmp_path, "tampered.xml", signed.replace(b"GbdulInfoByBin_v2", b"GbdulInfoByBin_v3"))
    result = _xmlsec1("--verify", "--pubkey-cert-pem", cert, "--id-attr:Id", SOAP_BODY,
                      "--id-attr:Id", WSU_TIMESTAMP, tampered)
    assert result.returncode != 0


@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key"])
def test_our_document_verifies_with_xmlsec1_and_its_chain_check(
        key_name: str, request: pytest.FixtureRequest, pems: dict[str, Path], tmp_path: Path) -> None:
    key: IssuedKey = request.getfixturevalue(key_name)
    signed = SigningService(key.key_material).sign_document(DOCUMENT)
    document = _write(tmp_path, "signed.xml", signed)
    # xmlsec1 builds the chain itself from X509Data (signer + issuing CA) up to the trusted root
    result = _xmlsec1("--verify", "--trusted-pem", pems["root"], document)
    assert result.returncode == 0, result.stderr
    assert "SignedInfo References (ok/all): 1/1" in result.stderr + result.stdout


def test_our_id_reference_document_verifies_with_xmlsec1(rsa_key: IssuedKey, pems: dict[str, Path],
                                                         tmp_path: Path) -> None:
    source = b'<Request xmlns="urn:test" Id="req-1"><Amount>16180.00</Amount></Request>'
    signed = SigningService(rsa_key.key_material).sign_document(source, reference_uri="#req-1")
    document = _write(tmp_path, "signed.xml", signed)
    result = _xmlsec1("--verify", "--trusted-pem", pems["root"], "--id-attr:Id", "urn:test:Request", document)
    assert result.returncode == 0, result.stderr


TEMPLATE = """<Request xmlns="urn:test:gbdul" xmlns:x="urn:unused"><RequestorBIN>940140000385</RequestorBIN>
  <BIN>950341000052</BIN>
  <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
    <ds:SignedInfo>
      <ds:CanonicalizationMethod Algorithm="{c14n}"/>
      <ds:SignatureMethod Algorithm="{method}"/>
      <ds:Reference URI="">
        <ds:Transforms>
          <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
          <ds:Transform Algorithm="{c14n}"/>
        </ds:Transforms>
        <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <ds:DigestValue/>
      </ds:Reference>
    </ds:SignedInfo>
    <ds:SignatureValue/>
    <ds:KeyInfo><ds:X509Data/></ds:KeyInfo>
  </ds:Signature>
</Request>
"""


@pytest.mark.parametrize(("key_name", "method", "c14n"), [
    ("rsa_key", alg.RSA_SHA256, alg.EXC_C14N),
    ("rsa_key", alg.RSA_SHA256, alg.C14N),
    ("ec_key", alg.ECDSA_SHA256, alg.EXC_C14N),
])
def test_document_signed_by_xmlsec1_verifies_with_us_and_egov_verify(
        key_name: str, method: str, c14n: str, request: pytest.FixtureRequest, pki: TestPKI,
        pems: dict[str, Path], tmp_path: Path) -> None:
    key: IssuedKey = request.getfixturevalue(key_name)
    template = _write(tmp_path, "template.xml", TEMPLATE.format(method=method, c14n=c14n).encode())
    key_pem = _write(tmp_path, "key.pem", key.key_material.private_key_pem())
    cert_pem = _write(tmp_path, "cert.pem", key.key_material.certificate_pem())
    out = tmp_path / "signed-by-xmlsec1.xml"
    result = _xmlsec1("--sign", "--privkey-pem", f"{key_pem},{cert_pem}", "--output", out, template)
    assert result.returncode == 0, result.stderr
    signed = out.read_bytes()
    assert b"<ds:DigestValue/>" not in signed

    validator = CertificateValidator([pki.root_certificate], [pki.issuing_certificate])
    verified = VerificationService(validator).verify_document(signed, expect_bin=BIN, expect_iin=IIN)
    assert verified.signer.serial == key.serial
    assert verified.root.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is None
    assert verified.root.findtext("{urn:test:gbdul}BIN") == "950341000052"

    cli_result = CliRunner().invoke(cli, ["verify", str(out), "--ca", str(pems["root"]),
                                          "--intermediate", str(pems["issuing"]), "--revocation", "none",
                                          "--expect-bin", BIN])
    assert cli_result.exit_code == 0, cli_result.output
    assert f"IIN    : {IIN}" in cli_result.output
    assert f"serial : {key.serial}" in cli_result.output

    # a changed xmlsec1-signed document is refused by us too
    changed = signed.replace(b"950341000052</BIN>", b"000000000000</BIN>")
    cli_result = CliRunner().invoke(cli, ["verify", str(_write(tmp_path, "changed.xml", changed)),
                                          "--ca", str(pems["root"]), "--intermediate", str(pems["issuing"]),
                                          "--revocation", "none"])
    assert cli_result.exit_code == 1
    assert "refused (digest-mismatch): digest mismatch for reference 0 (whole document)" in cli_result.output


def test_envelope_verified_at_a_frozen_time_still_matches_xmlsec1(rsa_key: IssuedKey, tmp_path: Path) -> None:
    """Signing time comes from the injected clock; xmlsec1 does not check wsu:Timestamp, we do."""
    clock = FrozenClock(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    signed = SigningService(rsa_key.key_material, clock=clock).sign_envelope(ENVELOPE)
    result = _xmlsec1("--verify", "--pubkey-cert-pem",
                      _write(tmp_path, "c.pem", rsa_key.key_material.certificate_pem()),
                      "--id-attr:Id", SOAP_BODY, "--id-attr:Id", WSU_TIMESTAMP,
                      _write(tmp_path, "e.xml", signed))
    assert result.returncode == 0, result.stderr
    assert etree.fromstring(signed).find(f".//{{{NS['wsu']}}}Created").text.startswith(  # type: ignore[union-attr]
        clock.now().strftime("%Y-%m-%dT%H:%M:%S"))
