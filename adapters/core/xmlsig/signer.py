"""The one signing service: WS-Security envelopes and enveloped XML-DSig documents."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import uuid
from dataclasses import dataclass

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
from adapters.core.xmlsig.wsse import WSU_ID, add_timestamp, ensure_id, ensure_security, format_time, soap_ns

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


def declare_wsu(root: etree._Element) -> etree._Element:
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


_DS_REFERENCE = f"{{{alg.DS_NS}}}Reference"
_DS_DIGEST_VALUE = f"{{{alg.DS_NS}}}DigestValue"
_WSU_TIMESTAMP = f"{{{alg.WSU_NS}}}Timestamp"


@dataclass(frozen=True)
class _HeaderPrototype:
    """The Timestamp and the ds:Signature (SignedInfo for Body + Timestamp, KeyInfo) of the
    gateway profile, built once by the very functions of the general path (``add_timestamp``,
    ``new_signature``, ``key_identifier_key_info``) with placeholder values.

    Each envelope gets copies with its own Id, times, URIs and digests filled in: the same
    elements, a fifth of the Python calls (tests/test_xmlsig_prototype.py compares the bytes).
    """

    timestamp: etree._Element
    signature: etree._Element

    @classmethod
    def build(cls, config: SignatureConfig, backend: SignerBackend) -> _HeaderPrototype:
        holder = etree.Element(f"{{{alg.WSSE_NS}}}Security", nsmap={"wsse": alg.WSSE_NS, "wsu": alg.WSU_NS})
        timestamp = add_timestamp(holder, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), config.timestamp_ttl)
        c14n = (Transform(config.canonicalization),)
        signature = new_signature(config, backend, [("#body", c14n, b""), ("#timestamp", c14n, b"")])
        signature.append(key_identifier_key_info(backend.certificate))
        return cls(copy.deepcopy(timestamp), signature)

    def new_timestamp(self, now: dt.datetime, ttl: float, timestamp_id: str) -> etree._Element:
        """What ``add_timestamp`` creates (without inserting it)."""
        timestamp = self.timestamp.__copy__()
        timestamp.set(WSU_ID, timestamp_id)
        timestamp[0].text = format_time(now)
        timestamp[1].text = format_time(now + dt.timedelta(seconds=ttl))
        return timestamp

    def new_signature(self, references: list[tuple[str, bytes]]) -> etree._Element:
        """What ``new_signature`` + the KeyInfo create, for the (URI, digest) of Body and Timestamp."""
        signature = self.signature.__copy__()
        for ref, (uri, digest_value) in zip(signature[0].iterchildren(_DS_REFERENCE), references, strict=True):
            ref.set("URI", uri)
            ref.find(_DS_DIGEST_VALUE).text = base64.b64encode(digest_value).decode()
        return signature


class SigningService:
    """Signs with one key, loaded once. Thread-safe: it keeps no per-call state."""

    def __init__(self, key: KeyMaterial | SignerBackend, config: SignatureConfig = DEFAULT_CONFIG,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self._backend: SignerBackend = backend_for(key, config) if isinstance(key, KeyMaterial) else key
        self._config = config
        self._clock = clock
        self._prototype = (_HeaderPrototype.build(config, self._backend)
                           if config.sign_timestamp and config.token_reference == "key-identifier" else None)

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
        root = declare_wsu(root)
        body = root.find(f"{{{ns}}}Body")
        if body is None:
            raise ValidationError("envelope", "has no soap:Body to sign")
        security = ensure_security(root)
        for old in security.findall(_DS_SIGNATURE) + security.findall(_BST):
            security.remove(old)
        body_id = ensure_id(body, "id")
        c14n = (Transform(self._config.canonicalization),)
        if self._prototype is not None:
            return self._sign_with_prototype(root, security, body, body_id, c14n, self._prototype)
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

    def _sign_with_prototype(self, root: etree._Element, security: etree._Element, body: etree._Element,
                             body_id: str, c14n: tuple[Transform, ...], prototype: _HeaderPrototype) -> bytes:
        """The general path's steps, in its order, on copies of the prototype."""
        for old in security.findall(_WSU_TIMESTAMP):
            security.remove(old)
        timestamp = prototype.new_timestamp(self._clock.now(), self._config.timestamp_ttl, f"TS-{uuid.uuid4()}")
        security.insert(0, timestamp)
        references = [
            (uri, digest(self._config.digest_algorithm, _octets("envelope", target, c14n, whole_document=False)))
            for uri, target in ((f"#{body_id}", body), (f"#{timestamp.get(WSU_ID)}", timestamp))]
        signature = prototype.new_signature(references)
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
