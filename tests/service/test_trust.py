"""``/api/v1/trust``: certificate information, verification of signed XML, signing with the
organisation's key (only when enabled) — and their refusals."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.core.identifiers import make_iin
from harness.landscape import MINISTRY_BIN, Landscape
from service import ServiceRuntime, ServiceServer, create_app
from service.callers import add_caller
from tests.service.conftest import Issued, Running, error_of, service_settings

XML = {"Content-Type": "application/xml"}
DOCUMENT = '<doc xmlns="urn:egov-adapters:test"><line>Қазақстан</line></doc>'.encode()
ENVELOPE = (b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            b'<ping xmlns="urn:egov-adapters:test">1</ping></soap:Body></soap:Envelope>')


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _self_signed() -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "NOBODY")])
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))


# --------------------------------------------------------------------------- certificate information

def test_our_certificate_is_trusted_and_not_revoked(service: Running) -> None:
    key = service.runtime.clients.key
    answer = service.post("/api/v1/trust/certificate", json={"certificate": _pem(key.certificate)})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["trusted"] and report["refusal"] is None and report["validity"]["valid_now"]
    assert report["holder"]["bin"] == MINISTRY_BIN and report["holder"]["iin"]
    assert "SERIALNUMBER=IIN" in report["subject"]
    assert [link["role"] for link in report["chain"]] == ["end-entity", "intermediate", "root"]
    assert report["revocation"] == {"status": "good", "policy": "ocsp-then-crl", "detail": None}


def test_a_revoked_certificate_in_base64_der(service: Running, landscape: Landscape) -> None:
    issued = landscape.pki.issue(iin=make_iin(dt.date(1980, 5, 17), "male", 4321), bin=MINISTRY_BIN)
    landscape.pki.revoke(issued, reason="keyCompromise")
    der = issued.certificate.public_bytes(serialization.Encoding.DER)
    answer = service.post("/api/v1/trust/certificate", json={"certificate": base64.b64encode(der).decode()})
    assert answer.status_code == 200, answer.text
    assert answer.json()["trusted"]  # the chain and the dates hold ...
    assert answer.json()["revocation"]["status"] == "revoked"  # ... but the PKI says revoked


def test_an_unknown_issuer_is_not_trusted(service: Running) -> None:
    answer = service.post("/api/v1/trust/certificate", json={"certificate": _pem(_self_signed())})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert not report["trusted"] and report["refusal"]["reason"] == "untrusted-chain"
    assert report["revocation"]["status"] == "unknown"


def test_not_a_certificate(service: Running) -> None:
    error = error_of(service.post("/api/v1/trust/certificate", json={"certificate": "hello"}), 422, "EGOV100")
    assert error["field"] == "certificate"
    error_of(service.post("/api/v1/trust/certificate", json={}), 422, "EGOV100")


# --------------------------------------------------------------------------- verification

def test_a_licence_verifies_and_names_its_signer(service: Running, issued: Issued) -> None:
    licence = service.get(f"/api/v1/licences/{issued.licence_number}/xml").content
    answer = service.post("/api/v1/trust/verify", data=licence, headers=XML)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["valid"] and body["kind"] == "document"
    assert "first-head" in body["signer"]["roles"] and body["certificate"]["serial"] == body["signer"]["serial"]
    wrong = service.post("/api/v1/trust/verify", params={"expect_bin": MINISTRY_BIN}, data=licence, headers=XML)
    assert (wrong.json()["valid"], wrong.json()["reason"]) == (False, "bin-mismatch")


def test_a_tampered_licence_is_refused_with_the_rule(service: Running, issued: Issued) -> None:
    licence = service.get(f"/api/v1/licences/{issued.licence_number}/xml").content
    tampered = licence.replace(issued.licensee_bin.encode(), b"000000000000", 1)
    assert tampered != licence
    body = service.post("/api/v1/trust/verify", data=tampered, headers=XML).json()
    assert body == {**body, "valid": False, "reason": "digest-mismatch", "code": "EGOV300"}


def test_what_is_not_xml_is_an_error(service: Running) -> None:
    error_of(service.post("/api/v1/trust/verify", data=b"not xml", headers=XML), 400, "EGOV201")
    error_of(service.post("/api/v1/trust/verify", data=b"", headers=XML), 422, "EGOV100")
    doctype = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>'
    error_of(service.post("/api/v1/trust/verify", data=doctype, headers=XML), 400, "EGOV202")


# --------------------------------------------------------------------------- signing

def test_signing_is_off_by_default(service: Running) -> None:
    error_of(service.post("/api/v1/trust/sign", data=DOCUMENT, headers=XML), 403, "EGOV607")


@pytest.fixture(scope="module")
def signing(manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A service with EGOV_SERVICE_SIGNING_ENABLED=true."""
    settings = service_settings(manifest, tmp_path_factory.mktemp("signing"), service_signing_enabled=True)
    key = add_caller(settings.service_callers_file, "signer", ["trust:*"])
    with ServiceRuntime.from_settings(settings) as runtime, ServiceServer(create_app(runtime)) as server:
        yield server.url, key


def test_sign_a_document_and_an_envelope_when_enabled(signing: tuple[str, str], service: Running) -> None:
    url, key = signing
    headers = {**XML, "X-API-Key": key}
    for mode, data, kind in (("enveloped", DOCUMENT, "document"), ("wsse", ENVELOPE, "envelope")):
        signed = requests.post(f"{url}/api/v1/trust/sign", params={"mode": mode}, data=data, headers=headers,
                               timeout=30)
        assert signed.status_code == 200 and signed.headers["content-type"].startswith("application/xml")
        check = service.post("/api/v1/trust/verify", data=signed.content, headers=XML).json()
        assert (check["valid"], check["kind"], check["signer"]["bin"]) == (True, kind, MINISTRY_BIN)
    bad = requests.post(f"{url}/api/v1/trust/sign", params={"mode": "wsse"}, data=DOCUMENT, headers=headers,
                        timeout=30)
    assert error_of(bad, 422, "EGOV100")["field"] == "body"
