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
        if not element.keys():  # most elements carry no attribute at all: skip the four lookups
            continue
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


XML_NS = "http://www.w3.org/XML/1998/namespace"


def _inherited_xml_attributes(element: etree._Element) -> dict[str, str]:
    """``xml:*`` attributes of the ancestors (the nearest wins), as inclusive C14N 1.0 carries them over."""
    found: dict[str, str] = {}
    parent = element.getparent()
    while parent is not None:
        for name, value in parent.attrib.items():
            if str(name).startswith(f"{{{XML_NS}}}") and name not in found:
                found[str(name)] = str(value)
        parent = parent.getparent()
    return found


def _escape_attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def _inclusive_apex(node: etree._Element, context: etree._Element) -> etree._Element:
    """A standalone copy of ``node`` as inclusive C14N 1.0 sees a document subset rooted at it.

    Inclusive C14N puts every namespace in scope (used or not) and the ancestors' ``xml:*``
    attributes (``xml:lang``, ``xml:space``...) on the apex element. lxml's subtree
    canonicalization emits neither (found by the differential drill: SignedInfo under a root with
    unused prefixes or ``xml:lang``, signed with inclusive c14n by xmlsec). lxml cannot add a
    namespace declaration to an element, so they are added to the serialized start tag of a copy.
    """
    serialized: bytes = etree.tostring(node, encoding="UTF-8", xml_declaration=False, with_tail=False)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    apex = etree.fromstring(serialized, parser)
    missing = {prefix: uri for prefix, uri in context.nsmap.items() if prefix not in apex.nsmap}
    if missing:
        prefix = apex.prefix
        qname = f"{prefix}:{etree.QName(apex).localname}" if prefix else etree.QName(apex).localname
        start = b"<" + qname.encode("utf-8")
        if not serialized.startswith(start):
            raise SignatureRefused(RefusalReason.MALFORMED, f"<{qname}> cannot be canonicalized inclusively")
        declarations = "".join(f' xmlns:{p}="{_escape_attribute(u)}"' if p else f' xmlns="{_escape_attribute(u)}"'
                               for p, u in missing.items())
        apex = etree.fromstring(start + declarations.encode("utf-8") + serialized[len(start):], parser)
    for name, value in _inherited_xml_attributes(context).items():
        if name not in apex.attrib:
            apex.set(name, value)
    return apex


def canonicalize(node: etree._Element | etree._ElementTree, transform: Transform, *,
                 context: etree._Element | None = None) -> bytes:
    """Canonical octets of an element subtree (or of a whole document) by ``transform``.

    ``context`` is the in-document element whose ancestors count when ``node`` is a detached copy
    of it (inclusive c14n carries their namespaces and ``xml:*`` attributes, see :func:`_inclusive_apex`).
    """
    exclusive = transform.algorithm in (alg.EXC_C14N, alg.EXC_C14N_WITH_COMMENTS)
    comments = transform.algorithm in (alg.EXC_C14N_WITH_COMMENTS, alg.C14N_WITH_COMMENTS)
    if not exclusive and isinstance(node, etree._Element):
        source = context if context is not None else node
        if source.getparent() is not None:
            node = _inclusive_apex(node, source)
    try:
        result: bytes = etree.tostring(
            node, method="c14n", exclusive=exclusive, with_comments=comments,
            inclusive_ns_prefixes=list(transform.prefixes) if exclusive and transform.prefixes else None)
    except (etree.C14NError, etree.SerialisationError) as exc:
        # libxml2 refuses e.g. relative namespace URIs (xmlns:x="rel"), which C14N 1.0 forbids
        element = node.getroot() if isinstance(node, etree._ElementTree) else node
        raise SignatureRefused(
            RefusalReason.MALFORMED,
            f"<{etree.QName(element).localname}> cannot be canonicalized ({exc}; a relative namespace "
            "URI is the usual cause)") from exc
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
    return canonicalize(node, c14n, context=target)
