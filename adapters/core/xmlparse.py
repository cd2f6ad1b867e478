"""Hardened parsing for every inbound XML document.

No DTD (a DOCTYPE is refused outright, so no entity can be declared, let alone expanded), no
network, no XInclude, comments and processing instructions kept out of the tree, a byte limit,
and libxml2's text-node limit (10 MB) lifted only where attachments are expected
(``allow_huge=True``). Anything refused raises :class:`UnsafeXmlError`; anything broken raises
:class:`MalformedXmlError`; both name the reason.

No inbound document, of any size, shape or encoding, makes the parser open a file or a URL: the
DOCTYPE is looked for in the whole document (not only its head), and every parser carries a
resolver that refuses every external resource libxml2 asks for (a DOCTYPE in UTF-16, say, that no
byte scan sees). A refusal never names the resource, so an attacker learns nothing about the file
system.
"""

from __future__ import annotations

import re

from lxml import etree

from adapters.core.errors import MalformedXmlError, UnsafeXmlError

NS = {
    "soap": "http://schemas.xmlsoap.org/soap/envelope/",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "ec": "http://www.w3.org/2001/10/xml-exc-c14n#",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
"""Ordinary messages: a signed envelope with a business document is a few KB."""

HUGE_MAX_BYTES = 48 * 1024 * 1024
"""Messages carrying attachments: 30 MB of files in base64 (40 MB) plus the envelope."""

_DOCTYPE = re.compile(rb"<!(?i:doctype)")
_ENTITY = re.compile(rb"<!(?i:entity)")


class ExternalResourceRefused(Exception):
    """Raised by :class:`_RefuseExternal` inside libxml2's loader; never leaves this module."""


class _RefuseExternal(etree.Resolver):  # type: ignore[misc]  # lxml ships no stubs here
    """Refuses every external resource (DTD, entity, XInclude) before libxml2 opens it."""

    def resolve(self, system_url: str | None, public_id: str | None, context: object) -> None:
        raise ExternalResourceRefused("external resource refused")


_REFUSE_EXTERNAL = _RefuseExternal()


def _parser(allow_huge: bool) -> etree.XMLParser:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=allow_huge,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    parser.resolvers.add(_REFUSE_EXTERNAL)
    return parser


# Parsers are not thread-safe to share across threads while parsing, but lxml keeps a
# per-thread parser context; building one per call costs microseconds and keeps this simple.


def parse_xml(data: bytes | str, *, allow_huge: bool = False, max_bytes: int | None = None,
              what: str = "document") -> etree._Element:
    """Parse untrusted XML and return its root element.

    ``what`` names the input in error messages ("request", "response", "licence"...).
    """
    try:
        raw = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError as exc:  # lone surrogates in a str cannot be XML
        raise MalformedXmlError(f"{what}: text is not encodable as UTF-8 ({exc.reason})",
                                reason="encoding") from exc
    limit = max_bytes if max_bytes is not None else (HUGE_MAX_BYTES if allow_huge else DEFAULT_MAX_BYTES)
    if len(raw) > limit:
        raise UnsafeXmlError(f"{what}: {len(raw)} bytes is over the limit of {limit} bytes",
                             reason="size-limit", size=len(raw), limit=limit)
    if not raw.strip():
        raise MalformedXmlError(f"{what}: empty document", reason="empty")
    if _DOCTYPE.search(raw) or _ENTITY.search(raw):
        raise UnsafeXmlError(f"{what}: DTDs and entity declarations are not accepted", reason="dtd")
    try:
        root = etree.fromstring(raw, parser=_parser(allow_huge))
    except ExternalResourceRefused:
        raise UnsafeXmlError(f"{what}: DTDs and external resources are not accepted", reason="dtd") from None
    except etree.XMLSyntaxError as exc:
        msg = str(exc)
        if "huge" in msg.lower() or "too large" in msg.lower():
            raise UnsafeXmlError(f"{what}: a text node is over the parser's limit ({msg})",
                                 reason="huge-text") from exc
        raise MalformedXmlError(f"{what}: not well-formed XML ({msg})", reason="syntax") from exc
    if root.getroottree().docinfo.doctype:
        raise UnsafeXmlError(f"{what}: DTDs are not accepted", reason="dtd")
    return root
