"""Id resolution and Reference processing (transforms, canonicalization) shared by signer and verifier.

Only same-document references are ever resolved: ``""`` (the whole document) or ``#id``. An Id is
any of ``wsu:Id``, ``Id``, ``ID`` or ``id``; a value that appears twice anywhere is refused as
signature wrapping, because a verifier and an application could then look at different elements.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from adapters.core.errors import RefusalReason, SignatureRefused
from adapters.core.xmlsig import algorithms as alg

ID_ATTRIBUTES: tuple[str, ...] = (f"{{{alg.WSU_NS}}}Id", "Id", "ID", "id")


@dataclass(frozen=True)
class Transform:
    """One ds:Transform (or the CanonicalizationMethod): its algorithm and any InclusiveNamespaces prefixes."""

    algorithm: str
    prefixes: tuple[str, ...] = ()


def element_id(element: etree._Element) -> str | None:
    for name in ID_ATTRIBUTES:
        value = element.get(name)
        if value is not None:
            return str(value)
    return None


def index_ids(root: etree._Element) -> dict[str, etree._Element]:
    """Every Id value in the document mapped to its element; a duplicate value is WRAPPING."""
    found: dict[str, etree._Element] = {}
    for element in root.iter(etree.Element):
        for name in ID_ATTRIBUTES:
            value = element.get(name)
            if value is None:
                continue
            if value in found and found[value] is not element:
                raise SignatureRefused(
                    RefusalReason.WRAPPING,
                    f"duplicate Id {value!r} on <{etree.QName(found[value]).localname}> and "
                    f"<{etree.QName(element).localname}>", id=value)
            found[value] = element
    return found


def canonicalize(node: etree._Element | etree._ElementTree, transform: Transform) -> bytes:
    """Canonical octets of an element subtree (or of a whole document) by ``transform``."""
    exclusive = transform.algorithm in (alg.EXC_C14N, alg.EXC_C14N_WITH_COMMENTS)
    comments = transform.algorithm in (alg.EXC_C14N_WITH_COMMENTS, alg.C14N_WITH_COMMENTS)
    result: bytes = etree.tostring(
        node, method="c14n", exclusive=exclusive, with_comments=comments,
        inclusive_ns_prefixes=list(transform.prefixes) if exclusive and transform.prefixes else None)
    return result


def _path(ancestor: etree._Element, descendant: etree._Element) -> list[int] | None:
    steps: list[int] = []
    node: etree._Element | None = descendant
    while node is not None and node is not ancestor:
        parent = node.getparent()
        if parent is None:
            return None
        steps.append(parent.index(node))
        node = parent
    return None if node is None else list(reversed(steps))


def _remove_keeping_tail(element: etree._Element) -> None:
    """Remove an element but not the text after it (the enveloped-signature transform removes the node only)."""
    parent = element.getparent()
    assert parent is not None
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _with_top_level_pis(root_copy: etree._Element, original_root: etree._Element) -> etree._ElementTree:
    """The copy as a document, with the original's processing instructions around the root."""
    for sibling in original_root.itersiblings(preceding=True):
        if isinstance(sibling, etree._ProcessingInstruction):
            root_copy.addprevious(copy.copy(sibling))
    for sibling in reversed(list(original_root.itersiblings())):
        if isinstance(sibling, etree._ProcessingInstruction):
            root_copy.addnext(copy.copy(sibling))
    return root_copy.getroottree()


def reference_octets(target: etree._Element, transforms: Sequence[Transform], *, whole_document: bool,
                     signature: etree._Element | None) -> bytes:
    """Apply a Reference's transforms to ``target`` and return the octets to digest.

    Accepted chains: an optional enveloped-signature transform followed by at most one
    canonicalization (inclusive c14n when none is given, as XML-DSig prescribes for node-sets).
    """
    names = [t.algorithm for t in transforms]
    enveloped = bool(names) and names[0] == alg.ENVELOPED
    rest = list(transforms[1:] if enveloped else transforms)
    if len(rest) > 1 or any(t.algorithm not in alg.CANONICALIZATIONS for t in rest):
        raise ValueError(f"unsupported transform chain {names}")
    c14n = rest[0] if rest else Transform(alg.C14N)
    node: etree._Element | etree._ElementTree
    path = _path(target, signature) if (enveloped and signature is not None) else None
    if path is not None:
        root_copy = copy.deepcopy(target)
        inner = root_copy
        for step in path:
            inner = inner[step]
        if inner is root_copy:
            raise ValueError("the enveloped-signature transform would remove the whole referenced element")
        _remove_keeping_tail(inner)
        node = _with_top_level_pis(root_copy, target) if whole_document else root_copy
    else:
        node = target.getroottree() if whole_document else target
    return canonicalize(node, c14n)
