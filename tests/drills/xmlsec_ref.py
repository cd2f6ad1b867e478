"""The reference implementation for the differential drill: python-xmlsec (libxmlsec1) signing and verifying.

python-xmlsec works on lxml trees (it must share lxml's libxml2; both are 2.14 here). It knows
nothing of WS-Security, so the envelope profile (Security header, Timestamp, KeyIdentifier) is
built here with lxml around an xmlsec signature template. Verification uses the signer's
certificate as the key: the point of the reference is the cryptography and canonicalization.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from lxml import etree

from adapters.core.xmlparse import NS
from adapters.core.xmlsig import algorithms as alg
from adapters.core.xmlsig.wsse import format_time

DS = f"{{{NS['ds']}}}"
WSSE = f"{{{NS['wsse']}}}"
WSU = f"{{{NS['wsu']}}}"
XMLSEC_ID_ATTRIBUTES: tuple[str, ...] = ("Id", "ID", "id")
"""Registered as ID attributes with ``xmlsec.tree.add_ids`` (libxml2 matches ``wsu:Id`` by its local name)."""

_C14N = {alg.EXC_C14N: xmlsec.constants.TransformExclC14N, alg.C14N: xmlsec.constants.TransformInclC14N}
_DIGEST = {alg.SHA256: xmlsec.constants.TransformSha256, alg.SHA384: xmlsec.constants.TransformSha384,
           alg.SHA512: xmlsec.constants.TransformSha512}
_SIGNATURE = {alg.RSA_SHA256: xmlsec.constants.TransformRsaSha256,
              alg.RSA_SHA384: xmlsec.constants.TransformRsaSha384,
              alg.RSA_SHA512: xmlsec.constants.TransformRsaSha512}

Kind = Literal["document", "envelope"]


@dataclass(frozen=True)
class XmlsecProfile:
    """The algorithms of an xmlsec-made signature (all accepted by our verifier's default configuration)."""

    canonicalization: str = alg.EXC_C14N
    transform: str = alg.EXC_C14N
    digest: str = alg.SHA256
    signature: str = alg.RSA_SHA256
    inclusive_prefixes: tuple[str, ...] = ()


class XmlsecReference:
    """Signs and verifies with python-xmlsec using one RSA key and its certificate."""

    def __init__(self, private_key_pem: bytes, certificate: x509.Certificate) -> None:
        self._key_pem = private_key_pem
        self._certificate = certificate
        self._cert_pem = certificate.public_bytes(Encoding.PEM)

    @classmethod
    def from_key(cls, private_key: object, certificate: x509.Certificate) -> XmlsecReference:
        pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())  # type: ignore[attr-defined]
        return cls(pem, certificate)

    # ------------------------------------------------------------------ verifying

    def verify(self, data: bytes, kind: Kind) -> bool:
        """True when xmlsec accepts the signature (the enveloped one of a document, the WS-Security one
        of an envelope); False when it refuses or finds no signature where the profile puts it."""
        try:
            root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True,
                                                                 huge_tree=True))
        except etree.XMLSyntaxError:
            return False
        if kind == "document":
            signatures = [c for c in root if c.tag == f"{DS}Signature"]
        else:
            signatures = root.findall(f"./*/{WSSE}Security/{DS}Signature")
        if len(signatures) != 1:
            return False
        xmlsec.tree.add_ids(root, list(XMLSEC_ID_ATTRIBUTES))
        ctx = xmlsec.SignatureContext()
        ctx.key = xmlsec.Key.from_memory(self._cert_pem, xmlsec.constants.KeyDataFormatCertPem)
        try:
            ctx.verify(signatures[0])
        except xmlsec.Error:  # VerificationError and processing failures alike: refused
            return False
        return True

    # ------------------------------------------------------------------ signing

    def _signing_key(self) -> xmlsec.Key:
        key = xmlsec.Key.from_memory(self._key_pem, xmlsec.constants.KeyDataFormatPem)
        key.load_cert_from_memory(self._cert_pem, xmlsec.constants.KeyDataFormatCertPem)
        return key

    @staticmethod
    def _template(root: etree._Element, profile: XmlsecProfile,
                  references: Sequence[tuple[str, bool]]) -> etree._Element:
        signature = xmlsec.template.create(root, _C14N[profile.canonicalization], _SIGNATURE[profile.signature],
                                           ns="ds")
        for uri, enveloped in references:
            ref = xmlsec.template.add_reference(signature, _DIGEST[profile.digest], uri=uri)
            if enveloped:
                xmlsec.template.add_transform(ref, xmlsec.constants.TransformEnveloped)
            transform = xmlsec.template.add_transform(ref, _C14N[profile.transform])
            if profile.inclusive_prefixes and profile.transform == alg.EXC_C14N:
                xmlsec.template.transform_add_c14n_inclusive_namespaces(transform, list(profile.inclusive_prefixes))
        return signature

    def sign_document(self, xml: bytes, *, reference_uri: str = "", position: int | None = None,
                      profile: XmlsecProfile = XmlsecProfile()) -> bytes:
        """Enveloped signature with X509Data, inserted as the root's child number ``position`` (None: last)."""
        root = etree.fromstring(xml)
        signature = self._template(root, profile, [(reference_uri, True)])
        key_info = xmlsec.template.ensure_key_info(signature)
        xmlsec.template.x509_data_add_certificate(xmlsec.template.add_x509_data(key_info))
        if position is None or position >= len(root):
            root.append(signature)
        else:
            root.insert(position, signature)
        xmlsec.tree.add_ids(root, list(XMLSEC_ID_ATTRIBUTES))
        ctx = xmlsec.SignatureContext()
        ctx.key = self._signing_key()
        ctx.sign(signature)
        return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))

    def sign_envelope(self, xml: bytes, *, created: dt.datetime, ttl: float = 300.0,
                      profile: XmlsecProfile = XmlsecProfile(),
                      token_reference: Literal["key-identifier", "binary-security-token"] = "key-identifier",
                      ) -> bytes:
        """The gateway's WS-Security profile made with xmlsec: Timestamp and Body signed, exc-c14n."""
        root = etree.fromstring(xml)
        soap = etree.QName(root).namespace
        header = root.find(f"{{{soap}}}Header")
        if header is None:
            header = etree.Element(f"{{{soap}}}Header")
            root.insert(0, header)
        security = etree.SubElement(header, f"{WSSE}Security", nsmap={"wsse": NS["wsse"], "wsu": NS["wsu"]})
        security.set(f"{{{soap}}}mustUnderstand", "1")
        timestamp = etree.SubElement(security, f"{WSU}Timestamp", {f"{WSU}Id": f"TS-{uuid.uuid4()}"})
        etree.SubElement(timestamp, f"{WSU}Created").text = format_time(created)
        etree.SubElement(timestamp, f"{WSU}Expires").text = format_time(created + dt.timedelta(seconds=ttl))
        body = root.find(f"{{{soap}}}Body")
        assert body is not None
        body_id = body.get(f"{WSU}Id")
        if body_id is None:
            body_id = f"id-{uuid.uuid4()}"
            body.set(f"{WSU}Id", body_id)
        signature = self._template(root, profile, [(f"#{body_id}", False),
                                                   (f"#{timestamp.get(f'{WSU}Id')}", False)])
        key_info = xmlsec.template.ensure_key_info(signature)
        security.append(signature)
        xmlsec.tree.add_ids(root, list(XMLSEC_ID_ATTRIBUTES))
        ctx = xmlsec.SignatureContext()
        ctx.key = self._signing_key()
        ctx.sign(signature)
        # KeyInfo is not signed: the WS-Security token reference is added afterwards
        der = base64.b64encode(self._certificate.public_bytes(Encoding.DER)).decode()
        reference = etree.SubElement(key_info, f"{WSSE}SecurityTokenReference")
        if token_reference == "binary-security-token":
            token_id = f"X509-{uuid.uuid4()}"
            token = etree.Element(f"{WSSE}BinarySecurityToken", {
                "EncodingType": alg.BASE64_ENCODING, "ValueType": alg.X509V3_VALUE_TYPE, f"{WSU}Id": token_id})
            token.text = der
            security.insert(1, token)
            etree.SubElement(reference, f"{WSSE}Reference", URI=f"#{token_id}", ValueType=alg.X509V3_VALUE_TYPE)
        else:
            etree.SubElement(reference, f"{WSSE}KeyIdentifier", EncodingType=alg.BASE64_ENCODING,
                             ValueType=alg.X509V3_VALUE_TYPE).text = der
        return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))
