"""``SigningService.sign_envelope`` fills copies of a prototype header: the bytes must be the
general path's, byte for byte, whatever the envelope already holds."""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module

import pytest

from adapters.core.clock import FrozenClock
from adapters.core.xmlsig import SignatureConfig, SigningService, VerificationService, wsse
from simulators.pki import TestPKI

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

ENVELOPES = [
    f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Body><m xmlns="urn:m">hello</m></soap:Body></soap:Envelope>',
    f'<s:Envelope xmlns:s="{SOAP12}" xmlns:wsu="{WSU}"><s:Header><h xmlns="urn:h">1</h></s:Header>'
    f'<s:Body wsu:Id="body-given"><a:m xmlns:a="urn:a" xml:lang="kk">сәлем</a:m></s:Body></s:Envelope>',
    f'<soap:Envelope xmlns:soap="{SOAP11}"><soap:Header><wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">'
    f'<wsse:UsernameToken><wsse:Username>u</wsse:Username></wsse:UsernameToken>'
    f'<wsu:Timestamp wsu:Id="old"><wsu:Created>2000-01-01T00:00:00Z</wsu:Created></wsu:Timestamp>'
    f'</wsse:Security></soap:Header><soap:Body>text <b>and</b> tail</soap:Body></soap:Envelope>',
]


def _deterministic_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = iter(range(1, 1000))
    monkeypatch.setattr(wsse.uuid, "uuid4", lambda: uuid_module.UUID(int=next(counter)))


@pytest.mark.parametrize("envelope", ENVELOPES)
@pytest.mark.parametrize("as_bytes", [True, False])
def test_prototype_path_signs_the_same_bytes(envelope: str, as_bytes: bool, pki: TestPKI,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.core.xmlparse import parse_xml

    key = pki.issue(iin="871008401427")
    clock = FrozenClock(dt.datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=dt.UTC))
    fast = SigningService(key.key_material, clock=clock)
    general = SigningService(key.key_material, clock=clock)
    general._prototype = None
    assert fast._prototype is not None

    def source() -> bytes | object:
        return envelope.encode() if as_bytes else parse_xml(envelope.encode())

    _deterministic_ids(monkeypatch)
    signed = fast.sign_envelope(source())  # type: ignore[arg-type]
    _deterministic_ids(monkeypatch)
    assert signed == general.sign_envelope(source())  # type: ignore[arg-type]
    verified = VerificationService(None, trust_any_certificate=True, clock=clock).verify_envelope(signed)
    assert verified.timestamp_created == clock.now().replace(microsecond=123000)


def test_other_profiles_take_the_general_path(pki: TestPKI) -> None:
    key = pki.issue(iin="871008401427")
    assert SigningService(key.key_material, SignatureConfig(token_reference="binary-security-token"))._prototype \
        is None
    assert SigningService(key.key_material, SignatureConfig(sign_timestamp=False))._prototype is None


def test_prototype_is_not_changed_by_signing(pki: TestPKI) -> None:
    key = pki.issue(iin="871008401427")
    service = SigningService(key.key_material)
    assert service._prototype is not None
    from lxml import etree

    snapshot = etree.tostring(service._prototype.signature), etree.tostring(service._prototype.timestamp)
    service.sign_envelope(ENVELOPES[0].encode())
    service.sign_envelope(ENVELOPES[2].encode())
    assert (etree.tostring(service._prototype.signature), etree.tostring(service._prototype.timestamp)) == snapshot
