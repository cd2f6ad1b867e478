"""The gateway's requests, built with lxml: one function per operation, each returning the SOAP
envelope the signer takes.

Contract, for every builder:

- element names, order and namespaces are those of ``wsdl/shep/*.wsdl`` and ``schemas/shep/``:
  the operation's element in its interfaces namespace, every element under it unqualified
  (``elementFormDefault="unqualified"``);
- an optional field whose value is None is left out; a string is written as given (an empty
  string gives an empty element); ``xsd:dateTime`` as ``isoformat()`` with ``Z`` for UTC;
  ``xsd:int`` in decimal digits (a ``bool`` or a value outside ``xsd:int`` is a
  :class:`ValidationError`, as is text XML cannot hold, naming the field);
- the envelope declares ``wsu`` and holds an empty ``wsse:Security`` header, which the signer
  fills in place (it re-serialises an envelope that lacks them);
- the prefixes are the ones zeep writes (``soap-env``, ``ns0``): the request is what
  ``zeep.Client.create_message`` renders for the same values, byte for byte once the ``wsu``
  declaration and the header are added to zeep's rendering. The tests
  (``tests/adapters/egov_gateway/test_messages.py``) compare every builder with zeep, the WSDL's
  interpreter, that way and canonically (C14N);
- business data is appended as a copy. Data that holds comments, processing instructions or
  CDATA sections, or is over :data:`PLAIN_DATA_MAX_BYTES`, is appended as the hardened parser
  reads its serialisation (no comments, CDATA as text, the parser's limits), so that what is
  signed and sent is what the gateway reads.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from adapters.contracts import shep
from adapters.core.errors import ValidationError
from adapters.core.xmlparse import NS, parse_xml
from adapters.core.xmlsig.wsse import ensure_security

SYNC_INTERFACES_NS = shep.SYNC_NS
ASYNC_INTERFACES_NS = shep.ASYNC_NS

_SOAP = NS["soap"]
_Q_ENVELOPE = f"{{{_SOAP}}}Envelope"
_Q_BODY = f"{{{_SOAP}}}Body"
_ENVELOPE_NSMAP = {"wsu": NS["wsu"], "soap-env": _SOAP}

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

PLAIN_DATA_MAX_BYTES = 1024 * 1024
"""Larger business data goes through the hardened parser (and its size limit) before it is sent."""


@dataclass(frozen=True)
class Sender:
    """``common:SenderInfo``: the calling system as registered in the gateway."""

    sender_id: str
    password: str | None = None


# --------------------------------------------------------------------------- sync channel

def send_message(*, sender: Sender, message_id: str, service_id: str, message_date: dt.datetime,
                 correlation_id: str | None = None, route_id: str | None = None,
                 properties: Mapping[str, str | None] | None = None,
                 data: etree._Element | None = None) -> etree._Element:
    """``SyncChannel.SendMessage``: ``request/requestInfo`` (``SyncMessageInfo``) and ``requestData/data``."""
    envelope, request = _envelope(SYNC_INTERFACES_NS, "SendMessage")
    info = etree.SubElement(request, "requestInfo")
    _required(info, "messageId", message_id)
    _optional(info, "correlationId", correlation_id)
    _required(info, "serviceId", service_id)
    _required(info, "messageDate", xml_datetime(message_date))
    _optional(info, "routeId", route_id)
    _sender(info, sender)
    _properties(info, properties)
    _data(etree.SubElement(etree.SubElement(request, "requestData"), "data"), data)
    return envelope


# --------------------------------------------------------------------------- async channel

def send_async_message(*, sender: Sender, message_id: str, service_id: str, message_type: str,
                       message_date: dt.datetime, correlation_id: str | None = None, route_id: str | None = None,
                       properties: Mapping[str, str | None] | None = None,
                       data: etree._Element | None = None) -> etree._Element:
    """``AsyncChannel.sendMessage``: ``request/message`` with ``messageInfo`` (``AsyncMessageInfo``)
    and ``messageData/data``."""
    envelope, request = _envelope(ASYNC_INTERFACES_NS, "sendMessage")
    message = etree.SubElement(request, "message")
    info = etree.SubElement(message, "messageInfo")
    _required(info, "messageId", message_id)
    _optional(info, "correlationId", correlation_id)
    _required(info, "serviceId", service_id)
    _required(info, "messageType", message_type)
    _optional(info, "routeId", route_id)
    _required(info, "messageDate", xml_datetime(message_date))
    _sender(info, sender)
    _properties(info, properties)
    _data(etree.SubElement(etree.SubElement(message, "messageData"), "data"), data)
    return envelope


def get_messages(*, sender: Sender, service_id: str | None = None, message_type: str | None = None,
                 correlation_id: str | None = None, max_count: int | None = None) -> etree._Element:
    """``AsyncChannel.getMessages``: the sender and the optional filters."""
    envelope, request = _envelope(ASYNC_INTERFACES_NS, "getMessages")
    _sender(request, sender)
    _optional(request, "serviceId", service_id)
    _optional(request, "messageType", message_type)
    _optional(request, "correlationId", correlation_id)
    if max_count is not None:
        if type(max_count) is not int or not _INT_MIN <= max_count <= _INT_MAX:
            raise ValidationError("maxCount", "must be an xsd:int (a whole number, not a bool)", value=max_count)
        etree.SubElement(request, "maxCount").text = str(max_count)
    return envelope


MESSAGE_ID_OPERATIONS = ("getMessageStatus", "sendDeliveryNotification")
"""The async operations whose request is the sender and one messageId."""


def about_message(operation: str, *, sender: Sender, message_id: str) -> etree._Element:
    """``AsyncChannel.getMessageStatus`` or ``sendDeliveryNotification``: the sender and a messageId."""
    if operation not in MESSAGE_ID_OPERATIONS:
        raise ValidationError("operation", f"must be one of {', '.join(MESSAGE_ID_OPERATIONS)}", value=operation)
    envelope, request = _envelope(ASYNC_INTERFACES_NS, operation)
    _sender(request, sender)
    _required(request, "messageId", message_id)
    return envelope


# --------------------------------------------------------------------------- parts

def xml_datetime(value: dt.datetime) -> str:
    """``xsd:dateTime`` as the gateway's messages carry it: ``isoformat()``, ``Z`` for UTC."""
    return value.isoformat().replace("+00:00", "Z")


@lru_cache(maxsize=8)
def _skeleton(namespace: str, operation: str) -> etree._Element:
    """The envelope of ``operation`` down to its empty ``request``, built once: every call copies it."""
    envelope = etree.Element(_Q_ENVELOPE, nsmap=_ENVELOPE_NSMAP)
    ensure_security(envelope)
    body = etree.SubElement(envelope, _Q_BODY)
    etree.SubElement(etree.SubElement(body, f"{{{namespace}}}{operation}", nsmap={"ns0": namespace}), "request")
    return envelope


def _envelope(namespace: str, operation: str) -> tuple[etree._Element, etree._Element]:
    """A fresh envelope (``wsu`` declared, empty Security header) and its ``<operation>/request``."""
    envelope = _skeleton(namespace, operation).__copy__()
    return envelope, envelope[1][0][0]  # soap-env:Body / <operation> / request


def _properties(info: etree._Element, properties: Mapping[str, str | None] | None) -> None:
    for key, value in (properties or {}).items():
        prop = etree.SubElement(info, "properties")
        _required(prop, "key", key, field="properties/key")
        _optional(prop, "value", value, field="properties/value")


def _sender(parent: etree._Element, sender: Sender) -> None:
    element = etree.SubElement(parent, "sender")
    _required(element, "senderId", sender.sender_id, field="sender/senderId")
    _optional(element, "password", sender.password, field="sender/password")


def _required(parent: etree._Element, name: str, value: str, *, field: str | None = None) -> None:
    if value is None:
        raise ValidationError(field or name, "required")
    element = etree.SubElement(parent, name)
    try:
        element.text = value or None
    except (TypeError, ValueError) as exc:  # lxml refuses control characters, NUL, non-strings
        raise ValidationError(field or name, f"cannot be written as XML text: {exc}", value=value) from exc


def _optional(parent: etree._Element, name: str, value: str | None, *, field: str | None = None) -> None:
    if value is not None:
        _required(parent, name, value, field=field)


def _data(holder: etree._Element, data: etree._Element | None) -> None:
    if data is not None:
        holder.append(copy.deepcopy(data) if is_plain(data) else as_parsed(data))


def is_plain(data: etree._Element) -> bool:
    """Whether ``data`` reads back unchanged through the hardened parser: no comments, processing
    instructions, entity references or CDATA sections, and at most :data:`PLAIN_DATA_MAX_BYTES`."""
    if next(data.iter(etree.Comment, etree.ProcessingInstruction, etree.Entity), None) is not None:
        return False
    serialized = etree.tostring(data)
    return len(serialized) <= PLAIN_DATA_MAX_BYTES and b"<![CDATA[" not in serialized


def as_parsed(data: etree._Element) -> etree._Element:
    """``data`` as :func:`adapters.core.xmlparse.parse_xml` reads its serialisation (tail kept)."""
    parsed = parse_xml(etree.tostring(data, with_tail=False), allow_huge=True, what="business data")
    parsed.tail = data.tail
    return parsed
