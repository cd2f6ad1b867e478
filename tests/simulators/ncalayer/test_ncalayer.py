"""The NCALayer simulator over a real WebSocket: the greeting, the commonUtils answers, signXml's
signature verifying with the project's verification service, and the refusals NCALayer gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import ClientConnection, connect

from adapters.core.private_files import write_private
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlsig import VerificationService
from simulators.ncalayer import KeyChoice, NcaLayerSimulator
from simulators.pki import TestPKI

IIN = "800101330018"
BIN = "120940001946"


@pytest.fixture(scope="module")
def keys(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> KeyChoice:
    folder = tmp_path_factory.mktemp("ncalayer-keys")
    auth = pki.issue(iin=IIN, bin=BIN, usage="auth").write_pkcs12(folder / "auth.p12", "auth-pw")
    sign = pki.issue(iin=IIN, bin=BIN).write_pkcs12(folder / "sign.p12", "sign-pw")
    files = [write_private(folder / "auth.pw", b"auth-pw\n"), write_private(folder / "sign.pw", b"sign-pw")]
    return KeyChoice.from_paths([Path(auth), Path(sign)], files)


@pytest.fixture(scope="module")
def layer(keys: KeyChoice) -> Iterator[NcaLayerSimulator]:
    with NcaLayerSimulator(keys, port=0) as sim:
        yield sim


@pytest.fixture()
def ws(layer: NcaLayerSimulator) -> Iterator[ClientConnection]:
    with connect(layer.url, open_timeout=5) as conn:
        assert json.loads(conn.recv(timeout=5)) == {"result": {"version": "1.3"}}
        yield conn


def call(ws: ClientConnection, request: dict[str, object]) -> dict[str, object]:
    ws.send(json.dumps(request))
    answer: dict[str, object] = json.loads(ws.recv(timeout=30))
    return answer


def utils(method: str, *args: object) -> dict[str, object]:
    return {"module": "kz.gov.pki.knca.commonUtils", "method": method, "args": list(args)}


def test_active_tokens_and_key_info(ws: ClientConnection) -> None:
    assert call(ws, {"module": "kz.gov.pki.knca.commonUtils", "method": "getActiveTokens"}) == {
        "code": "200", "responseObject": []}
    info = call(ws, utils("getKeyInfo", "PKCS12"))
    assert info["code"] == "200"
    obj = info["responseObject"]
    assert isinstance(obj, dict)
    assert obj["alias"] == "auth.p12" and f"IIN{IIN}" in obj["subjectDn"]
    assert obj["pem"].startswith("-----BEGIN CERTIFICATE-----") and int(obj["certNotAfter"]) > int(obj["certNotBefore"])


@pytest.mark.parametrize(("key_type", "usage"), [("AUTHENTICATION", "auth"), ("SIGNATURE", "sign")])
def test_sign_xml_verifies_with_the_key_of_the_type_asked(ws: ClientConnection, pki_validator: CertificateValidator,
                                                          key_type: str, usage: str) -> None:
    answer = call(ws, utils("signXml", "PKCS12", key_type, "<doc><a>қазақ</a></doc>", "", ""))
    assert answer["code"] == "200"
    signed = str(answer["responseObject"]).encode()
    verified = VerificationService(pki_validator).verify_document(signed, usage=usage, expect_iin=IIN)  # type: ignore[arg-type]
    assert verified.signer.iin == IIN and verified.signer.usage == usage


def test_keys_chosen_again_sign_with_the_new_key_under_the_same_file_name(pki: TestPKI,
                                                                         pki_validator: CertificateValidator) -> None:
    """The user picks another file called as the first (``head.p12``): the next signature is the new key's."""
    from simulators.ncalayer import StoredKey

    first, second = (pki.issue(iin=IIN, bin=BIN).key_material for _ in range(2))
    with NcaLayerSimulator(KeyChoice([StoredKey("head.p12", first)]), port=0) as sim:
        for material in (first, second):
            sim.use(KeyChoice([StoredKey("head.p12", material)]))
            with connect(sim.url, open_timeout=5) as conn:
                conn.recv(timeout=5)
                answer = call(conn, utils("signXml", "PKCS12", "SIGNATURE", "<doc/>", "", ""))
            verified = VerificationService(pki_validator).verify_document(str(answer["responseObject"]).encode())
            assert verified.certificate == material.certificate


def test_sign_xml_verifies_with_xmlsec1(ws: ClientConnection, pki: TestPKI, tmp_path: Path) -> None:
    """The same bytes verify with xmlsec1, independently of the project's verifier."""
    import subprocess

    from cryptography.hazmat.primitives.serialization import Encoding

    answer = call(ws, utils("signXml", "PKCS12", "SIGNATURE", "<Application><Name>Шаһар</Name></Application>", "", ""))
    (tmp_path / "signed.xml").write_text(str(answer["responseObject"]), encoding="utf-8")
    (tmp_path / "ca.pem").write_bytes(pki.root_certificate.public_bytes(Encoding.PEM)
                                      + pki.issuing_certificate.public_bytes(Encoding.PEM))
    done = subprocess.run(["xmlsec1", "--verify", "--trusted-pem", str(tmp_path / "ca.pem"),
                           str(tmp_path / "signed.xml")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_sign_xmls_signs_each(ws: ClientConnection) -> None:
    answer = call(ws, utils("signXmls", "PKCS12", "SIGNATURE", ["<a/>", "<b/>"], "", ""))
    out = answer["responseObject"]
    assert isinstance(out, list) and len(out) == 2 and all("SignatureValue" in x for x in out)


@pytest.mark.parametrize(("request_", "message"), [
    (utils("getKeyInfo", None), "java.lang.IllegalArgumentException: argument type mismatch. Method: getKeyInfo"),
    (utils("signXml", "PKCS12", 555, "<a/>", "", ""),
     "java.lang.IllegalArgumentException: argument type mismatch. Method: signXml"),
    (utils("getKeyInfo", "AKKaztokenStore"), "storage AKKaztokenStore: no such device is connected"),
    ({"module": "kz.digiflow.mobile.extensions", "method": "getVersion"},
     "module kz.digiflow.mobile.extensions not found"),
])
def test_refusals_are_500_answers(ws: ClientConnection, request_: dict[str, object], message: str) -> None:
    assert call(ws, request_) == {"code": "500", "message": message}


def test_malformed_xml_is_refused_with_the_reason(ws: ClientConnection) -> None:
    answer = call(ws, utils("signXml", "PKCS12", "SIGNATURE", "<this>is not XML", "", ""))
    assert answer["code"] == "500" and "XML" in str(answer["message"])


def test_a_key_type_the_user_lacks_is_a_cancelled_dialog(pki: TestPKI, tmp_path: Path) -> None:
    only_sign = pki.issue(iin=IIN).write_pkcs12(tmp_path / "s.p12", "pw")
    pw = write_private(tmp_path / "pw", b"pw")
    with NcaLayerSimulator(KeyChoice.from_paths([Path(only_sign)], [pw]), port=0) as sim, \
            connect(sim.url, open_timeout=5) as conn:
        conn.recv(timeout=5)
        assert call(conn, utils("signXml", "PKCS12", "AUTHENTICATION", "<a/>", "", "")) == {
            "code": "500", "message": "action.canceled"}


def test_egov_ncalayer_serves_the_keys_given(keys: KeyChoice, tmp_path: Path) -> None:
    """``egov ncalayer --p12 F --password-file P`` (one password file per keystore) answers on its port."""
    import signal
    import socket
    import subprocess
    import sys

    folder = tmp_path
    files = []
    for i, key in enumerate(keys.keys):
        files += ["--p12", str(key.material.write_pkcs12(folder / f"k{i}.p12", f"pw{i}")),
                  "--password-file", str(write_private(folder / f"k{i}.pw", f"pw{i}".encode()))]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    egov = Path(sys.executable).with_name("egov")
    proc = subprocess.Popen([str(egov), "ncalayer", *files, "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == f"NCALayer simulator on ws://127.0.0.1:{port}"
        with connect(f"ws://127.0.0.1:{port}", open_timeout=5) as conn:
            conn.recv(timeout=5)
            answer = call(conn, utils("getKeyInfo", "PKCS12"))
        assert answer["code"] == "200" and f"IIN{IIN}" in answer["responseObject"]["subjectDn"]  # type: ignore[index]
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "stopped" in err


def _greeted(url: str, origin: str | None) -> bool:
    """True when a connection from ``origin`` (None: no Origin header) is accepted and greeted; False
    when refused with 403."""
    from websockets.exceptions import InvalidStatus

    try:
        with connect(url, origin=origin, open_timeout=5) as conn:  # type: ignore[arg-type]
            return bool(json.loads(conn.recv(timeout=5))["result"]["version"])
    except InvalidStatus as refused:
        assert refused.response.status_code == 403
        return False


def test_only_the_origins_named_may_connect(keys: KeyChoice) -> None:
    with NcaLayerSimulator(keys, port=0, origins=["http://127.0.0.1:9000"]) as sim:
        assert _greeted(sim.url, "http://127.0.0.1:9000")
        assert not _greeted(sim.url, "http://evil.example")
        assert not _greeted(sim.url, "http://127.0.0.1:8783")  # the default is replaced, not extended
        assert _greeted(sim.url, None)  # a local program, not a page


def test_by_default_only_the_portal_on_its_default_port_may_connect(layer: NcaLayerSimulator) -> None:
    assert _greeted(layer.url, "http://127.0.0.1:8783")
    assert _greeted(layer.url, "http://localhost:8783")
    for other in ("http://evil.example", "http://127.0.0.1:8784", "https://127.0.0.1:8783", "null"):
        assert not _greeted(layer.url, other), other


def test_any_page_only_when_asked_explicitly(keys: KeyChoice) -> None:
    with pytest.raises(ValueError, match="any_origin"):
        NcaLayerSimulator(keys, port=0, origins=[])
    with NcaLayerSimulator(keys, port=0, any_origin=True) as sim:
        assert _greeted(sim.url, "http://evil.example")
