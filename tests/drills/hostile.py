"""Hostile snippets and byte-level mutations for the fuzz drill (tests/drills/test_fuzz.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from adapters.core.xmlparse import NS
from adapters.core.xmlsig import algorithms as alg

DEEP = b"<d>" * 300 + b"x" + b"</d>" * 300
"""Deeper than libxml2's default limit (256) without huge_tree."""

MANY_ATTRIBUTES = b"<m " + b" ".join(b'a%d="x"' % i for i in range(5000)) + b"/>"

SNIPPETS: tuple[bytes, ...] = (
    b'<!DOCTYPE x [<!ENTITY e "boom">]>',
    b'<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">',
    b'<!ENTITY e SYSTEM "file:///etc/passwd">',
    b'<!ENTITY % p SYSTEM "http://127.0.0.1:9/p">%p;',
    b"&e;",
    b"&#0;",
    b"&#x110000;",
    b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>',
    b'<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:9/x.xsl"?>',
    b"<!-- comment -->",
    b"<![CDATA[ <not> a tag ]]>",
    b"]]>",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"<a xmlns:p='rel'><p:b/></a>",
    b'<x xmlns="relative/uri"/>',
    b'<y xml:lang="kk" xml:space="preserve"/>',
    b'<z Id="dup"/><z Id="dup"/>',
    DEEP,
    MANY_ATTRIBUTES,
    b'<wsu:Timestamp xmlns:wsu="' + alg.WSU_NS.encode() + b'" wsu:Id="TS-x"><wsu:Created>0001-01-01T00:00:00+05:00'
    b"</wsu:Created></wsu:Timestamp>",
    b'<ds:Signature xmlns:ds="' + alg.DS_NS.encode() + b'"/>',
    b'<soap:Body xmlns:soap="' + alg.SOAP11_NS.encode() + b'"/>',
    b'<wsse:Security xmlns:wsse="' + alg.WSSE_NS.encode() + b'"/>',
)

NAMESPACE_SWAPS: tuple[tuple[bytes, bytes], ...] = (
    (alg.SOAP11_NS.encode(), alg.SOAP12_NS.encode()),
    (alg.SOAP11_NS.encode(), b"urn:evil:soap"),
    (alg.DS_NS.encode(), b"http://www.w3.org/2009/xmldsig11#"),
    (alg.WSSE_NS.encode(), b"http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"),
    (alg.WSU_NS.encode(), b"urn:evil:wsu"),
    (alg.EXC_C14N.encode(), alg.EXC_C14N_WITH_COMMENTS.encode()),
    (alg.SHA256.encode(), alg.SHA1.encode()),
    (alg.RSA_SHA256.encode(), alg.RSA_SHA1.encode()),
    (alg.RSA_SHA256.encode(), alg.ECDSA_SHA256.encode()),
    (b'URI="#', b'URI="http://127.0.0.1:9/#'),
    (b'URI=""', b'URI="#xpointer(/)"'),
)


@dataclass(frozen=True)
class Corpus:
    """A valid signed input and what must hold if a mutated copy is accepted."""

    kind: str
    data: bytes
    signed_c14n: bytes
    """Exclusive c14n of the signed content (envelopes: the Body; documents: the root without its Signature)."""
    sections: tuple[bytes, ...]
    """Serialized Signature / Body / Security elements, to paste in again (duplicates, wrapping)."""


def sections_of(data: bytes) -> tuple[bytes, ...]:
    """The Signature, Body, Security and Timestamp elements of ``data``, serialized standalone."""
    root = etree.fromstring(data)
    wanted = (f"{{{NS['ds']}}}Signature", f"{{{NS['soap']}}}Body", f"{{{NS['wsse']}}}Security",
              f"{{{NS['wsu']}}}Timestamp")
    return tuple(bytes(etree.tostring(e, encoding="UTF-8", with_tail=False)) for tag in wanted for e in root.iter(tag))


_TAG_END = re.compile(rb">")


def tag_boundaries(data: bytes) -> list[int]:
    """Offsets right after a '>' (inserting there keeps the document well-formed more often)."""
    return [m.end() for m in _TAG_END.finditer(data)]


class CorpusSet:
    """The corpus as a fixture value: hypothesis prints the arguments of a failing example, keep that short."""

    def __init__(self, items: list[Corpus]) -> None:
        self._items = items

    def __getitem__(self, index: int) -> Corpus:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Corpus]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"CorpusSet({len(self._items)} signed inputs)"
