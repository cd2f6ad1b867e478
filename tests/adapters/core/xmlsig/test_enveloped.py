"""SigningService.sign_document / VerificationService.verify_document: enveloped XML-DSig."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from adapters.core.errors import RefusalReason, SignatureRefused, ValidationError
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlparse import NS
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.core.xmlsig import algorithms as alg
from simulators.pki import IssuedKey, TestPKI

BIN = "940140000385"
IIN = "871008401427"
DS = f"{{{NS['ds']}}}"
DOCUMENT = (
    b'<Response xmlns="urn:test:gbdul" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
    b"  <Status><Code>SCSS001</Code><NameRu>\xd0\x9e\xd0\x9a</NameRu></Status>\n"
    b"  <Organization><BIN>940140000385</BIN><FullNameRu>TEST LLP</FullNameRu></Organization>\n"
    b"</Response>"
)


@pytest.fixture(scope="module")
def key(pki: TestPKI) -> IssuedKey:
    return pki.issue(iin=IIN, bin=BIN)


@pytest.fixture
def verifier(pki: TestPKI) -> VerificationService:
    # the intermediate comes from the document's X509Data, so only the root is configured
    return VerificationService(CertificateValidator([pki.root_certificate]))


def test_whole_document_signature_shape(key: IssuedKey, pki: TestPKI) -> None:
    root = etree.fromstring(SigningService(key.key_material).sign_document(DOCUMENT))
    signature = root[-1]
    assert signature.tag == f"{DS}Signature"
    ref = signature.find(f"{DS}SignedInfo/{DS}Reference")
    assert ref is not None and ref.get("URI") == ""
    assert [t.get("Algorithm") for t in ref.iter(f"{DS}Transform")] == [alg.ENVELOPED, alg.EXC_C14N]
    certs = [base64.b64decode(c.text or "") for c in signature.iter(f"{DS}X509Certificate")]
    assert certs[0] == key.certificate.public_bytes(Encoding.DER)
    assert pki.issuing_certificate.public_bytes(Encoding.DER) in certs[1:]
    assert pki.root_certificate.public_bytes(Encoding.DER) not in certs


def test_round_trip_gives_content_without_signature(key: IssuedKey, verifier: VerificationService) -> None:
    signed = SigningService(key.key_material).sign_document(DOCUMENT)
    verified = verifier.verify_document(signed, expect_bin=BIN, expect_iin=IIN)
    assert verified.signer.serial == key.serial
    assert verified.certificate == key.certificate
    assert etree.tostring(verified.root, method="c14n") == etree.tostring(etree.fromstring(DOCUMENT),
                                                                          method="c14n")
    assert verified.signed_root.find(f"{DS}Signature") is not None


def test_id_reference(key: IssuedKey, verifier: VerificationService) -> None:
    source = b'<Request xmlns="urn:test" Id="req-1"><Amount>16180.00</Amount></Request>'
    signed = SigningService(key.key_material).sign_document(source, reference_uri="#req-1")
    assert b'URI="#req-1"' in signed
    assert verifier.verify_document(signed).root.findtext("{urn:test}Amount") == "16180.00"


def test_unknown_reference_is_refused(key: IssuedKey) -> None:
    service = SigningService(key.key_material)
    with pytest.raises(ValidationError, match="reference_uri"):
        service.sign_document(DOCUMENT, reference_uri="#missing")
    with pytest.raises(ValidationError, match="reference_uri"):
        service.sign_document(DOCUMENT, reference_uri="http://example.com/doc")


def test_business_document_inside_a_signed_envelope(key: IssuedKey, pki: TestPKI,
                                                    verifier: VerificationService) -> None:
    """Two layers as on the gateway: the business data's own signature, and the transport signature."""
    service = SigningService(key.key_material)
    business = service.sign_document(DOCUMENT)
    envelope = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
                b"<data>" + business.split(b"?>", 1)[1] + b"</data></soapenv:Body></soapenv:Envelope>")
    transport = VerificationService(CertificateValidator([pki.root_certificate], [pki.issuing_certificate]))
    verified = transport.verify_envelope(service.sign_envelope(envelope))
    inner = verified.body.find("data/{urn:test:gbdul}Response")
    assert inner is not None
    assert verifier.verify_document(inner, expect_bin=BIN).signer.iin == IIN


def test_whitespace_after_signature_is_kept_out_of_the_digest(key: IssuedKey,
                                                              verifier: VerificationService) -> None:
    signed = SigningService(key.key_material).sign_document(DOCUMENT)
    pretty = signed.replace(b"</ds:Signature></Response>", b"</ds:Signature>\n</Response>")
    assert pretty != signed
    # text after the Signature is not removed by the enveloped transform: the digest changes
    with pytest.raises(SignatureRefused, match="digest mismatch for reference 0") as info:
        verifier.verify_document(pretty)
    assert info.value.reason is RefusalReason.DIGEST_MISMATCH
