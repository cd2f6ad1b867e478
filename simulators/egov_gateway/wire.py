"""Wire format of the gateway simulator: the contract's answer elements
(:mod:`adapters.contracts.shep`, shared with ``egov serve``'s ShEP proxy) wrapped in the envelopes the
front signs, the identifiers the journal takes before validation, and ``getMessages``' answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from lxml import etree

from adapters.contracts import shep
from adapters.contracts.shep import operation_of, sub
from adapters.core.soap import build_envelope, build_fault, serialize, xml_datetime
from adapters.core.xmlparse import parse_xml

__all__ = ["OutgoingAsyncMessage", "async_ack_response", "async_messages_response",
           "async_send_response", "async_status_response", "fault_response", "operation_of", "peek_ids",
           "sync_response"]


def peek_ids(payload: etree._Element) -> dict[str, str | None]:
    """Best-effort identifiers for the journal, read before validation."""
    info = payload.find("request/requestInfo")
    if info is None:
        info = payload.find("request/message/messageInfo")
    req = payload.find("request")
    return {
        "message_id": shep.text(info, "messageId") or shep.text(req, "messageId"),
        "correlation_id": shep.text(info, "correlationId"),
        "service": shep.text(info, "serviceId") or shep.text(req, "serviceId"),
        "sender_id": shep.text(info, "sender/senderId") or shep.text(req, "sender/senderId"),
    }


# --------------------------------------------------------------------------- answers


def _answer_envelope(payload: etree._Element) -> bytes:
    """An answer envelope (``soap:Envelope/soap:Body/payload``) that the front signs, serialised."""
    return serialize(build_envelope(payload, declare_wsu=True))


def sync_response(*, message_id: str, correlation_id: str | None, session_id: str | None, status_code: str,
                  status_message: str, data: etree._Element | None, now: dt.datetime) -> bytes:
    """An unsigned SendMessageResponse envelope."""
    return _answer_envelope(shep.sync_response(
        message_id=message_id, correlation_id=correlation_id, response_date=now, status_code=status_code,
        status_message=status_message, session_id=session_id, data=data))


def fault_response(operation: str, error_code: str, message: str, *, now: dt.datetime,
                   error_data: str | None = None, session_id: str | None = None) -> bytes:
    """A SOAP Fault carrying the operation's ErrorInfo (never signed, like the real gateway's)."""
    info = shep.error_info(operation, code=error_code, message=message, date=now, data=error_data,
                           session_id=session_id)
    code = "soap:Server" if error_code in ("SCE909", "SCE009", "SCE010") else "soap:Client"
    return serialize(build_fault(code, f"{error_code}: {message}", detail=info))


def async_send_response(message_id: str, now: dt.datetime, session_id: str | None = None) -> bytes:
    return _answer_envelope(shep.send_receipt(message_id=message_id, response_date=now, session_id=session_id))


def async_status_response(message_id: str, state: str, code: str, message: str, status_date: dt.datetime,
                          now: dt.datetime) -> bytes:
    return _answer_envelope(shep.message_status(message_id=message_id, state=state, code=code, message=message,
                                                status_date=status_date, response_date=now))


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
    wrapper, response = shep.async_response("getMessages")
    for msg in messages:
        node = sub(response, "messages")
        info = sub(node, "messageInfo")
        sub(info, "messageId", msg.message_id)
        if msg.correlation_id:
            sub(info, "correlationId", msg.correlation_id)
        sub(info, "serviceId", msg.service_id)
        sub(info, "messageType", msg.message_type)
        if msg.route_id:
            sub(info, "routeId", msg.route_id)
        sub(info, "messageDate", xml_datetime(msg.created))
        sender = sub(info, "sender")
        sub(sender, "senderId", msg.sender_id)
        for key, value in msg.properties.items():
            prop = sub(info, "properties")
            sub(prop, "key", key)
            sub(prop, "value", value)
        holder = sub(sub(node, "messageData"), "data")
        if msg.data:
            holder.append(parse_xml(msg.data, what="queued message data"))
    sub(response, "responseDate", xml_datetime(now))
    return _answer_envelope(wrapper)


def async_ack_response(message_id: str, code: str, message: str, now: dt.datetime) -> bytes:
    wrapper, response = shep.async_response("sendDeliveryNotification")
    sub(response, "messageId", message_id)
    shep.delivery_status(response, code, message, now)
    sub(response, "responseDate", xml_datetime(now))
    return _answer_envelope(wrapper)


