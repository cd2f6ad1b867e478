"""The ds:Signature element: building it when signing, reading it (strictly) when verifying."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from adapters.core.errors import RefusalReason, SignatureRefused
from adapters.core.xmlsig import algorithms as alg
from adapters.core.xmlsig.backends import SignerBackend, known_digest, known_signature
from adapters.core.xmlsig.config import SignatureConfig
from adapters.core.xmlsig.references import Transform, canonicalize

DS = f"{{{alg.DS_NS}}}"
MAX_REFERENCES = 16
"""Each Reference costs a canonicalization (and a copy for enveloped ones): bound the work per message."""


def ds(name: str) -> str:
    return f"{DS}{name}"


@dataclass(frozen=True)
class ParsedReference:
    index: int
    uri: str
    transforms: tuple[Transform, ...]
    digest_method: str
    digest_value: bytes

    @property
    def label(self) -> str:
        """How a refusal names this reference: ``reference 0 (#id-…)``."""
        return f"reference {self.index} ({self.uri or 'whole document'})"


@dataclass(frozen=True)
class ParsedSignature:
    element: etree._Element
    signed_info: etree._Element
    canonicalization: Transform
    signature_method: str
    references: tuple[ParsedReference, ...]
    value: bytes
    key_info: etree._Element | None


# --------------------------------------------------------------------------- building

def _transform_element(parent: etree._Element, tag: str, transform: Transform) -> etree._Element:
    el = etree.SubElement(parent, ds(tag), Algorithm=transform.algorithm)
    if transform.prefixes:
        etree.SubElement(el, f"{{{alg.EC_NS}}}InclusiveNamespaces", PrefixList=" ".join(transform.prefixes))
    return el


def new_signature(config: SignatureConfig, backend: SignerBackend,
                  references: Sequence[tuple[str, Sequence[Transform], bytes]]) -> etree._Element:
    """A ds:Signature with a complete SignedInfo and an empty SignatureValue (filled by :func:`seal`)."""
    signature = etree.Element(ds("Signature"), nsmap={"ds": alg.DS_NS})
    signed_info = etree.SubElement(signature, ds("SignedInfo"))
    _transform_element(signed_info, "CanonicalizationMethod", Transform(config.canonicalization))
    etree.SubElement(signed_info, ds("SignatureMethod"), Algorithm=backend.algorithm)
    for uri, transforms, digest_value in references:
        ref = etree.SubElement(signed_info, ds("Reference"), URI=uri)
        holder = etree.SubElement(ref, ds("Transforms"))
        for transform in transforms:
            _transform_element(holder, "Transform", transform)
        etree.SubElement(ref, ds("DigestMethod"), Algorithm=config.digest_algorithm)
        etree.SubElement(ref, ds("DigestValue")).text = base64.b64encode(digest_value).decode()
    etree.SubElement(signature, ds("SignatureValue"))
    return signature


def seal(signature: etree._Element, backend: SignerBackend, config: SignatureConfig) -> None:
    """Sign the canonical SignedInfo; call once the Signature sits at its final place in the document."""
    signed_info = signature.find(ds("SignedInfo"))
    value_el = signature.find(ds("SignatureValue"))
    assert signed_info is not None and value_el is not None
    octets = canonicalize(signed_info, Transform(config.canonicalization))
    value_el.text = base64.b64encode(backend.sign(octets)).decode()


# --------------------------------------------------------------------------- reading

def _malformed(detail: str) -> SignatureRefused:
    return SignatureRefused(RefusalReason.MALFORMED, detail)


def _b64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _malformed(f"{what} is not base64") from exc


def _children(parent: etree._Element) -> dict[object, list[etree._Element]]:
    """The parent's children by tag, in document order: one pass instead of a findall per name."""
    found: dict[object, list[etree._Element]] = {}
    for child in parent:
        found.setdefault(child.tag, []).append(child)
    return found


def _only(children: dict[object, list[etree._Element]], name: str, where: str) -> etree._Element:
    found = children.get(ds(name), [])
    if len(found) != 1:
        raise _malformed(f"{where} must hold exactly one ds:{name} (found {len(found)})")
    return found[0]


def _read_transform(el: etree._Element) -> Transform:
    algorithm = el.get("Algorithm")
    if not algorithm:
        raise _malformed(f"ds:{etree.QName(el).localname} without Algorithm")
    inclusive = el.find(f"{{{alg.EC_NS}}}InclusiveNamespaces")
    prefixes = tuple((inclusive.get("PrefixList") or "").split()) if inclusive is not None else ()
    return Transform(algorithm, prefixes)


def parse_signature(signature: etree._Element, config: SignatureConfig) -> ParsedSignature:
    """Read a ds:Signature, refusing MALFORMED structure and ALGORITHM outside ``config``."""
    in_signature = _children(signature)
    signed_info = _only(in_signature, "SignedInfo", "ds:Signature")
    in_signed_info = _children(signed_info)
    canon = _read_transform(_only(in_signed_info, "CanonicalizationMethod", "ds:SignedInfo"))
    if canon.algorithm not in alg.CANONICALIZATIONS:
        raise SignatureRefused(RefusalReason.ALGORITHM,
                               f"CanonicalizationMethod {canon.algorithm} is not supported")
    method = _only(in_signed_info, "SignatureMethod", "ds:SignedInfo").get("Algorithm") or ""
    if method not in config.accepted_signature_algorithms or not known_signature(method):
        raise SignatureRefused(RefusalReason.ALGORITHM,
                               f"SignatureMethod {method or '(none)'} is not accepted", algorithm=method)
    references: list[ParsedReference] = []
    found = in_signed_info.get(ds("Reference"), [])
    if len(found) > MAX_REFERENCES:
        raise _malformed(f"ds:SignedInfo holds {len(found)} references (at most {MAX_REFERENCES} accepted)")
    for index, ref in enumerate(found):
        uri = ref.get("URI")
        if uri is None or not (uri == "" or uri.startswith("#")):
            raise _malformed(f"reference {index} has URI {uri!r}: only same-document references "
                             "('' or '#id') are resolved")
        label = f"reference {index} ({uri or 'whole document'})"
        in_ref = _children(ref)
        holder = next(iter(in_ref.get(ds("Transforms"), [])), None)
        transforms = tuple(_read_transform(t) for t in holder.findall(ds("Transform"))) \
            if holder is not None else ()
        for position, transform in enumerate(transforms):
            allowed = alg.CANONICALIZATIONS | ({alg.ENVELOPED} if position == 0 else set())
            if transform.algorithm not in allowed:
                raise SignatureRefused(RefusalReason.ALGORITHM,
                                       f"{label}: transform {transform.algorithm} is not accepted here")
        if len(transforms) > 2 or (len(transforms) == 2 and transforms[0].algorithm != alg.ENVELOPED):
            raise SignatureRefused(RefusalReason.ALGORITHM,
                                   f"{label}: transform chain {[t.algorithm for t in transforms]} "
                                   "is not accepted")
        digest_method = _only(in_ref, "DigestMethod", label).get("Algorithm") or ""
        if digest_method not in config.accepted_digest_algorithms or not known_digest(digest_method):
            raise SignatureRefused(RefusalReason.ALGORITHM,
                                   f"{label}: DigestMethod {digest_method or '(none)'} is not accepted",
                                   algorithm=digest_method)
        digest_value = _b64(_only(in_ref, "DigestValue", label).text, f"{label} DigestValue")
        references.append(ParsedReference(index, uri, transforms, digest_method, digest_value))
    if not references:
        raise _malformed("ds:SignedInfo holds no ds:Reference")
    value = _b64(_only(in_signature, "SignatureValue", "ds:Signature").text, "ds:SignatureValue")
    if not value:
        raise _malformed("ds:SignatureValue is empty")
    key_infos = in_signature.get(ds("KeyInfo"), [])
    if len(key_infos) > 1:
        raise _malformed("ds:Signature holds more than one ds:KeyInfo")
    return ParsedSignature(signature, signed_info, canon, method, tuple(references), value,
                           key_infos[0] if key_infos else None)
