"""Wire format of the gateway: reading requests and writing answers of both channels, and serving
the contract (``?wsdl`` / ``?xsd=``) with the simulator's own address.

Elements follow ``schemas/shep/*.xsd``: the wrappers are namespace-qualified, their children are
not (``elementFormDefault="unqualified"``).
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field

from lxml import etree

from adapters.core.soap import build_fault, serialize, xml_datetime
from adapters.core.xmlparse import parse_xml
from simulators.common.answers import answer_envelope

SYNC_NS = "http://bip.bee.kz/SyncChannel/v10/Interfaces"
ASYNC_NS = "http://bip.bee.kz/AsyncChannel/v10/Interfaces"

SYNC_OPERATIONS = {f"{{{SYNC_NS}}}SendMessage": "SendMessage"}
ASYNC_OPERATIONS = {f"{{{ASYNC_NS}}}{op}": op
                    for op in ("sendMessage", "getMessageStatus", "getMessages", "sendDeliveryNotification")}

FAULT_ELEMENT = {
    "SendMessage": f"{{{SYNC_NS}}}SendMessageFault1_SendMessageFault",
    **{op: f"{{{ASYNC_NS}}}{op}Fault" for op in ASYNC_OPERATIONS.values()},
}


def operation_of(payload: etree._Element) -> tuple[str, str] | None:
    """(channel, operation) of a Body payload, or None if it is not ours."""
    tag = payload.tag
    if tag in SYNC_OPERATIONS:
        return "sync", SYNC_OPERATIONS[tag]
    if tag in ASYNC_OPERATIONS:
        return "async", ASYNC_OPERATIONS[tag]
    return None


def _text(parent: etree._Element | None, path: str) -> str | None:
    if parent is None:
        return None
    value = parent.findtext(path)
    return value.strip() if value is not None and value.strip() else None


def _properties(info: etree._Element | None) -> dict[str, str]:
    if info is None:
        return {}
    return {(p.findtext("key") or ""): (p.findtext("value") or "") for p in info.findall("properties")}


def _data(container: etree._Element | None) -> etree._Element | None:
    """A detached copy of the element inside ``.../data``."""
    if container is None:
        return None
    data = container.find("data")
    if data is None:
        return None
    elements = [c for c in data if isinstance(c.tag, str)]
    return copy.deepcopy(elements[0]) if elements else None


def peek_ids(payload: etree._Element) -> dict[str, str | None]:
    """Best-effort identifiers for the journal, read before validation."""
    info = payload.find("request/requestInfo")
    if info is None:
        info = payload.find("request/message/messageInfo")
    req = payload.find("request")
    return {
        "message_id": _text(info, "messageId") or _text(req, "messageId"),
        "correlation_id": _text(info, "correlationId"),
        "service": _text(info, "serviceId") or _text(req, "serviceId"),
        "sender_id": _text(info, "sender/senderId") or _text(req, "sender/senderId"),
    }


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class MessageInfo:
    """requestInfo (sync) or messageInfo (async), plus the data element."""

    message_id: str | None
    correlation_id: str | None
    service_id: str | None
    sender_id: str
    password: str | None
    message_type: str = "REQUEST"
    route_id: str | None = None
    session_id: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    data: etree._Element | None = None
    message_date: str | None = None


def parse_sync(payload: etree._Element) -> MessageInfo:
    info = payload.find("request/requestInfo")
    return MessageInfo(
        message_id=_text(info, "messageId"), correlation_id=_text(info, "correlationId"),
        service_id=_text(info, "serviceId"), sender_id=_text(info, "sender/senderId") or "",
        password=_text(info, "sender/password"), route_id=_text(info, "routeId"),
        session_id=_text(info, "sessionId"), properties=_properties(info),
        data=_data(payload.find("request/requestData")), message_date=_text(info, "messageDate"))


def parse_async(payload: etree._Element, operation: str) -> MessageInfo:
    if operation == "sendMessage":
        info = payload.find("request/message/messageInfo")
        return MessageInfo(
            message_id=_text(info, "messageId"), correlation_id=_text(info, "correlationId"),
            service_id=_text(info, "serviceId"), sender_id=_text(info, "sender/senderId") or "",
            password=_text(info, "sender/password"), message_type=_text(info, "messageType") or "REQUEST",
            route_id=_text(info, "routeId"), session_id=_text(info, "sessionId"),
            properties=_properties(info), data=_data(payload.find("request/message/messageData")),
            message_date=_text(info, "messageDate"))
    req = payload.find("request")
    return MessageInfo(
        message_id=_text(req, "messageId"), correlation_id=_text(req, "correlationId"),
        service_id=_text(req, "serviceId"), sender_id=_text(req, "sender/senderId") or "",
        password=_text(req, "sender/password"), message_type=_text(req, "messageType") or "",
        properties={"maxCount": _text(req, "maxCount") or ""})


# --------------------------------------------------------------------------- answers


def _answer_envelope(payload: etree._Element) -> bytes:
    """An answer envelope (``soap:Envelope/soap:Body/payload``) that the front signs, serialised."""
    return serialize(answer_envelope(payload))


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, name)
    if text is not None:
        el.text = text
    return el


def sync_response(*, message_id: str, correlation_id: str | None, session_id: str | None, status_code: str,
                  status_message: str, data: etree._Element | None, now: dt.datetime) -> bytes:
    """An unsigned SendMessageResponse envelope."""
    wrapper = etree.Element(f"{{{SYNC_NS}}}SendMessageResponse", nsmap={"ns2": SYNC_NS})
    response = _sub(wrapper, "response")
    info = _sub(response, "responseInfo")
    _sub(info, "messageId", message_id)
    if correlation_id:
        _sub(info, "correlationId", correlation_id)
    _sub(info, "responseDate", xml_datetime(now))
    status = _sub(info, "status")
    _sub(status, "code", status_code)
    _sub(status, "message", status_message[:250])
    if session_id:
        _sub(info, "sessionId", session_id)
    rdata = _sub(response, "responseData")
    holder = _sub(rdata, "data")
    if data is not None:
        holder.append(copy.deepcopy(data))
    return _answer_envelope(wrapper)


def fault_response(operation: str, error_code: str, message: str, *, now: dt.datetime,
                   error_data: str | None = None, session_id: str | None = None) -> bytes:
    """A SOAP Fault carrying the operation's ErrorInfo (never signed, like the real gateway's)."""
    info = etree.Element(FAULT_ELEMENT.get(operation, FAULT_ELEMENT["SendMessage"]),
                         nsmap={"ns2": SYNC_NS if operation == "SendMessage" else ASYNC_NS})
    _sub(info, "errorCode", error_code)
    _sub(info, "errorMessage", message)
    if error_data:
        _sub(info, "errorData", error_data)
    _sub(info, "errorDate", xml_datetime(now))
    if session_id:
        _sub(info, "sessionId", session_id)
    code = "soap:Server" if error_code in ("SCE909", "SCE009", "SCE010") else "soap:Client"
    return serialize(build_fault(code, f"{error_code}: {message}", detail=info))


def _async_wrapper(operation: str) -> tuple[etree._Element, etree._Element]:
    wrapper = etree.Element(f"{{{ASYNC_NS}}}{operation}Response", nsmap={"ns2": ASYNC_NS})
    return wrapper, _sub(wrapper, "response")


def _delivery_status(parent: etree._Element, code: str, message: str, date: dt.datetime) -> None:
    status = _sub(parent, "status")
    _sub(status, "statusCode", code)
    _sub(status, "statusMessage", message[:250])
    _sub(status, "statusDate", xml_datetime(date))


def async_send_response(message_id: str, now: dt.datetime, session_id: str | None = None) -> bytes:
    wrapper, response = _async_wrapper("sendMessage")
    _sub(response, "messageId", message_id)
    _sub(response, "responseDate", xml_datetime(now))
    if session_id:
        _sub(response, "sessionId", session_id)
    return _answer_envelope(wrapper)


def async_status_response(message_id: str, state: str, code: str, message: str, status_date: dt.datetime,
                          now: dt.datetime) -> bytes:
    wrapper, response = _async_wrapper("getMessageStatus")
    _sub(response, "messageId", message_id)
    _sub(response, "messageState", state)
    _delivery_status(response, code, message, status_date)
    _sub(response, "responseDate", xml_datetime(now))
    return _answer_envelope(wrapper)


@dataclass(frozen=True)
class OutgoingAsyncMessage:
    message_id: str
    correlation_id: str | None
    service_id: str
    message_type: str
    sender_id: str
    created: dt.datetime
    data: bytes | None
    route_id: str | None = None
    properties: dict[str, str] = field(default_factory=dict)


def async_messages_response(messages: list[OutgoingAsyncMessage], now: dt.datetime) -> bytes:
    wrapper, response = _async_wrapper("getMessages")
    for msg in messages:
        node = _sub(response, "messages")
        info = _sub(node, "messageInfo")
        _sub(info, "messageId", msg.message_id)
        if msg.correlation_id:
            _sub(info, "correlationId", msg.correlation_id)
        _sub(info, "serviceId", msg.service_id)
        _sub(info, "messageType", msg.message_type)
        if msg.route_id:
            _sub(info, "routeId", msg.route_id)
        _sub(info, "messageDate", xml_datetime(msg.created))
        sender = _sub(info, "sender")
        _sub(sender, "senderId", msg.sender_id)
        for key, value in msg.properties.items():
            prop = _sub(info, "properties")
            _sub(prop, "key", key)
            _sub(prop, "value", value)
        holder = _sub(_sub(node, "messageData"), "data")
        if msg.data:
            holder.append(parse_xml(msg.data, what="queued message data"))
    _sub(response, "responseDate", xml_datetime(now))
    return _answer_envelope(wrapper)


def async_ack_response(message_id: str, code: str, message: str, now: dt.datetime) -> bytes:
    wrapper, response = _async_wrapper("sendDeliveryNotification")
    _sub(response, "messageId", message_id)
    _delivery_status(response, code, message, now)
    _sub(response, "responseDate", xml_datetime(now))
    return _answer_envelope(wrapper)


