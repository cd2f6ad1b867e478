"""The test PKI: NCA subject layout and OIDs, PKCS#12, persistence, CRL and OCSP over real HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from adapters.core.clock import FrozenClock
from adapters.core.errors import ConflictError, IdentifierError, KeystoreError, NotFoundError, ValidationError
from adapters.core.trust import roles as nca
from adapters.core.trust.keystore import KeyMaterial
from simulators.pki import IssuedKey, TestPKI
from tests.fixtures.control import control_session

IIN = "871008401427"
BIN = "940140000385"
OTHER_BIN = "950341000052"


def _attr(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    (attr,) = cert.subject.get_attributes_for_oid(oid)
    return str(attr.value)


def _eku(cert: x509.Certificate) -> list[x509.ObjectIdentifier]:
    return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


# --------------------------------------------------------------------------- subject & extensions

def test_individual_sign_key_has_nca_subject_and_oids(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN, surname="ИВАНОВ", given_name="ИВАНОВИЧ", common_name="ИВАНОВ ИВАН")
    cert = key.certificate
    assert _attr(cert, NameOID.COMMON_NAME) == "ИВАНОВ ИВАН"
    assert _attr(cert, NameOID.SURNAME) == "ИВАНОВ"
    assert _attr(cert, NameOID.SERIAL_NUMBER) == f"IIN{IIN}"
    assert _attr(cert, NameOID.GIVEN_NAME) == "ИВАНОВИЧ"
    assert _attr(cert, NameOID.COUNTRY_NAME) == "KZ"
    assert not cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert not cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert _eku(cert) == [nca.INDIVIDUAL]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment and not ku.key_encipherment
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == ["1.2.398.3.3.2.4"]
    assert cert.issuer == pki.issuing_certificate.subject
    assert key.serial == format(cert.serial_number, "x")


def test_legal_entity_key_has_org_bin_and_default_roles(pki: TestPKI) -> None:
    cert = pki.issue(iin=IIN, bin=BIN, org="ТОО «Тест»").certificate
    assert _attr(cert, NameOID.ORGANIZATION_NAME) == "ТОО «Тест»"
    assert _attr(cert, NameOID.ORGANIZATIONAL_UNIT_NAME) == f"BIN{BIN}"
    assert [o.dotted_string for o in _eku(cert)] == ["1.2.398.3.3.4.1.2", "1.2.398.3.3.4.1.2.2"]


def test_auth_key_has_client_auth_and_key_encipherment(pki: TestPKI) -> None:
    cert = pki.issue(iin=IIN, bin=BIN, usage="auth", roles=["legal-entity", "1.2.398.3.3.4.1.2.1"]).certificate
    assert _eku(cert) == [nca.LEGAL_ENTITY, nca.FIRST_HEAD, ExtendedKeyUsageOID.CLIENT_AUTH]
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.key_encipherment and not ku.content_commitment


def test_aia_and_crl_point_at_the_served_base_url(pki: TestPKI) -> None:
    cert = pki.issue(iin=IIN).certificate
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    ocsp_urls = [d.access_location.value for d in aia if d.access_method == AuthorityInformationAccessOID.OCSP]
    assert ocsp_urls == [f"{pki.base_url}/ocsp"]
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for p in cdp for n in p.full_name or ()] == [f"{pki.base_url}/crl/issuing.crl"]
    assert pki.base_url.startswith("http://127.0.0.1:")
    assert requests.get(pki.crl_url, timeout=5).status_code == 200


def test_issue_validates_identifiers_and_options(pki: TestPKI) -> None:
    with pytest.raises(IdentifierError) as iin_err:
        pki.issue(iin="871008401428")
    assert iin_err.value.field == "iin"
    with pytest.raises(IdentifierError) as bin_err:
        pki.issue(iin=IIN, bin="940140000386")
    assert bin_err.value.field == "bin"
    with pytest.raises(ValidationError, match="org"):
        pki.issue(iin=IIN, org="Orphan LLP")
    with pytest.raises(ValidationError, match="unknown NCA role"):
        pki.issue(iin=IIN, roles=["king"])


def test_expired_and_not_yet_valid_and_ec(pki: TestPKI) -> None:
    now = dt.datetime.now(dt.UTC)
    expired = pki.issue(iin=IIN, expired=True).certificate
    assert expired.not_valid_after_utc < now
    future = pki.issue(iin=IIN, not_before=now + dt.timedelta(days=2), days=30).certificate
    assert future.not_valid_before_utc > now
    assert future.not_valid_after_utc - future.not_valid_before_utc == dt.timedelta(days=30)
    ec_key = pki.issue(iin=IIN, key_type="ec")
    assert isinstance(ec_key.private_key, ec.EllipticCurvePrivateKey)


def test_issuance_follows_the_injected_clock(pki_factory: Callable[..., TestPKI]) -> None:
    at = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
    frozen = pki_factory(clock=FrozenClock(at), base_url="http://127.0.0.1:1")
    cert = frozen.issue(iin=IIN, days=10).certificate
    assert cert.not_valid_before_utc == at - dt.timedelta(minutes=5)
    assert frozen.crl().last_update_utc == at


# --------------------------------------------------------------------------- PKCS#12 & persistence

def test_pkcs12_round_trip_with_chain(pki: TestPKI, tmp_path: Path) -> None:
    key = pki.issue(iin=IIN, bin=BIN)
    path = key.write_pkcs12(tmp_path / "RSA256_test.p12", "s3cret")
    loaded = KeyMaterial.from_pkcs12(path, "s3cret")
    assert loaded.certificate == key.certificate
    assert loaded.chain == (pki.issuing_certificate,)
    assert isinstance(loaded.private_key, rsa.RSAPrivateKey)
    cert_key = key.certificate.public_key()
    assert isinstance(cert_key, rsa.RSAPublicKey)
    assert loaded.private_key.public_key().public_numbers() == cert_key.public_numbers()
    with pytest.raises(KeystoreError):
        KeyMaterial.from_pkcs12(key.to_pkcs12("s3cret"), "wrong")
    with pytest.raises(KeystoreError, match=r"cannot read PKCS#12 keystore .*missing\.p12"):
        KeyMaterial.from_pkcs12(tmp_path / "missing.p12", "s3cret")


def test_state_persists_across_processes_view(pki_factory: Callable[..., TestPKI]) -> None:
    first = pki_factory(base_url="http://127.0.0.1:8790/")
    key = first.issue(iin=IIN)
    again = TestPKI.load(first.directory)
    assert again.base_url == "http://127.0.0.1:8790"
    assert again.root_certificate == first.root_certificate
    assert again.status(key.serial) == "good"
    again.revoke(key.serial, reason="keyCompromise")
    assert first.status(key) == "revoked"
    with pytest.raises(ConflictError, match="already revoked"):
        first.revoke(key)
    with pytest.raises(NotFoundError):
        first.revoke("abcdef")
    assert first.status(123) == "unknown"


# --------------------------------------------------------------------------- CRL

def test_crl_lists_revoked_serial_with_reason_and_is_signed(pki: TestPKI) -> None:
    revoked = pki.issue(iin=IIN)
    kept = pki.issue(iin=IIN)
    pki.revoke(revoked, reason="keyCompromise")
    reply = requests.get(pki.crl_url, timeout=5)
    assert reply.headers["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(reply.content)
    assert crl.is_signature_valid(pki.issuing_certificate.public_key())  # type: ignore[arg-type]
    assert crl.issuer == pki.issuing_certificate.subject
    assert crl.next_update_utc is not None and crl.next_update_utc > crl.last_update_utc
    entry = crl.get_revoked_certificate_by_serial_number(revoked.certificate.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(kept.certificate.serial_number) is None


# --------------------------------------------------------------------------- OCSP over HTTP

def _ocsp_request(key: IssuedKey, issuer: x509.Certificate, nonce: bytes = b"n" * 16) -> bytes:
    return (ocsp.OCSPRequestBuilder().add_certificate(key.certificate, issuer, hashes.SHA256())
            .add_extension(x509.OCSPNonce(nonce), critical=False).build()
            .public_bytes(serialization.Encoding.DER))


def _post(pki: TestPKI, body: bytes) -> ocsp.OCSPResponse:
    reply = requests.post(pki.ocsp_url, data=body, timeout=5,
                          headers={"Content-Type": "application/ocsp-request"})
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(reply.content)


def _assert_signed_by_issuer(resp: ocsp.OCSPResponse, pki: TestPKI) -> None:
    public = pki.issuing_certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    assert resp.signature_hash_algorithm is not None
    public.verify(resp.signature, resp.tbs_response_bytes, padding.PKCS1v15(), resp.signature_hash_algorithm)


def test_ocsp_good_with_nonce_echoed(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN)
    resp = _post(pki, _ocsp_request(key, pki.issuing_certificate, b"x" * 16))
    assert resp.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert resp.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert resp.serial_number == key.certificate.serial_number
    assert resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"x" * 16
    _assert_signed_by_issuer(resp, pki)


def test_ocsp_revoked_with_time_and_reason(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN)
    record = pki.revoke(key, reason="affiliationChanged")
    resp = _post(pki, _ocsp_request(key, pki.issuing_certificate))
    assert resp.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert resp.revocation_time_utc == record.revoked_at
    assert resp.revocation_reason is x509.ReasonFlags.affiliation_changed
    _assert_signed_by_issuer(resp, pki)


def test_ocsp_unknown_for_serial_never_issued(pki: TestPKI) -> None:
    from simulators.pki.issuance import SubjectSpec, build_certificate, generate_key

    stray_key = generate_key("rsa")
    now = dt.datetime.now(dt.UTC)
    stray = build_certificate(pki.issuing, SubjectSpec(iin=IIN, surname="X", given_name=None, common_name="X"),
                              stray_key, usage="sign", role_oids=[nca.INDIVIDUAL], not_before=now,
                              not_after=now + dt.timedelta(days=1), base_url=pki.base_url)
    body = (ocsp.OCSPRequestBuilder().add_certificate(stray, pki.issuing_certificate, hashes.SHA1()).build()
            .public_bytes(serialization.Encoding.DER))
    resp = _post(pki, body)
    assert resp.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    _assert_signed_by_issuer(resp, pki)


def test_ocsp_get_with_base64_path(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN)
    encoded = quote(base64.b64encode(_ocsp_request(key, pki.issuing_certificate)).decode(), safe="")
    reply = requests.get(f"{pki.ocsp_url}/{encoded}", timeout=5)
    assert reply.status_code == 200
    assert ocsp.load_der_ocsp_response(reply.content).certificate_status is ocsp.OCSPCertStatus.GOOD


def test_ocsp_refuses_foreign_issuer_and_garbage(pki: TestPKI, pki_factory: Callable[..., TestPKI]) -> None:
    other = pki_factory(base_url="http://127.0.0.1:1")
    foreign = other.issue(iin=IIN)
    resp = _post(pki, _ocsp_request(foreign, other.issuing_certificate))
    assert resp.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED
    assert _post(pki, b"not der").response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    wrong_type = requests.post(pki.ocsp_url, data=b"x", timeout=5, headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415


def test_control_api_revokes_and_reports_status(pki: TestPKI) -> None:
    key = pki.issue(iin=IIN)
    control = control_session(pki.control_token)
    assert control.get(f"{pki.base_url}/_control/status/{key.serial}", timeout=5).json()["status"] == "good"
    reply = control.post(f"{pki.base_url}/_control/revoke", json={"serial": key.serial,
                                                                  "reason": "superseded"}, timeout=5)
    assert reply.status_code == 200 and reply.json()["reason"] == "superseded"
    assert pki.status(key) == "revoked"
    assert control.post(f"{pki.base_url}/_control/revoke", json={"serial": "ab"}, timeout=5).status_code == 404
    root = requests.get(f"{pki.base_url}/certs/root.cer", timeout=5)
    assert x509.load_der_x509_certificate(root.content) == pki.root_certificate


# --------------------------------------------------------------------------- interop: OpenSSL verifies

@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
def test_openssl_accepts_chain_crl_and_ocsp(pki: TestPKI, tmp_path: Path) -> None:
    key = pki.issue(iin=IIN, bin=BIN)
    revoked = pki.issue(iin=IIN)
    pki.revoke(revoked, reason="keyCompromise")
    pem = serialization.Encoding.PEM
    (tmp_path / "cert.pem").write_bytes(key.certificate.public_bytes(pem))
    (tmp_path / "revoked.pem").write_bytes(revoked.certificate.public_bytes(pem))
    (tmp_path / "issuing.pem").write_bytes(pki.issuing_certificate.public_bytes(pem))
    (tmp_path / "issuing.crl").write_bytes(pki.crl().public_bytes(pem))

    def openssl(*args: str) -> str:
        done = subprocess.run(["openssl", *args], cwd=tmp_path, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    # chain: NCA role EKUs are not Web-PKI purposes, so verify with the "any" purpose
    assert "cert.pem: OK" in openssl("verify", "-CAfile", str(pki.ca_pem_path), "-untrusted", "issuing.pem",
                                     "cert.pem")
    assert "verify OK" in openssl("crl", "-in", "issuing.crl", "-CAfile", "issuing.pem", "-noout")
    ocsp_args = ("-issuer", "issuing.pem", "-url", pki.ocsp_url, "-CAfile", str(pki.ca_pem_path))
    good = openssl("ocsp", *ocsp_args, "-cert", "cert.pem")
    assert "Response verify OK" in good and "cert.pem: good" in good
    bad = openssl("ocsp", *ocsp_args, "-cert", "revoked.pem")
    assert "Response verify OK" in bad
    assert "revoked.pem: revoked" in bad and "Reason: keyCompromise" in bad
