"""Tampering with signed documents and envelopes, each change labelled with the verdict it must get.

A change inside what the signature covers (the document minus its Signature; an envelope's Body
and Timestamp), or to SignedInfo/SignatureValue, must be refused. A change that leaves every
canonical form intact (attribute order, a comment, another encoding) or that touches only the
unsigned part (another header block, a ds:Object, whitespace between Signature children) must be
accepted.
"""

from __future__ import annotations

import base64
import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from lxml import etree

from adapters.core.xmlparse import NS

DS = f"{{{NS['ds']}}}"
WSSE = f"{{{NS['wsse']}}}"
WSU = f"{{{NS['wsu']}}}"

Kind = Literal["document", "envelope"]


@dataclass(frozen=True)
class Tampered:
    name: str
    data: bytes
    accept: bool
    """The verdict every correct verifier gives."""


def _parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))


def _serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))


def _signature(root: etree._Element, kind: Kind) -> etree._Element:
    if kind == "document":
        found = [c for c in root if c.tag == f"{DS}Signature"]
    else:
        found = root.findall(f"./*/{WSSE}Security/{DS}Signature")
    assert len(found) == 1
    return found[0]


def _signed_elements(root: etree._Element, kind: Kind) -> list[etree._Element]:
    """Elements whose content the signature covers (never inside ds:Signature)."""
    signature = _signature(root, kind)
    if kind == "document":
        inside = set(signature.iter())
        return [e for e in root.iter(etree.Element) if e not in inside]
    body = next(c for c in root if etree.QName(c).localname == "Body")
    timestamp = root.find(f"./*/{WSSE}Security/{WSU}Timestamp")
    covered = list(body.iter(etree.Element))
    if timestamp is not None:
        covered += list(timestamp.iter(etree.Element))
    return covered


def _flip_base64(text: str | None, rng: random.Random) -> str:
    raw = bytearray(base64.b64decode("".join((text or "").split())))
    raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
    return base64.b64encode(bytes(raw)).decode()


Mutation = Callable[[etree._Element, Kind, random.Random], bool | None]
"""Changes the tree in place; returns the expected verdict (True: accept), or None when not applicable."""


def _change_text(root: etree._Element, kind: Kind, rng: random.Random) -> bool | None:
    element = rng.choice(_signed_elements(root, kind))
    element.text = (element.text or "") + rng.choice(("X", " ", "ә", "0"))
    return False


def _change_attribute(root: etree._Element, kind: Kind, rng: random.Random) -> bool | None:
    element = rng.choice(_signed_elements(root, kind))
    names = list(element.attrib)
    if names and rng.random() < 0.7:
        name = rng.choice(names)
        element.set(name, element.get(name, "") + "1")
    else:
        element.set(rng.choice(("tampered", "{urn:tamper}x", "Amount")), "1")
    return False


def _add_element(root: etree._Element, kind: Kind, rng: random.Random) -> bool | None:
    element = rng.choice(_signed_elements(root, kind))
    added = etree.Element(rng.choice(("{urn:tamper}Injected", "Injected")))
    element.insert(rng.randint(0, len(element)), added)
    return False


def _remove_element(root: etree._Element, kind: Kind, rng: random.Random) -> bool | None:
    candidates = [e for e in _signed_elements(root, kind) if e.getparent() is not None
                  and e.getparent() in set(_signed_elements(root, kind))]
    if not candidates:
        return None
    element = rng.choice(candidates)
    parent = element.getparent()
    assert parent is not None
    parent.remove(element)  # with its tail: the text after it changes too, still a change
    return False


def _change_signature_value(root: etree._Element, kind: Kind, rng: random.Random) -> bool | None:
    value = _signature(root, kind).find(f"{DS}SignatureValue")
    assert value is not None
    value.text = _flip_base64(value.text, rng)
    return False


def _change_digest_value(root: etree._Element, kind: Kind, rng: random.Random) -> bool | None:
    digests = _signature(root, kind).findall(f"{DS}SignedInfo/{DS}Reference/{DS}DigestValue")
    element = rng.choice(digests)
    element.text = _flip_base64(element.text, rng)
    return False


def _whitespace_in_signed_info(root: etree._Element, kind: Kind, rng: random.Random) -> bool | None:
    signed_info = _signature(root, kind).find(f"{DS}SignedInfo")
    assert signed_info is not None
    child = rng.choice(list(signed_info))
    child.tail = (child.tail or "") + rng.choice(("\n", " ", "\t"))
    return False


def _reorder_attributes(root: etree._Element, kind: Kind, rng: random.Random) -> bool | None:
    # only unqualified attributes: re-setting a qualified one may pick another prefix bound to the
    # same namespace, which is a real change of the canonical form
    candidates = [e for e in _signed_elements(root, kind)
                  if len(e.attrib) >= 2 and not any(str(n).startswith("{") for n in e.attrib)]
    if not candidates:
        return None
    element = rng.choice(candidates)
    items = list(element.attrib.items())
    element.attrib.clear()
    for name, value in reversed(items):
        element.set(name, value)
    return True


def _add_comment(root: etree._Element, kind: Kind, rng: random.Random) -> bool | None:
    element = rng.choice(_signed_elements(root, kind))
    element.insert(rng.randint(0, len(element)), etree.Comment(" added later "))
    return True


def _unsigned_change(root: etree._Element, kind: Kind, rng: random.Random) -> bool | None:
    signature = _signature(root, kind)
    if kind == "envelope" and rng.random() < 0.6:
        security = signature.getparent()
        assert security is not None
        header = security.getparent()
        assert header is not None
        extra = etree.Element("{urn:unsigned}Note")
        extra.text = "не подписано"
        header.insert(rng.randint(0, len(header)), extra)
        return True
    if rng.random() < 0.5:
        obj = etree.SubElement(signature, f"{DS}Object")
        obj.text = "unsigned"
        return True
    value = signature.find(f"{DS}SignatureValue")
    assert value is not None
    value.tail = (value.tail or "") + "\n  "
    return True


MUTATIONS: dict[str, Mutation] = {
    "change-text": _change_text,
    "change-attribute": _change_attribute,
    "add-element": _add_element,
    "remove-element": _remove_element,
    "change-signature-value": _change_signature_value,
    "change-digest-value": _change_digest_value,
    "whitespace-in-signed-info": _whitespace_in_signed_info,
    "reorder-attributes": _reorder_attributes,
    "add-comment": _add_comment,
    "unsigned-change": _unsigned_change,
}


def tamper(signed: bytes, kind: Kind, name: str, rng: random.Random) -> Tampered | None:
    """One named change applied to a copy of ``signed``; None when it does not apply to this input."""
    root = copy.deepcopy(_parse(signed))
    verdict = MUTATIONS[name](root, kind, rng)
    if verdict is None:
        return None
    return Tampered(name, _serialize(root), verdict)


def reencoded(signed: bytes, rng: random.Random) -> Tampered:
    """The same document in another encoding: UTF-16, or windows-1251 / ISO-8859-1 where every name fits
    (libxml2 writes unencodable characters as character references, which are not allowed in names)."""
    root = _parse(signed)
    for encoding in (rng.choice(("windows-1251", "ISO-8859-1", "UTF-16")), "UTF-16"):
        data = bytes(etree.tostring(root, encoding=encoding, xml_declaration=True))
        try:
            _parse(data)
        except etree.XMLSyntaxError:
            continue
        return Tampered(f"re-encoded-{encoding}", data, True)
    raise AssertionError("UTF-16 holds every character")


def tampered_variants(signed: bytes, kind: Kind, rng: random.Random, count: int) -> list[Tampered]:
    """``count`` random changes (plus one re-encoding), each on its own copy."""
    out = [reencoded(signed, rng)]
    names = list(MUTATIONS)
    while len(out) < count + 1:
        made = tamper(signed, kind, rng.choice(names), rng)
        if made is not None:
            out.append(made)
    return out
