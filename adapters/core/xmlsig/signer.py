"""The one signing service: WS-Security envelopes and enveloped XML-DSig documents."""

from __future__ import annotations

import copy

from lxml import etree

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import SignatureRefused, ValidationError
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import algorithms as alg
from adapters.core.xmlsig.backends import SignerBackend, backend_for, digest
from adapters.core.xmlsig.config import DEFAULT_CONFIG, SignatureConfig
from adapters.core.xmlsig.keyinfo import binary_security_token, key_identifier_key_info, x509_data_key_info
from adapters.core.xmlsig.references import Transform, index_ids, reference_octets
from adapters.core.xmlsig.signature import new_signature, seal
from adapters.core.xmlsig.wsse import add_timestamp, ensure_id, ensure_security, soap_ns

_DS_SIGNATURE = f"{{{alg.DS_NS}}}Signature"
_BST = f"{{{alg.WSSE_NS}}}BinarySecurityToken"


def _own_copy(document: bytes | etree._Element, what: str) -> etree._Element:
    """A tree we may change: parsed from bytes, or a deep copy of the caller's element."""
    if isinstance(document, bytes | str):
        return parse_xml(document, allow_huge=True, what=what)
    return copy.deepcopy(document)


def _octets(what: str, target: etree._Element, transforms: tuple[Transform, ...], *,
            whole_document: bool) -> bytes:
    """The octets to digest; content that cannot be canonicalized is the caller's input error."""
    try:
        return reference_octets(target, transforms, whole_document=whole_document, signature=None)
    except SignatureRefused as exc:
        raise ValidationError(what, exc.detail) from exc


def _serialize(root: etree._Element) -> bytes:
    result: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return result


def _declare_wsu(root: etree._Element) -> etree._Element:
    """Declare ``xmlns:wsu`` on the envelope so that ``wsu:Id`` gets its usual prefix (not ``ns0``).

    lxml cannot add a declaration to an existing element. Moving the children under a rebuilt
    root is NOT an option: lxml then reconciles the moved nodes' namespaces by URI, which can
    rebind prefixes (``xmlns="urn:x"`` becoming ``b:`` of another declaration of ``urn:x``) and even
    serialize two attributes with the same name (found by the differential drill). So the
    declaration is added to the root's start tag in the serialized form, and that is re-parsed.
    """
    if alg.WSU_NS in root.nsmap.values() or "wsu" in root.nsmap:
        return root
    serialized: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False, with_tail=False)
    start = b"<" + _qualified_name(root).encode("utf-8")
    assert serialized.startswith(start)
    declared = start + f' xmlns:wsu="{alg.WSU_NS}"'.encode() + serialized[len(start):]
    return parse_xml(declared, allow_huge=True, what="envelope to sign")


def _qualified_name(element: etree._Element) -> str:
    prefix = element.prefix
    local = etree.QName(element).localname
    return f"{prefix}:{local}" if prefix else local


class SigningService:
    """Signs with one key, loaded once. Thread-safe: it keeps no per-call state."""

    def __init__(self, key: KeyMaterial | SignerBackend, config: SignatureConfig = DEFAULT_CONFIG,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self._backend: SignerBackend = backend_for(key, config) if isinstance(key, KeyMaterial) else key
        self._config = config
        self._clock = clock

    @property
    def backend(self) -> SignerBackend:
        return self._backend

    @property
    def config(self) -> SignatureConfig:
        return self._config

    def sign_envelope(self, envelope: bytes | etree._Element) -> bytes:
        """Sign a SOAP envelope in the gateway's WS-Security profile; returns the serialized envelope."""
        root = _own_copy(envelope, "envelope to sign")
        ns = soap_ns(root)
        root = _declare_wsu(root)
        body = root.find(f"{{{ns}}}Body")
        if body is None:
            raise ValidationError("envelope", "has no soap:Body to sign")
        security = ensure_security(root)
        for old in security.findall(_DS_SIGNATURE) + security.findall(_BST):
            security.remove(old)
        body_id = ensure_id(body, "id")
        c14n = (Transform(self._config.canonicalization),)
        targets: list[tuple[str, etree._Element]] = [(f"#{body_id}", body)]
        timestamp = add_timestamp(security, self._clock.now(), self._config.timestamp_ttl)
        if self._config.sign_timestamp:
            targets.append((f"#{timestamp.get(f'{{{alg.WSU_NS}}}Id')}", timestamp))
        references = [
            (uri, c14n, digest(self._config.digest_algorithm,
                               _octets("envelope", target, c14n, whole_document=False)))
            for uri, target in targets]
        signature = new_signature(self._config, self._backend, references)
        if self._config.token_reference == "binary-security-token":
            token, key_info = binary_security_token(self._backend.certificate)
            security.append(token)
        else:
            key_info = key_identifier_key_info(self._backend.certificate)
        signature.append(key_info)
        security.append(signature)
        seal(signature, self._backend, self._config)
        return _serialize(root)

    def sign_document(self, document: bytes | etree._Element, *, reference_uri: str = "") -> bytes:
        """Enveloped XML-DSig over the whole document (``""``) or the element ``#id``.

        The signature (the certificate and its intermediates in ``ds:X509Data``) becomes the
        root's last child.
        """
        root = _own_copy(document, "document to sign")
        if reference_uri == "":
            target = root
        elif reference_uri.startswith("#"):
            found = index_ids(root).get(reference_uri[1:])
            if found is None:
                raise ValidationError("reference_uri", "no element carries this Id", value=reference_uri)
            target = found
        else:
            raise ValidationError("reference_uri", "must be '' or '#id'", value=reference_uri)
        transforms = (Transform(alg.ENVELOPED), Transform(self._config.canonicalization))
        octets = _octets("document", target, transforms, whole_document=reference_uri == "")
        signature = new_signature(self._config, self._backend,
                                  [(reference_uri, transforms, digest(self._config.digest_algorithm, octets))])
        # the signer first, then the intermediates that came with the key (roots are left out:
        # a relying party must have its own copy of the root anyway)
        intermediates = tuple(c for c in self._backend.chain if c.issuer != c.subject)
        signature.append(x509_data_key_info((self._backend.certificate, *intermediates)))
        root.append(signature)
        seal(signature, self._backend, self._config)
        return _serialize(root)
