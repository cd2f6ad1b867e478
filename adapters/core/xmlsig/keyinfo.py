"""ds:KeyInfo: writing the signer's certificate, and reading the certificates a signature carries.

A certificate read here is only a claim; the verifier hands it to the CertificateValidator.
"""

from __future__ import annotations

import base64
import binascii
import threading
import uuid
from collections.abc import Mapping
from functools import lru_cache

from cachetools import LRUCache
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from adapters.core.errors import RefusalReason, SignatureRefused
from adapters.core.xmlsig import algorithms as alg

DS = f"{{{alg.DS_NS}}}"
WSSE = f"{{{alg.WSSE_NS}}}"
WSU = f"{{{alg.WSU_NS}}}"


@lru_cache(maxsize=64)
def _b64_der(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode()


def x509_data_key_info(certificates: tuple[x509.Certificate, ...]) -> etree._Element:
    """``ds:KeyInfo/ds:X509Data/ds:X509Certificate`` (signer first), for enveloped signatures."""
    key_info = etree.Element(f"{DS}KeyInfo", nsmap={"ds": alg.DS_NS})
    data = etree.SubElement(key_info, f"{DS}X509Data")
    for certificate in certificates:
        etree.SubElement(data, f"{DS}X509Certificate").text = _b64_der(certificate)
    return key_info


def key_identifier_key_info(certificate: x509.Certificate) -> etree._Element:
    """The gateway's profile: ``wsse:SecurityTokenReference/wsse:KeyIdentifier`` (X509v3, Base64Binary)."""
    key_info = etree.Element(f"{DS}KeyInfo", nsmap={"ds": alg.DS_NS})
    str_el = etree.SubElement(key_info, f"{WSSE}SecurityTokenReference", nsmap={"wsse": alg.WSSE_NS})
    etree.SubElement(str_el, f"{WSSE}KeyIdentifier", EncodingType=alg.BASE64_ENCODING,
                     ValueType=alg.X509V3_VALUE_TYPE).text = _b64_der(certificate)
    return key_info


def binary_security_token(certificate: x509.Certificate) -> tuple[etree._Element, etree._Element]:
    """A ``wsse:BinarySecurityToken`` and the KeyInfo that points at it by ``wsu:Id``."""
    token_id = f"X509-{uuid.uuid4()}"
    token = etree.Element(f"{WSSE}BinarySecurityToken", nsmap={"wsse": alg.WSSE_NS, "wsu": alg.WSU_NS})
    token.set("EncodingType", alg.BASE64_ENCODING)
    token.set("ValueType", alg.X509V3_VALUE_TYPE)
    token.set(f"{WSU}Id", token_id)
    token.text = _b64_der(certificate)
    key_info = etree.Element(f"{DS}KeyInfo", nsmap={"ds": alg.DS_NS})
    str_el = etree.SubElement(key_info, f"{WSSE}SecurityTokenReference", nsmap={"wsse": alg.WSSE_NS})
    etree.SubElement(str_el, f"{WSSE}Reference", URI=f"#{token_id}", ValueType=alg.X509V3_VALUE_TYPE)
    return token, key_info


def _load(text: str | None, where: str) -> x509.Certificate:
    """Decode and fully parse a certificate from a signature.

    ``cryptography`` parses names, extensions and the public key lazily, on first access, and
    raises ``ValueError``, ``TypeError``, ``InvalidVersion`` or ``UnsupportedAlgorithm`` there; the
    parts the verifier and the validator read are touched here, so that a broken certificate is
    refused (MALFORMED) at the boundary instead of leaking a library error later.
    """
    try:
        der = base64.b64decode("".join((text or "").split()), validate=True)
        certificate = x509.load_der_x509_certificate(der)
        certificate.subject.rfc4514_string()
        certificate.issuer.rfc4514_string()
        for _ in certificate.extensions:
            pass
    except (binascii.Error, ValueError, TypeError, x509.InvalidVersion, x509.DuplicateExtension,
            x509.UnsupportedGeneralNameType) as exc:
        raise SignatureRefused(RefusalReason.MALFORMED, f"{where} does not hold a DER X.509 certificate") \
            from exc
    try:
        certificate.public_key()
    except UnsupportedAlgorithm as exc:
        raise SignatureRefused(RefusalReason.ALGORITHM,
                               f"{where}: the certificate's public key algorithm is not supported") from exc
    except (ValueError, TypeError) as exc:
        raise SignatureRefused(RefusalReason.MALFORMED, f"{where}: the certificate's public key cannot be read") \
            from exc
    return certificate


PARSED_CACHE_SIZE = 256
_parsed: LRUCache[str, x509.Certificate] = LRUCache(maxsize=PARSED_CACHE_SIZE)
_parsed_lock = threading.Lock()


def _load_cached(text: str | None, where: str) -> x509.Certificate:
    """:func:`_load`, remembered by the exact base64 text (bounded LRU).

    A counterpart sends the same certificate with every message, and decoding plus the eager
    parse of names and extensions costs about as much as the RSA verification. Only the parse
    is remembered (a pure function of the bytes); whether the certificate is trusted, valid now
    or revoked is decided by the CertificateValidator on every message. Failures are not cached.
    """
    key = text or ""
    with _parsed_lock:
        found = _parsed.get(key)
        if found is not None:
            return found
    certificate = _load(text, where)
    with _parsed_lock:
        _parsed[key] = certificate
    return certificate


def certificates_from_key_info(key_info: etree._Element | None,
                               ids: Mapping[str, etree._Element]) -> list[x509.Certificate]:
    """The certificates carried by KeyInfo, signer first. Never fetched from elsewhere."""
    if key_info is None:
        raise SignatureRefused(RefusalReason.MALFORMED, "ds:Signature has no ds:KeyInfo: no signer certificate")
    certificates: list[x509.Certificate] = []
    for data in key_info.findall(f"{DS}X509Data"):
        for cert_el in data.findall(f"{DS}X509Certificate"):
            certificates.append(_load_cached(cert_el.text, "ds:X509Certificate"))
    for str_el in key_info.findall(f"{WSSE}SecurityTokenReference"):
        for key_id in str_el.findall(f"{WSSE}KeyIdentifier"):
            if key_id.get("ValueType") != alg.X509V3_VALUE_TYPE:
                raise SignatureRefused(RefusalReason.MALFORMED,
                                       f"wsse:KeyIdentifier ValueType {key_id.get('ValueType')} is not "
                                       "X509v3: the certificate is not carried")
            certificates.append(_load_cached(key_id.text, "wsse:KeyIdentifier"))
        for ref in str_el.findall(f"{WSSE}Reference"):
            uri = ref.get("URI") or ""
            token = ids.get(uri[1:]) if uri.startswith("#") else None
            if token is None or token.tag != f"{WSSE}BinarySecurityToken":
                raise SignatureRefused(RefusalReason.MALFORMED,
                                       f"wsse:Reference {uri!r} points to no wsse:BinarySecurityToken")
            certificates.append(_load_cached(token.text, f"wsse:BinarySecurityToken {uri}"))
    if not certificates:
        raise SignatureRefused(RefusalReason.MALFORMED,
                               "ds:KeyInfo carries no certificate (X509Data/X509Certificate, "
                               "wsse:KeyIdentifier X509v3 or a BinarySecurityToken are accepted)")
    return certificates
