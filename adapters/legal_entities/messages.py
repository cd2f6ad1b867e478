"""The Legal Entities register's request document (``schemas/gbdul/gbdul.xsd``), built with lxml.

The document travels signed (enveloped XML-DSig) inside the gateway's ``SendMessage`` data; it has
no WSDL of its own. Contract: the elements in the GBD UL namespace, in schema order; the request
is ``Request`` (by BIN) or ``IinRequest`` (by IIN). ``tests/adapters/legal_entities/test_messages.py``
checks it against the schema.
"""

from __future__ import annotations

from lxml import etree

GBDUL_NS = "http://schemas.egov-adapters.kz/gbdul/v2"
SERVICE_ID_BY_BIN = "GbdulInfoByBin_v2"
SERVICE_ID_BY_IIN = "GbdulInfoByIin_v2"


def q(name: str) -> str:
    """Clark name in the GBD UL namespace."""
    return f"{{{GBDUL_NS}}}{name}"


def lookup_request(requestor_bin: str, number: str, *, by: str = "BIN") -> etree._Element:
    """``Request`` (by BIN) or ``IinRequest`` (by IIN), unsigned."""
    root = etree.Element(q("Request" if by == "BIN" else "IinRequest"), nsmap={None: GBDUL_NS})
    etree.SubElement(root, q("RequestorBIN")).text = requestor_bin
    etree.SubElement(root, q(by)).text = number
    return root
