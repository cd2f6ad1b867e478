"""SigningService.sign_envelope / VerificationService.verify_envelope: the gateway's WS-Security profile."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from adapters.core.clock import FrozenClock
from adapters.core.errors import ValidationError
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlparse import NS
from adapters.core.xmlsig import (
    EcdsaBackend,
    ReplayCache,
    RsaBackend,
    SignatureConfig,
    SignerBackend,
    SigningService,
    VerificationService,
)
from adapters.core.xmlsig import algorithms as alg
from simulators.pki import IssuedKey, TestPKI

BIN = "940140000385"
IIN = "871008401427"
ENVELOPE = (
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b"<soapenv:Header><x:Trace xmlns:x=\"urn:trace\">abc</x:Trace></soapenv:Header>"
    b'<soapenv:Body><t:SendMessage xmlns:t="http://bip.bee.kz/SyncChannel/v10/Types">'
    b"<request><requestInfo><serviceId>GbdulInfoByBin_v2</serviceId></requestInfo></request>"
    b"</t:SendMessage></soapenv:Body></soapenv:Envelope>"
)


def q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


@pytest.fixture(scope="module")
def key(pki: TestPKI) -> IssuedKey:
    return pki.issue(iin=IIN, bin=BIN)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(dt.datetime.now(dt.UTC).replace(microsecond=0))


@pytest.fixture
def verifier(pki: TestPKI, clock: FrozenClock) -> VerificationService:
    validator = CertificateValidator([pki.root_certificate], [pki.issuing_certificate], clock=clock)
    return VerificationService(validator, clock=clock)


def test_envelope_has_the_gateway_profile(key: IssuedKey, clock: FrozenClock) -> None:
    root = etree.fromstring(SigningService(key.key_material, clock=clock).sign_envelope(ENVELOPE))
    header = root.find(q("soap", "Header"))
    assert header is not None and header.find("{urn:trace}Trace") is not None  # existing header kept
    security = header.find(q("wsse", "Security"))
    assert security is not None
    assert security.get(q("soap", "mustUnderstand")) == "1"
    body = root.find(q("soap", "Body"))
    assert body is not None
    body_id = body.get(q("wsu", "Id"))
    assert body_id is not None and body_id.startswith("id-")
    assert body.prefix == "soapenv" and root.nsmap["wsu"] == NS["wsu"]

    timestamp = security.find(q("wsu", "Timestamp"))
    assert timestamp is not None
    assert timestamp.findtext(q("wsu", "Created")) == clock.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert timestamp.findtext(q("wsu", "Expires")) == (
        clock.now() + dt.timedelta(seconds=300)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    signatures = security.findall(q("ds", "Signature"))
    assert len(signatures) == 1
    signed_info = signatures[0].find(q("ds", "SignedInfo"))
    assert signed_info is not None
    assert signed_info.find(q("ds", "CanonicalizationMethod")).get("Algorithm") == alg.EXC_C14N  # type: ignore[union-attr]
    assert signed_info.find(q("ds", "SignatureMethod")).get("Algorithm") == alg.RSA_SHA256  # type: ignore[union-attr]
    refs = signed_info.findall(q("ds", "Reference"))
    assert [r.get("URI") for r in refs] == [f"#{body_id}", f"#{timestamp.get(q('wsu', 'Id'))}"]
    for ref in refs:
        assert [t.get("Algorithm") for t in ref.iter(q("ds", "Transform"))] == [alg.EXC_C14N]
        assert ref.find(q("ds", "DigestMethod")).get("Algorithm") == alg.SHA256  # type: ignore[union-attr]

    key_id = signatures[0].find(f"{q('ds', 'KeyInfo')}/{q('wsse', 'SecurityTokenReference')}/"
                                f"{q('wsse', 'KeyIdentifier')}")
    assert key_id is not None
    assert key_id.get("ValueType") == alg.X509V3_VALUE_TYPE
    assert key_id.get("EncodingType") == alg.BASE64_ENCODING
    assert security.find(q("wsse", "BinarySecurityToken")) is None


def test_round_trip_returns_signer_and_body(key: IssuedKey, clock: FrozenClock,
                                            verifier: VerificationService) -> None:
    signed = SigningService(key.key_material, clock=clock).sign_envelope(ENVELOPE)
    verified = verifier.verify_envelope(signed, expect_bin=BIN, expect_iin=IIN, required_roles=("right-to-sign",))
    assert verified.signer.iin == IIN and verified.signer.bin == BIN
    assert verified.signer.serial == key.serial
    assert verified.certificate == key.certificate
    assert verified.timestamp_created == clock.now()
    assert verified.body.tag == q("soap", "Body")
    assert verified.body[0].tag == "{http://bip.bee.kz/SyncChannel/v10/Types}SendMessage"


def test_binary_security_token_style(key: IssuedKey, clock: FrozenClock, verifier: VerificationService) -> None:
    service = SigningService(key.key_material, SignatureConfig(token_reference="binary-security-token"), clock=clock)
    signed = service.sign_envelope(ENVELOPE)
    root = etree.fromstring(signed)
    token = root.find(f".//{q('wsse', 'BinarySecurityToken')}")
    assert token is not None and token.get("ValueType") == alg.X509V3_VALUE_TYPE
    ref = root.find(f".//{q('wsse', 'SecurityTokenReference')}/{q('wsse', 'Reference')}")
    assert ref is not None and ref.get("URI") == f"#{token.get(q('wsu', 'Id'))}"
    assert verifier.verify_envelope(signed).signer.serial == key.serial


def test_ecdsa_key(pki: TestPKI, clock: FrozenClock, verifier: VerificationService) -> None:
    ec_key = pki.issue(iin=IIN, key_type="ec")
    service = SigningService(ec_key.key_material, clock=clock)
    assert isinstance(service.backend, EcdsaBackend)
    signed = service.sign_envelope(ENVELOPE)
    assert alg.ECDSA_SHA256.encode() in signed
    assert verifier.verify_envelope(signed).signer.serial == ec_key.serial


def test_element_input_is_not_changed_and_resigning_replaces_the_signature(
        key: IssuedKey, clock: FrozenClock, verifier: VerificationService) -> None:
    service = SigningService(key.key_material, clock=clock)
    original = etree.fromstring(ENVELOPE)
    before = etree.tostring(original, method="c14n")
    once = service.sign_envelope(original)
    assert etree.tostring(original, method="c14n") == before
    twice = service.sign_envelope(etree.fromstring(once))
    root = etree.fromstring(twice)
    assert len(root.findall(f".//{q('ds', 'Signature')}")) == 1
    assert len(root.findall(f".//{q('wsu', 'Timestamp')}")) == 1
    assert verifier.verify_envelope(root).signer.iin == IIN


def test_envelope_without_body_is_refused(key: IssuedKey) -> None:
    with pytest.raises(ValidationError, match="no soap:Body"):
        SigningService(key.key_material).sign_envelope(
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/></s:Envelope>')


def test_backend_is_pluggable(key: IssuedKey, clock: FrozenClock, verifier: VerificationService) -> None:
    """A provider (e.g. a future GOST one) plugs in through the SignerBackend protocol."""

    class CountingBackend:
        def __init__(self) -> None:
            self.inner = RsaBackend(key.key_material)
            self.calls = 0
            self.algorithm = self.inner.algorithm
            self.certificate = self.inner.certificate
            self.chain = self.inner.chain

        def sign(self, data: bytes) -> bytes:
            self.calls += 1
            return self.inner.sign(data)

    backend = CountingBackend()
    assert isinstance(backend, SignerBackend)
    service = SigningService(backend, clock=clock)
    for _ in range(3):
        assert verifier.verify_envelope(service.sign_envelope(ENVELOPE)).signer.iin == IIN
    assert backend.calls == 3


def test_replay_cache_is_bounded_and_thread_safe(clock: FrozenClock) -> None:
    cache = ReplayCache(max_entries=100, clock=clock)
    until = clock.now() + dt.timedelta(minutes=5)
    seen: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        result = cache.check_and_remember("same", until)
        with lock:
            seen.append(result)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == [False] + [True] * 7  # exactly one first sighting
    for i in range(500):
        cache.check_and_remember(f"k{i}", until)
    assert len(cache) == 100
    clock.advance(dt.timedelta(minutes=6))
    assert cache.check_and_remember("k499", clock.now() + dt.timedelta(minutes=5)) is False  # expired
    assert len(cache) == 1


def test_certificate_in_key_identifier_is_the_signer(key: IssuedKey, clock: FrozenClock) -> None:
    import base64
    root = etree.fromstring(SigningService(key.key_material, clock=clock).sign_envelope(ENVELOPE))
    text = root.findtext(f".//{q('wsse', 'KeyIdentifier')}")
    assert base64.b64decode(text or "") == key.certificate.public_bytes(Encoding.DER)
