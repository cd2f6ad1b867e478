"""The ShEP proxy's wire format: the unsigned request a ministry system posts, and what it gets back.

Requests are the gateway's own messages (``schemas/shep/``, ``docs/gateway.md``): a SOAP 1.1
envelope whose Body holds ``SendMessage`` (sync channel) or ``sendMessage`` / ``getMessageStatus``
(async channel), *unsigned*: the service signs. :func:`read_request` parses it with the hardened
parser, checks the envelope and validates the Body against the same schema the gateway uses; a
request that does not match is refused with the gateway's own code ``SCE001``.

Answers are the gateway's answer elements, rebuilt from the *verified* answer (the transport
signature has been checked by the adapter; the service does not sign what it hands back inside the
organisation). Failures are SOAP Faults carrying the gateway's ``ErrorInfo``: the gateway's code
when the gateway refused (``docs/codes.md``), the project's code otherwise (``EGOV406`` retries
exhausted, ``EGOV601`` unauthenticated...). ``errorData`` says ``retryable=true|false``; the fault
actor says who refused (``gateway`` or ``egov-service``).
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from adapters.contracts import ASYNC_INTERFACES_XSD, SYNC_INTERFACES_XSD, schema_errors
from adapters.core.errors import EgovError, ValidationError, XmlError
from adapters.core.soap import SOAP_ENV, build_envelope, build_fault, serialize, xml_datetime
from adapters.core.xmlparse import parse_xml
from adapters.egov_gateway import GatewayFaultError, MessageStatus, SendReceipt, StatusCodeError, SyncResponse

SYNC_NS = "http://bip.bee.kz/SyncChannel/v10/Interfaces"
ASYNC_NS = "http://bip.bee.kz/AsyncChannel/v10/Interfaces"

Channel = Literal["sync", "async"]
Operation = Literal["SendMessage", "sendMessage", "getMessageStatus"]

OPERATIONS: dict[str, tuple[Channel, Operation]] = {
    f"{{{SYNC_NS}}}SendMessage": ("sync", "SendMessage"),
    f"{{{ASYNC_NS}}}sendMessage": ("async", "sendMessage"),
    f"{{{ASYNC_NS}}}getMessageStatus": ("async", "getMessageStatus"),
}
_FAULT_ELEMENT = {
    "SendMessage": f"{{{SYNC_NS}}}SendMessageFault1_SendMessageFault",
    "sendMessage": f"{{{ASYNC_NS}}}sendMessageFault",
    "getMessageStatus": f"{{{ASYNC_NS}}}getMessageStatusFault",
}
_SCHEMA = {"sync": SYNC_INTERFACES_XSD, "async": ASYNC_INTERFACES_XSD}

LOCAL_ACTOR = "egov-service"
GATEWAY_ACTOR = "gateway"


class EnvelopeRefused(ValidationError):
    """The request does not match the gateway's contract: the gateway's own ``SCE001``."""

    code = "SCE001"


class SenderRefused(EgovError):
    """The envelope names another sender than the organisation's: the gateway's ``SCE002``."""

    code = "SCE002"


@dataclass(frozen=True)
class ProxyRequest:
    """What the ministry system asked the gateway for, read from its envelope."""

    channel: Channel
    operation: Operation
    message_id: str | None
    service_id: str | None
    sender_id: str
    correlation_id: str | None = None
    message_type: str = "REQUEST"
    route_id: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    data: etree._Element | None = None


def _text(parent: etree._Element | None, path: str) -> str | None:
    value = parent.findtext(path) if parent is not None else None
    return value.strip() if value is not None and value.strip() else None


def _properties(info: etree._Element | None) -> dict[str, str]:
    if info is None:
        return {}
    return {(p.findtext("key") or ""): (p.findtext("value") or "") for p in info.findall("properties")}


def _data(holder: etree._Element | None) -> etree._Element | None:
    """The one element inside ``.../data`` (a detached copy), or None when it is empty."""
    data = holder.find("data") if holder is not None else None
    if data is None:
        return None
    elements = [c for c in data if isinstance(c.tag, str)]
    if len(elements) > 1:
        raise EnvelopeRefused("data", f"must hold one element (the business document), found {len(elements)}")
    if not elements:
        if (data.text or "").strip():
            raise EnvelopeRefused("data", "must hold an element, not bare text")
        return None
    return copy.deepcopy(elements[0])


def _payload(body: bytes) -> etree._Element:
    try:
        envelope = parse_xml(body, allow_huge=True, what="SOAP request")
    except XmlError as exc:
        raise EnvelopeRefused("Envelope", exc.message) from exc
    if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
        raise EnvelopeRefused("Envelope", f"the root is {envelope.tag}, not a SOAP 1.1 Envelope")
    bodies = envelope.findall(f"{{{SOAP_ENV}}}Body")
    if len(bodies) != 1:
        raise EnvelopeRefused("Body", f"expected one soap:Body, found {len(bodies)}")
    children = [c for c in bodies[0] if isinstance(c.tag, str)]
    if len(children) != 1:
        raise EnvelopeRefused("Body", f"soap:Body must hold exactly one element, found {len(children)}")
    return children[0]


def read_request(body: bytes, channel: Channel) -> ProxyRequest:
    """Parse and validate one unsigned request of ``channel``; :class:`EnvelopeRefused` if it is not one."""
    payload = _payload(body)
    known = OPERATIONS.get(payload.tag)
    if known is None or known[0] != channel:
        offered = ", ".join(op for ch, op in OPERATIONS.values() if ch == channel)
        raise EnvelopeRefused("Body", f"{etree.QName(payload).localname} is not an operation of this endpoint "
                                      f"(offered: {offered})")
    operation = known[1]
    errors = schema_errors(_SCHEMA[channel], payload)
    if errors:
        raise EnvelopeRefused(etree.QName(payload).localname, f"does not match the gateway's schema: {errors[0]}")
    if operation == "SendMessage":
        info = payload.find("request/requestInfo")
        return ProxyRequest(
            channel, operation, message_id=_text(info, "messageId"), service_id=_text(info, "serviceId"),
            sender_id=_text(info, "sender/senderId") or "", correlation_id=_text(info, "correlationId"),
            route_id=_text(info, "routeId"), properties=_properties(info),
            data=_data(payload.find("request/requestData")))
    if operation == "sendMessage":
        info = payload.find("request/message/messageInfo")
        return ProxyRequest(
            channel, operation, message_id=_text(info, "messageId"), service_id=_text(info, "serviceId"),
            sender_id=_text(info, "sender/senderId") or "", correlation_id=_text(info, "correlationId"),
            message_type=_text(info, "messageType") or "REQUEST", route_id=_text(info, "routeId"),
            properties=_properties(info), data=_data(payload.find("request/message/messageData")))
    request = payload.find("request")
    return ProxyRequest(channel, operation, message_id=_text(request, "messageId"), service_id=None,
                        sender_id=_text(request, "sender/senderId") or "")


# --------------------------------------------------------------------------- answers

def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, name)
    if text is not None:
        element.text = text
    return element


def sync_answer(*, message_id: str, correlation_id: str | None, response_date: dt.datetime, status_code: str,
                status_message: str, session_id: str | None = None, data: etree._Element | None = None) -> bytes:
    """A ``SendMessageResponse`` envelope (the gateway's answer element, unsigned)."""
    wrapper = etree.Element(f"{{{SYNC_NS}}}SendMessageResponse", nsmap={"ns2": SYNC_NS})
    response = _sub(wrapper, "response")
    info = _sub(response, "responseInfo")
    _sub(info, "messageId", message_id)
    if correlation_id:
        _sub(info, "correlationId", correlation_id)
    _sub(info, "responseDate", xml_datetime(response_date))
    status = _sub(info, "status")
    _sub(status, "code", status_code)
    _sub(status, "message", status_message[:250])
    if session_id:
        _sub(info, "sessionId", session_id)
    holder = _sub(_sub(response, "responseData"), "data")
    if data is not None:
        holder.append(copy.deepcopy(data))
    return serialize(build_envelope(wrapper))


def verified_answer(answer: SyncResponse) -> bytes:
    """The verified sync answer as the ministry system reads it."""
    return sync_answer(message_id=answer.message_id, correlation_id=answer.correlation_id,
                       response_date=answer.response_date, status_code=answer.status.code,
                       status_message=answer.status.message, session_id=answer.session_id, data=answer.data)


def status_answer(error: StatusCodeError, *, message_id: str, correlation_id: str | None,
                  now: dt.datetime) -> bytes:
    """A signed gateway answer whose status was not SCSS001, handed on with that status (channel "status")."""
    return sync_answer(message_id=message_id, correlation_id=correlation_id, response_date=now,
                       status_code=error.status_code, status_message=error.message.split(": ", 1)[-1])


def send_receipt_answer(receipt: SendReceipt) -> bytes:
    wrapper = etree.Element(f"{{{ASYNC_NS}}}sendMessageResponse", nsmap={"ns2": ASYNC_NS})
    response = _sub(wrapper, "response")
    _sub(response, "messageId", receipt.message_id)
    _sub(response, "responseDate", xml_datetime(receipt.response_date))
    if receipt.session_id:
        _sub(response, "sessionId", receipt.session_id)
    return serialize(build_envelope(wrapper))


def message_status_answer(status: MessageStatus) -> bytes:
    wrapper = etree.Element(f"{{{ASYNC_NS}}}getMessageStatusResponse", nsmap={"ns2": ASYNC_NS})
    response = _sub(wrapper, "response")
    _sub(response, "messageId", status.message_id)
    _sub(response, "messageState", status.state or "ON_DELIVERY")
    delivery = _sub(response, "status")
    _sub(delivery, "statusCode", status.status_code)
    _sub(delivery, "statusMessage", status.status_message[:250])
    _sub(delivery, "statusDate", xml_datetime(status.status_date))
    _sub(response, "responseDate", xml_datetime(status.response_date))
    return serialize(build_envelope(wrapper))


def fault(operation: str, error: EgovError, *, now: dt.datetime, request_id: str | None = None) -> bytes:
    """A SOAP Fault with the operation's ``ErrorInfo``: the error's code and message, and whether
    repeating the same request may help. The gateway's own faults keep the gateway as actor."""
    from_gateway = isinstance(error, GatewayFaultError)
    text = error.message.split(": ", 1)[-1] if from_gateway else error.message
    info = etree.Element(_FAULT_ELEMENT.get(operation, _FAULT_ELEMENT["SendMessage"]),
                         nsmap={"ns2": SYNC_NS if operation == "SendMessage" else ASYNC_NS})
    _sub(info, "errorCode", error.code)
    _sub(info, "errorMessage", text)
    data = f"retryable={str(error.retryable).lower()}"
    if request_id:
        data += f"; request_id={request_id}"
    _sub(info, "errorData", data)
    _sub(info, "errorDate", xml_datetime(now))
    code = "soap:Server" if error.retryable else "soap:Client"
    return serialize(build_fault(code, f"{error.code}: {text}", detail=info,
                                 actor=GATEWAY_ACTOR if from_gateway else LOCAL_ACTOR))
