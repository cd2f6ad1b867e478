"""``/api/v1/trust``: certificate information, signature verification, signing (NCANode's habits).

- ``POST /trust/certificate``: a certificate (PEM or base64 DER) → subject, NCA attributes, chain,
  validity and revocation status;
- ``POST /trust/verify``: a signed XML (a WS-Security envelope or an enveloped-signed document,
  told apart by its root) → valid or not, and who signed it;
- ``POST /trust/sign``: sign an XML with the organisation's key, only when
  ``EGOV_SERVICE_SIGNING_ENABLED`` (otherwise 403 ``EGOV607``).

XML bodies are posted as they are (``Content-Type: application/xml``), parsed with the project's
hardened parser (no DTD, no entities, no external resources).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from lxml import etree
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from adapters.core.errors import SignatureRefused, ValidationError
from adapters.core.soap import SOAP_ENV
from adapters.core.trust.subject import SignerInfo, describe_name, serial_hex
from adapters.core.xmlparse import parse_xml
from service.auth import require, runtime_of
from service.certificates import CertificateReport, load_certificate, report
from service.errors import SigningDisabled
from service.routes import API_PREFIX
from service.runtime import ServiceRuntime
from service.threadpool import blocking

router = APIRouter(prefix=f"{API_PREFIX}/trust", tags=["Trust"])

XML_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/xml": {"schema": {"type": "string", "description": "the XML document, as bytes"}}}}}

Usage = Literal["sign", "auth", "any"]


class CertificateRequest(BaseModel):
    certificate: str = Field(min_length=1, max_length=64_000,
                             description="the certificate: PEM, or base64 of its DER encoding")


class SignerCertificate(BaseModel):
    subject: str
    issuer: str
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime


class VerifyAnswer(BaseModel):
    """Whether the signature holds; who signed when it does, which rule refused when it does not."""

    valid: bool
    kind: Literal["envelope", "document"] = Field(description="WS-Security envelope or enveloped-signed document")
    signer: SignerInfo | None = None
    certificate: SignerCertificate | None = None
    timestamp_created: dt.datetime | None = Field(default=None, description="wsu:Timestamp/Created of an envelope")
    reason: str | None = Field(default=None, description="the rule that refused (RefusalReason), when not valid")
    code: str | None = Field(default=None, description="EGOV300 when not valid")
    message: str | None = None


async def _xml_body(request: Request) -> bytes:
    body = await request.body()
    if not body.strip():
        raise ValidationError("body", "empty: post the XML document (Content-Type: application/xml)")
    return body


@router.post("/certificate", response_model=CertificateReport, summary="Certificate information",
             dependencies=[Depends(require("trust:certificate"))])
@blocking
def certificate_info(request: Request, body: CertificateRequest) -> CertificateReport:
    """Subject, NCA attributes (IIN, BIN, roles, usage), chain, validity and revocation (OCSP/CRL)."""
    runtime = runtime_of(request)
    cert = load_certificate(body.certificate)
    return report(cert, chain_validator=runtime.chain_validator, revocation=runtime.clients.revocation,
                  now=runtime.clock.now())


def _verify(runtime: ServiceRuntime, data: bytes, usage: Usage, expect_bin: str | None,
            expect_iin: str | None) -> VerifyAnswer:
    root = parse_xml(data, allow_huge=True, what="signed XML")
    kind: Literal["envelope", "document"] = "envelope" if root.tag == f"{{{SOAP_ENV}}}Envelope" else "document"
    options: dict[str, Any] = {"expect_bin": expect_bin, "expect_iin": expect_iin,
                               "usage": None if usage == "any" else usage}
    verification = runtime.clients.verification
    try:
        if kind == "envelope":
            envelope = verification.verify_envelope(root, **options)
            signer, cert, created = envelope.signer, envelope.certificate, envelope.timestamp_created
        else:
            document = verification.verify_document(root, **options)
            signer, cert, created = document.signer, document.certificate, None
    except SignatureRefused as exc:
        return VerifyAnswer(valid=False, kind=kind, reason=exc.reason.value, code=exc.code, message=exc.message)
    return VerifyAnswer(valid=True, kind=kind, signer=signer, timestamp_created=created,
                        certificate=SignerCertificate(
                            subject=describe_name(cert.subject), issuer=describe_name(cert.issuer),
                            serial=serial_hex(cert.serial_number), not_before=cert.not_valid_before_utc,
                            not_after=cert.not_valid_after_utc))


@router.post("/verify", response_model=VerifyAnswer, summary="Verify a signed XML", openapi_extra=XML_BODY,
             dependencies=[Depends(require("trust:verify"))])
async def verify(request: Request,
                 expect_bin: Annotated[str | None, Query(pattern=r"^\d{12}$",
                                                         description="the signer's certificate must carry this BIN")
                                       ] = None,
                 expect_iin: Annotated[str | None, Query(pattern=r"^\d{12}$",
                                                         description="the signer's certificate must carry this IIN")
                                       ] = None,
                 usage: Annotated[Usage, Query(description="key usage the certificate must have")] = "sign"
                 ) -> VerifyAnswer:
    """Signature, references, Timestamp (envelopes), certificate chain, validity, revocation, usage,
    and the expected BIN/IIN. A refused signature is an answer (``valid: false`` with the rule),
    not an error; XML that cannot be read is an error (400)."""
    data = await _xml_body(request)
    return await run_in_threadpool(_verify, runtime_of(request), data, usage, expect_bin, expect_iin)


def _sign(runtime: ServiceRuntime, data: bytes, mode: str) -> bytes:
    if mode == "wsse":
        root = parse_xml(data, what="SOAP envelope to sign")
        if root.tag != f"{{{SOAP_ENV}}}Envelope":
            raise ValidationError("body", f"mode=wsse signs a SOAP 1.1 envelope, the root is {etree.QName(root).text}")
        return runtime.clients.signing.sign_envelope(root)
    return runtime.clients.signing.sign_document(parse_xml(data, what="document to sign"))


@router.post("/sign", summary="Sign with the organisation's key", openapi_extra=XML_BODY, response_class=Response,
             dependencies=[Depends(require("trust:sign"))],
             responses={200: {"content": {"application/xml": {}}, "description": "the signed XML"}})
async def sign(request: Request,
               mode: Annotated[Literal["enveloped", "wsse"], Query(
                   description="enveloped XML-DSig of a document, or WS-Security of a SOAP envelope")] = "enveloped"
               ) -> Response:
    runtime = runtime_of(request)
    if not runtime.signing_enabled:
        raise SigningDisabled("signing with the organisation's key is off (EGOV_SERVICE_SIGNING_ENABLED=false)")
    data = await _xml_body(request)
    signed = await run_in_threadpool(_sign, runtime, data, mode)
    return Response(signed, media_type="application/xml")
