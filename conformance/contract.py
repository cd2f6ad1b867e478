"""Checks every system shares: the WSDL an endpoint publishes, and the signing profile of its answers.

The signing profile is the gateway's (``docs/signing.md``): a ``wsse:Security`` header holding one
``ds:Signature`` with exclusive c14n, an RSA- or ECDSA-SHA256 family ``SignatureMethod``, SHA-2
digests, and References covering the ``soap:Body`` and the ``wsu:Timestamp`` (with ``Created`` and
``Expires``). That the signature *holds* (digests, value, a trusted certificate) is the adapters'
pipeline's job; here the check names what the answer's signature covers and how.
"""

from __future__ import annotations

from lxml import etree

from adapters.contracts import contract_path
from adapters.core.errors import XmlError
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import algorithms as alg
from conformance.probe import Probe
from conformance.report import CheckFailed, CheckSkipped, expect

__all__ = ["check_signing_profile", "check_wsdl", "wsdl_operations"]

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"


def wsdl_operations(root: etree._Element) -> set[str]:
    """The operations of a WSDL's portTypes."""
    return {str(op.get("name")) for op in root.iterfind(f"{{{WSDL_NS}}}portType/{{{WSDL_NS}}}operation")}


def check_wsdl(probe: Probe, endpoint: str, local: str) -> str:
    """``endpoint?wsdl`` is a WSDL of the same target namespace offering every operation of ``local``
    (a path under the contracts root). A 404 skips the check: not every deployment publishes it."""
    result = probe.soap.get(f"{endpoint}?wsdl", raise_for_status=False)
    if result.status == 404:
        raise CheckSkipped(f"{endpoint}?wsdl: HTTP 404 (the endpoint does not publish its WSDL)")
    expect(result.status == 200, "HTTP 200 with the WSDL", f"HTTP {result.status}")
    try:
        served = parse_xml(result.body, what="served WSDL")
    except XmlError as exc:
        raise CheckFailed("a well-formed WSDL", str(exc)) from exc
    expect(served.tag == f"{{{WSDL_NS}}}definitions", "a wsdl:definitions document", served.tag)
    ours = etree.parse(str(contract_path(local))).getroot()
    expect(served.get("targetNamespace") == ours.get("targetNamespace"),
           f"targetNamespace {ours.get('targetNamespace')}", served.get("targetNamespace"))
    missing = sorted(wsdl_operations(ours) - wsdl_operations(served))
    expect(not missing, f"the operations of {local}", f"missing {', '.join(missing)}")
    return f"{len(wsdl_operations(served))} operations, targetNamespace {served.get('targetNamespace')}"


def check_signing_profile(answer: bytes, *, what: str) -> str:
    """The answer's WS-Security signature follows the profile and covers the Body and the Timestamp."""
    envelope = parse_xml(answer, what=what, allow_huge=True)
    security = envelope.find(f"{{{alg.SOAP11_NS}}}Header/{{{alg.WSSE_NS}}}Security")
    expect(security is not None, "a wsse:Security header", "no wsse:Security in soap:Header")
    assert security is not None
    signatures = security.findall(f"{{{alg.DS_NS}}}Signature")
    expect(len(signatures) == 1, "one ds:Signature in wsse:Security", f"{len(signatures)}")
    signed_info = signatures[0].find(f"{{{alg.DS_NS}}}SignedInfo")
    expect(signed_info is not None, "ds:SignedInfo", "none")
    assert signed_info is not None

    def algorithm(name: str) -> str:
        node = signed_info.find(f"{{{alg.DS_NS}}}{name}")
        return str(node.get("Algorithm")) if node is not None else "(none)"

    c14n, method = algorithm("CanonicalizationMethod"), algorithm("SignatureMethod")
    expect(c14n == alg.EXC_C14N, f"CanonicalizationMethod {alg.EXC_C14N}", c14n)
    expect(method in alg.SECURE_SIGNATURES, "an RSA or ECDSA SignatureMethod of the SHA-2 family", method)
    covered: dict[str, str] = {}
    for reference in signed_info.findall(f"{{{alg.DS_NS}}}Reference"):
        digest = reference.find(f"{{{alg.DS_NS}}}DigestMethod")
        digest_alg = str(digest.get("Algorithm")) if digest is not None else "(none)"
        expect(digest_alg in alg.SECURE_DIGESTS, "SHA-256/384/512 digests", digest_alg)
        uri = str(reference.get("URI", ""))
        target = _by_id(envelope, uri[1:]) if uri.startswith("#") else None
        expect(target is not None, f"Reference {uri!r} to an element of the answer", "no element with that id")
        assert target is not None
        covered[etree.QName(target).localname] = uri
    expect("Body" in covered, "the signature covers soap:Body", f"covers {sorted(covered) or 'nothing'}")
    expect("Timestamp" in covered, "the signature covers wsu:Timestamp", f"covers {sorted(covered)}")
    timestamp = security.find(f"{{{alg.WSU_NS}}}Timestamp")
    expect(timestamp is not None and timestamp.find(f"{{{alg.WSU_NS}}}Created") is not None
           and timestamp.find(f"{{{alg.WSU_NS}}}Expires") is not None,
           "wsu:Timestamp with Created and Expires", "incomplete or missing wsu:Timestamp")
    return f"{method.rsplit('#', 1)[-1]}, exc-c14n, covers {', '.join(sorted(covered))}"


def _by_id(root: etree._Element, value: str) -> etree._Element | None:
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if value in (element.get(f"{{{alg.WSU_NS}}}Id"), element.get("Id"), element.get("ID"), element.get("id")):
            return element
    return None
