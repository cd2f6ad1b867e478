"""The sync ``SendMessage`` hot path without zeep's per-call (de)serialisation.

zeep stays the contract source: the request **template** is rendered once by zeep's
``create_message`` from the packaged WSDL (every optional field present, so its element names,
order and namespaces are zeep's), and each call copies the template and fills the values in,
writing them as zeep's ``String``/``DateTime`` types would. zeep renders six fields with some
12 000 Python calls; copying and filling a 20-element tree takes a few microseconds.

The answer is read with lxml from the payload that already passed the signature check and the
schema; anything unusual about it (another element, attributes on the fields, a date zeep's
parser must judge) goes back to zeep's ``deserialize``, so that odd answers behave exactly as
before. ``tests/test_gateway_fastpath.py`` checks both directions against zeep itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from adapters.core.errors import ConfigurationError
from adapters.core.xmlsig.signer import declare_wsu
from adapters.core.xmlsig.wsse import ensure_security

SYNC_INTERFACES_NS = "http://bip.bee.kz/SyncChannel/v10/Interfaces"
_Q_SEND_MESSAGE_RESPONSE = f"{{{SYNC_INTERFACES_NS}}}SendMessageResponse"

# Placeholder values the template is rendered with (never sent: every one is overwritten or removed)
_MARK = "\u2063fill\u2063"
_MARK_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def xml_string(value: Any) -> str:
    """What zeep's ``xsd:string`` writes for ``value`` (``String.xmlvalue``)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value if value is not None else "")


def xml_datetime(value: dt.datetime | str) -> str:
    """What zeep's ``xsd:dateTime`` writes for ``value`` (``DateTime.xmlvalue``)."""
    if isinstance(value, str):
        return value
    return value.isoformat().replace("+00:00", "Z")


def render_template(client: Any, operation: str, request: Mapping[str, Any]) -> etree._Element:
    """``operation``'s request as zeep renders it, with ``xmlns:wsu`` declared on the envelope and
    the (empty) ``wsse:Security`` header added: what the signer would do to every copy of it, done
    once on the template (``SigningService`` leaves an envelope that already has them as it is)."""
    envelope = declare_wsu(client.create_message(client.service, operation, request=request))
    ensure_security(envelope)
    return envelope


_FIELDS = ("messageId", "correlationId", "serviceId", "messageDate", "routeId", "sender/senderId",
           "sender/password", "properties")


def index_path(root: etree._Element, element: etree._Element) -> tuple[int, ...]:
    steps: list[int] = []
    node = element
    while node is not root:
        parent = node.getparent()
        assert parent is not None
        steps.append(parent.index(node))
        node = parent
    return tuple(reversed(steps))


def node_at(root: etree._Element, path: tuple[int, ...]) -> etree._Element:
    node = root
    for step in path:
        node = node[step]
    return node


@dataclass(frozen=True)
class SendMessageTemplate:
    """A SendMessage envelope rendered once by zeep, with paths to the fields filled per call."""

    envelope: etree._Element
    paths: dict[str, tuple[int, ...]]
    """Child-index path from the root to each field (the copy has the template's shape)."""

    @classmethod
    def from_zeep(cls, client: Any) -> SendMessageTemplate:
        request = {
            "requestInfo": {
                "messageId": _MARK, "correlationId": _MARK, "serviceId": _MARK, "messageDate": _MARK_DATE,
                "routeId": _MARK, "sender": {"senderId": _MARK, "password": _MARK},
                "properties": [{"key": _MARK, "value": _MARK}],
            },
            "requestData": {"data": ""},
        }
        envelope = render_template(client, "SendMessage", request)
        info = envelope.find(".//request/requestInfo")
        holder = envelope.find(".//request/requestData/data")
        if info is None or holder is None:
            raise ConfigurationError("SyncChannel.wsdl did not produce requestInfo and requestData/data")
        paths = {"data": index_path(envelope, holder)}
        for name in _FIELDS:
            found = info.find(name)
            if found is None:
                raise ConfigurationError(f"SyncChannel.wsdl did not produce requestInfo/{name}")
            paths[name] = index_path(envelope, found)
        return cls(envelope, paths)

    def build(self, *, message_id: str, correlation_id: str | None, service_id: str, message_date: dt.datetime,
              route_id: str | None, sender_id: str, password: str | None, properties: Mapping[str, str] | None,
              data: etree._Element | None) -> etree._Element:
        """A fresh SendMessage envelope (``xmlns:wsu`` declared), as ``create_message`` would render it."""
        envelope = self.envelope.__copy__()
        # resolved before anything is removed, while the copy has exactly the template's shape
        p = {name: node_at(envelope, path) for name, path in self.paths.items()}
        p["messageId"].text = _text(message_id)
        _optional(p["correlationId"], correlation_id)
        p["serviceId"].text = _text(service_id)
        p["messageDate"].text = xml_datetime(message_date) or None
        _optional(p["routeId"], route_id)
        p["sender/senderId"].text = _text(sender_id)
        _optional(p["sender/password"], password)
        prototype = p["properties"]
        for key, value in (properties or {}).items():
            prop = prototype.__copy__()
            key_el, value_el = prop.find("key"), prop.find("value")
            assert key_el is not None and value_el is not None
            key_el.text = _text(key)
            _optional(value_el, value)
            prototype.addprevious(prop)
        prototype.getparent().remove(prototype)
        holder = p["data"]
        holder.text = None
        if data is not None:
            holder.append(data.__copy__())
        return envelope


def _optional(element: etree._Element, value: Any) -> None:
    """An optional field: zeep leaves out the element when the value is None."""
    if value is None:
        element.getparent().remove(element)
    else:
        element.text = _text(value)


def _text(value: Any) -> str | None:
    """The text node for ``value``; none for an empty string, as the request read back from
    zeep's serialisation had it (``<x></x>`` parses as ``<x/>``)."""
    return xml_string(value) or None


PLAIN_DATA_MAX_BYTES = 1024 * 1024


def data_is_plain(data: etree._Element | None) -> bool:
    """True when ``data`` would come out of the old round trip unchanged.

    The request used to be serialised and parsed again (hardened) before signing: comments,
    processing instructions and CDATA sections were dropped or turned into text, and the
    parser's limits applied. For such data (or anything large) the caller hands the signer
    bytes, as before; ordinary data goes in as an element.
    """
    if data is None:
        return True
    if next(data.iter(etree.Comment, etree.ProcessingInstruction, etree.Entity), None) is not None:
        return False
    serialized = etree.tostring(data)
    return len(serialized) <= PLAIN_DATA_MAX_BYTES and b"<![CDATA[" not in serialized


# --------------------------------------------------------------------------- reading the answer

@dataclass(frozen=True)
class SyncAnswerFields:
    """``responseInfo`` of a SendMessageResponse as zeep's deserialisation would hand it over."""

    message_id: str
    correlation_id: str | None
    response_date: dt.datetime | None
    status_code: str
    status_message: str
    session_id: str | None


def read_sync_answer(payload: etree._Element, parse_datetime: Any) -> SyncAnswerFields | None:
    """The fields of a schema-valid SendMessageResponse, or None to let zeep read it.

    Texts are taken as zeep takes them (``xsd:string`` unchanged, an empty element is None and
    ``str(None)`` where the caller did ``str(...)``); ``parse_datetime`` is zeep's own
    ``DateTime.pythonvalue``. None for anything this reader does not vouch for: another element,
    attributes (an ``xsi:type`` could change how zeep reads a value) or a date zeep must judge.
    """
    if payload.tag != _Q_SEND_MESSAGE_RESPONSE:
        return None
    info = payload.find("response/responseInfo")
    if info is None:
        return None
    fields: dict[str, str | None] = {}
    has_status = False
    for child in info:  # the schema allows no deeper nesting than responseInfo/status/*
        if not isinstance(child.tag, str) or child.keys():
            return None
        if child.tag == "status":
            has_status = True
            for part in child:
                if not isinstance(part.tag, str) or part.keys() or len(part):
                    return None
                fields[f"status/{part.tag}"] = part.text
        elif len(child):
            return None
        else:
            fields[child.tag] = child.text
    if not has_status:
        return None
    date_text = fields.get("responseDate")
    try:
        response_date = None if date_text is None else parse_datetime(date_text)
    except Exception:  # zeep's reading decides how such a date fails
        return None
    if response_date is not None and not isinstance(response_date, dt.datetime):
        return None
    return SyncAnswerFields(
        message_id=str(fields.get("messageId")), correlation_id=fields.get("correlationId"),
        response_date=response_date, status_code=str(fields.get("status/code")),
        status_message=str(fields.get("status/message") or ""), session_id=fields.get("sessionId"))
