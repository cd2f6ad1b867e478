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

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from adapters.contracts import ASYNC_INTERFACES_XSD, SYNC_INTERFACES_XSD, schema_errors, shep
from adapters.contracts.shep import Channel as Channel  # re-exported: the routes name the channel by it
from adapters.contracts.shep import DataContent
from adapters.core.errors import EgovError, ValidationError, XmlError
from adapters.core.soap import SOAP_ENV, build_envelope, build_fault, serialize
from adapters.core.xmlparse import parse_xml
from adapters.egov_gateway import GatewayFaultError, MessageStatus, SendReceipt, StatusCodeError, SyncResponse

Operation = Literal["SendMessage", "sendMessage", "getMessageStatus"]

OPERATIONS: dict[str, tuple[Channel, Operation]] = {
    f"{{{shep.SYNC_NS}}}SendMessage": ("sync", "SendMessage"),
    f"{{{shep.ASYNC_NS}}}sendMessage": ("async", "sendMessage"),
    f"{{{shep.ASYNC_NS}}}getMessageStatus": ("async", "getMessageStatus"),
}
"""The gateway's operations the proxy offers (getMessages and delivery notifications are the
service's own pollers' business)."""
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


def _document(content: DataContent) -> etree._Element | None:
    """The business document of ``data``: exactly one element, or none at all."""
    if content.elements > 1:
        raise EnvelopeRefused("data", f"must hold one element (the business document), found {content.elements}")
    if content.first is None and content.bare_text:
        raise EnvelopeRefused("data", "must hold an element, not bare text")
    return content.first


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
    info = shep.read_message_info(payload, operation)
    return ProxyRequest(channel, operation, message_id=info.message_id,
                        service_id=info.service_id if operation != "getMessageStatus" else None,
                        sender_id=info.sender_id, correlation_id=info.correlation_id,
                        message_type=info.message_type if operation == "sendMessage" else "REQUEST",
                        route_id=info.route_id, properties=info.properties if operation != "getMessageStatus" else {},
                        data=_document(info.content))


# --------------------------------------------------------------------------- answers

def _envelope(wrapper: etree._Element) -> bytes:
    return serialize(build_envelope(wrapper))


def sync_answer(*, message_id: str, correlation_id: str | None, response_date: dt.datetime, status_code: str,
                status_message: str, session_id: str | None = None, data: etree._Element | None = None) -> bytes:
    """A ``SendMessageResponse`` envelope (the gateway's answer element, unsigned)."""
    return _envelope(shep.sync_response(message_id=message_id, correlation_id=correlation_id,
                                        response_date=response_date, status_code=status_code,
                                        status_message=status_message, session_id=session_id, data=data))


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
    return _envelope(shep.send_receipt(message_id=receipt.message_id, response_date=receipt.response_date,
                                       session_id=receipt.session_id))


def message_status_answer(status: MessageStatus) -> bytes:
    return _envelope(shep.message_status(message_id=status.message_id, state=status.state or "ON_DELIVERY",
                                         code=status.status_code, message=status.status_message,
                                         status_date=status.status_date, response_date=status.response_date))


def fault(operation: str, error: EgovError, *, now: dt.datetime, request_id: str | None = None) -> bytes:
    """A SOAP Fault with the operation's ``ErrorInfo``: the error's code and message, and whether
    repeating the same request may help. The gateway's own faults keep the gateway as actor."""
    from_gateway = isinstance(error, GatewayFaultError)
    message = error.message.split(": ", 1)[-1] if from_gateway else error.message
    data = f"retryable={str(error.retryable).lower()}"
    if request_id:
        data += f"; request_id={request_id}"
    info = shep.error_info(operation, code=error.code, message=message, date=now, data=data)
    code = "soap:Server" if error.retryable else "soap:Client"
    return serialize(build_fault(code, f"{error.code}: {message}", detail=info,
                                 actor=GATEWAY_ACTOR if from_gateway else LOCAL_ACTOR))
