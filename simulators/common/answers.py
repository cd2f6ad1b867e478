"""The envelope of an answer a simulator signs (the gateway's and the payment gateway's)."""

from __future__ import annotations

from lxml import etree

from adapters.core.soap import SOAP_ENV
from adapters.core.xmlsig.algorithms import WSU_NS

__all__ = ["answer_envelope"]


def answer_envelope(payload: etree._Element) -> etree._Element:
    """``soap:Envelope/soap:Body/payload``, with ``xmlns:wsu`` declared up front, where the signer
    would add it: the signer otherwise serialises and re-parses the whole envelope to declare it
    (``adapters.core.xmlsig.signer.declare_wsu``), on every answer."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"wsu": WSU_NS, "soap": SOAP_ENV})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(payload)
    return envelope
