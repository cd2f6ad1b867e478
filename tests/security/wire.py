"""Raw SOAP over real HTTP, as an attacker sends it: any envelope, signed or not, no adapter in the way.

``post`` sends an envelope around ``payload`` (optionally WS-Security signed) to a simulator and
returns the HTTP status and the Body's element; ``fault`` reads a Fault's ``errorCode`` and
``errorMessage`` (E-licensing's ``ErrorInfo`` or the payment gateway's ``PaymentFault``).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from adapters.core.http import NetworkTransport
from adapters.core.soap import build_envelope, serialize
from adapters.core.xmlsig import SigningService

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclass(frozen=True)
class Answer:
    status: int
    body: etree._Element
    """The Body's first child: the answer's payload or the ``soap:Fault``."""

    @property
    def is_fault(self) -> bool:
        return self.body.tag == f"{{{SOAP_NS}}}Fault"

    def fault(self) -> tuple[str, str]:
        """(errorCode, errorMessage) of the Fault's detail."""
        assert self.is_fault, f"expected a Fault, got <{etree.QName(self.body).localname}> (HTTP {self.status})"
        code = self.body.findtext(".//{*}errorCode")
        message = self.body.findtext(".//{*}errorMessage")
        assert code is not None and message is not None, etree.tostring(self.body)
        return code.strip(), message.strip()


def post(url: str, payload: etree._Element, action: str, *, signer: SigningService | None = None) -> Answer:
    """POST ``payload`` in a SOAP 1.1 envelope (WS-Security signed by ``signer`` when given)."""
    envelope = build_envelope(payload)
    body = signer.sign_envelope(envelope) if signer is not None else serialize(envelope)
    transport = NetworkTransport()
    try:
        result = transport.request("POST", url, body=body, timeout=30, headers={
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'})
    finally:
        transport.close()
    root = etree.fromstring(result.body)
    soap_body = root.find(f"{{{SOAP_NS}}}Body")
    assert soap_body is not None and len(soap_body) == 1, result.body[:500]
    return Answer(result.status, soap_body[0])
