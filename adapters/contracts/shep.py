"""The e-Government gateway's (ShEP) messages as its contract writes them (``schemas/shep/*.xsd``),
read and answered in one place.

Two parts of the project stand where the gateway stands and so speak its side of the contract: the
gateway simulator, and ``egov serve``'s ShEP proxy (a ministry system posts it the gateway's own
request, unsigned, and reads the gateway's own answer). Both read the requests' ``messageInfo`` and
build the answer and fault elements with the functions below; each wraps them in its own envelope
(the simulator's is signed, the proxy's is not) and applies its own policy to what ``data`` holds.
The adapter's side (the requests it builds, the answers it reads) is ``adapters.egov_gateway``.

Wrappers are namespace-qualified, their children are not (``elementFormDefault="unqualified"``).
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from adapters.core.soap import xml_datetime

SYNC_NS = "http://bip.bee.kz/SyncChannel/v10/Interfaces"
ASYNC_NS = "http://bip.bee.kz/AsyncChannel/v10/Interfaces"

Channel = Literal["sync", "async"]

SYNC_OPERATIONS = {f"{{{SYNC_NS}}}SendMessage": "SendMessage"}
ASYNC_OPERATIONS = {f"{{{ASYNC_NS}}}{op}": op
                    for op in ("sendMessage", "getMessageStatus", "getMessages", "sendDeliveryNotification")}

FAULT_ELEMENT = {
    "SendMessage": f"{{{SYNC_NS}}}SendMessageFault1_SendMessageFault",
    **{op: f"{{{ASYNC_NS}}}{op}Fault" for op in ASYNC_OPERATIONS.values()},
}
"""The ``ErrorInfo`` element of each operation's fault detail (the WSDL's fault messages)."""


def operation_of(payload: etree._Element) -> tuple[Channel, str] | None:
    """(channel, operation) of a Body payload, or None if it is not one of the gateway's."""
    tag = payload.tag
    if tag in SYNC_OPERATIONS:
        return "sync", SYNC_OPERATIONS[tag]
    if tag in ASYNC_OPERATIONS:
        return "async", ASYNC_OPERATIONS[tag]
    return None


# --------------------------------------------------------------------------- requests

def text(parent: etree._Element | None, path: str) -> str | None:
    """The stripped text at ``path`` under ``parent``; None when absent or blank."""
    if parent is None:
        return None
    value = parent.findtext(path)
    return value.strip() if value is not None and value.strip() else None


def properties(info: etree._Element | None) -> dict[str, str]:
    """The ``properties`` key/value pairs of a ``messageInfo``."""
    if info is None:
        return {}
    return {(p.findtext("key") or ""): (p.findtext("value") or "") for p in info.findall("properties")}


@dataclass(frozen=True)
class DataContent:
    """What a request's ``.../data`` (``xsd:anyType``) holds: a detached copy of its first element
    (the business document), how many elements it holds, and its bare text. Each reader applies its
    own policy (the gateway takes the first element; the proxy wants exactly one)."""

    first: etree._Element | None = None
    elements: int = 0
    bare_text: str = ""


def data_content(container: etree._Element | None) -> DataContent:
    """The content of ``container/data`` (``requestData`` or ``messageData``); empty when absent."""
    data = container.find("data") if container is not None else None
    if data is None:
        return DataContent()
    elements = [c for c in data if isinstance(c.tag, str)]
    return DataContent(copy.deepcopy(elements[0]) if elements else None, len(elements), (data.text or "").strip())


@dataclass(frozen=True)
class MessageInfo:
    """``requestInfo`` (sync) or ``messageInfo`` (async ``sendMessage``), or the identifying fields
    of the other async requests, with what their ``data`` holds."""

    message_id: str | None
    correlation_id: str | None
    service_id: str | None
    sender_id: str
    password: str | None
    message_type: str = "REQUEST"
    route_id: str | None = None
    session_id: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    content: DataContent = field(default_factory=DataContent)
    message_date: str | None = None

    @property
    def data(self) -> etree._Element | None:
        """The business document: the first element inside ``data`` (a detached copy)."""
        return self.content.first


def read_message_info(payload: etree._Element, operation: str) -> MessageInfo:
    """The message fields of a request ``payload`` of ``operation`` (already checked to be one)."""
    if operation == "SendMessage":
        info = payload.find("request/requestInfo")
        return MessageInfo(
            message_id=text(info, "messageId"), correlation_id=text(info, "correlationId"),
            service_id=text(info, "serviceId"), sender_id=text(info, "sender/senderId") or "",
            password=text(info, "sender/password"), route_id=text(info, "routeId"),
            session_id=text(info, "sessionId"), properties=properties(info),
            content=data_content(payload.find("request/requestData")), message_date=text(info, "messageDate"))
    if operation == "sendMessage":
        info = payload.find("request/message/messageInfo")
        return MessageInfo(
            message_id=text(info, "messageId"), correlation_id=text(info, "correlationId"),
            service_id=text(info, "serviceId"), sender_id=text(info, "sender/senderId") or "",
            password=text(info, "sender/password"), message_type=text(info, "messageType") or "REQUEST",
            route_id=text(info, "routeId"), session_id=text(info, "sessionId"),
            properties=properties(info), content=data_content(payload.find("request/message/messageData")),
            message_date=text(info, "messageDate"))
    request = payload.find("request")
    return MessageInfo(
        message_id=text(request, "messageId"), correlation_id=text(request, "correlationId"),
        service_id=text(request, "serviceId"), sender_id=text(request, "sender/senderId") or "",
        password=text(request, "sender/password"), message_type=text(request, "messageType") or "",
        properties={"maxCount": text(request, "maxCount") or ""})


# --------------------------------------------------------------------------- answers

def sub(parent: etree._Element, name: str, value: str | None = None) -> etree._Element:
    """A child element ``name`` of ``parent``, with ``value`` as its text when given."""
    element = etree.SubElement(parent, name)
    if value is not None:
        element.text = value
    return element


def sync_response(*, message_id: str, correlation_id: str | None, response_date: dt.datetime,
                  status_code: str, status_message: str, session_id: str | None = None,
                  data: etree._Element | None = None) -> etree._Element:
    """``SendMessageResponse``: ``responseInfo`` (the status message cut to the schema's 250
    characters) and ``responseData/data`` holding a copy of ``data``."""
    wrapper = etree.Element(f"{{{SYNC_NS}}}SendMessageResponse", nsmap={"ns2": SYNC_NS})
    response = sub(wrapper, "response")
    info = sub(response, "responseInfo")
    sub(info, "messageId", message_id)
    if correlation_id:
        sub(info, "correlationId", correlation_id)
    sub(info, "responseDate", xml_datetime(response_date))
    status = sub(info, "status")
    sub(status, "code", status_code)
    sub(status, "message", status_message[:250])
    if session_id:
        sub(info, "sessionId", session_id)
    holder = sub(sub(response, "responseData"), "data")
    if data is not None:
        holder.append(copy.deepcopy(data))
    return wrapper


def async_response(operation: str) -> tuple[etree._Element, etree._Element]:
    """The ``<operation>Response`` wrapper of an async operation and its ``response`` child."""
    wrapper = etree.Element(f"{{{ASYNC_NS}}}{operation}Response", nsmap={"ns2": ASYNC_NS})
    return wrapper, sub(wrapper, "response")


def send_receipt(*, message_id: str, response_date: dt.datetime, session_id: str | None = None) -> etree._Element:
    """``sendMessageResponse``: the message was accepted for delivery."""
    wrapper, response = async_response("sendMessage")
    sub(response, "messageId", message_id)
    sub(response, "responseDate", xml_datetime(response_date))
    if session_id:
        sub(response, "sessionId", session_id)
    return wrapper


def delivery_status(parent: etree._Element, code: str, message: str, date: dt.datetime) -> None:
    """A ``status`` (``DeliveryStatus``) under ``parent``."""
    status = sub(parent, "status")
    sub(status, "statusCode", code)
    sub(status, "statusMessage", message[:250])
    sub(status, "statusDate", xml_datetime(date))


def message_status(*, message_id: str, state: str, code: str, message: str, status_date: dt.datetime,
                   response_date: dt.datetime) -> etree._Element:
    """``getMessageStatusResponse``: the message's state and its delivery status."""
    wrapper, response = async_response("getMessageStatus")
    sub(response, "messageId", message_id)
    sub(response, "messageState", state)
    delivery_status(response, code, message, status_date)
    sub(response, "responseDate", xml_datetime(response_date))
    return wrapper


def error_info(operation: str, *, code: str, message: str, date: dt.datetime, data: str | None = None,
               session_id: str | None = None) -> etree._Element:
    """The operation's ``ErrorInfo`` (a SOAP Fault's detail): code, message, data, date."""
    info = etree.Element(FAULT_ELEMENT.get(operation, FAULT_ELEMENT["SendMessage"]),
                         nsmap={"ns2": SYNC_NS if operation == "SendMessage" else ASYNC_NS})
    sub(info, "errorCode", code)
    sub(info, "errorMessage", message)
    if data:
        sub(info, "errorData", data)
    sub(info, "errorDate", xml_datetime(date))
    if session_id:
        sub(info, "sessionId", session_id)
    return info
