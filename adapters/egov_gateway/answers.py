"""The gateway's answers, read with lxml into the adapter's models.

Each reader takes the payload :class:`adapters.core.soap.ResponsePipeline` hands over: the Body
that was signature-verified, valid against ``schemas/shep/*-interfaces-v10.xsd``. Contract, for
every reader:

- the payload must be the operation's response element (the interfaces schema also accepts the
  other elements it declares), else :class:`InvalidResponseError`;
- a string is taken as written (``xsd:string`` keeps its whitespace); an empty required string
  reads as ``""``; an optional one, absent or empty, as None;
- ``xsd:dateTime`` is read with :meth:`datetime.datetime.fromisoformat` (every form with a
  four-digit year; a value without a zone is UTC) and returned in UTC; a form it cannot hold
  (a year past 9999, ``24:00:00``) is an :class:`InvalidResponseError`;
- business data is a copy of the first element inside ``data`` (None when there is none);
- a value the model refuses (an unknown ``messageType``, a missing ``messageId``) is an
  :class:`InvalidResponseError` naming the field.

Matching an answer to its request (the client's last step) uses
:func:`adapters.core.soap.require_match` for the echoed ids and :func:`require_selected` for the
messages a ``getMessages`` returns.

``tests/adapters/egov_gateway/test_answers.py`` checks every reader against zeep's
``deserialize`` of the same answer (zeep reads the WSDL; it is not used at run time).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import pydantic
from lxml import etree

from adapters.core.errors import InvalidResponseError, MismatchedAnswerError
from adapters.core.soap import require_match
from adapters.egov_gateway.messages import ASYNC_INTERFACES_NS, SYNC_INTERFACES_NS
from adapters.egov_gateway.models import AsyncMessage, GatewayStatus, MessageStatus, SendReceipt, SyncResponse


def read_sync_response(payload: etree._Element, *, signer: object | None = None, attempts: int = 1) -> SyncResponse:
    """A ``SendMessageResponse``: its ``responseInfo`` and the element inside ``responseData/data``."""
    with _model("SendMessage"):
        response = _response(payload, SYNC_INTERFACES_NS, "SendMessage")
        info = response.sub("responseInfo")
        status = info.sub("status")
        return SyncResponse(
            message_id=info.text("messageId"), correlation_id=info.optional("correlationId"),
            response_date=info.datetime("responseDate"),
            status=GatewayStatus(code=status.text("code"), message=status.text("message")),
            session_id=info.optional("sessionId"), data=_first_element(response.node.find("responseData/data")),
            signer=signer, attempts=attempts)


def read_send_receipt(payload: etree._Element) -> SendReceipt:
    """A ``sendMessageResponse``: the messageId under which the gateway queued the message."""
    with _model("sendMessage"):
        response = _response(payload, ASYNC_INTERFACES_NS, "sendMessage")
        return SendReceipt(message_id=response.text("messageId"), response_date=response.datetime("responseDate"),
                           session_id=response.optional("sessionId"))


def read_message_status(payload: etree._Element) -> MessageStatus:
    """A ``getMessageStatusResponse``: the message's state and its delivery status."""
    with _model("getMessageStatus"):
        response = _response(payload, ASYNC_INTERFACES_NS, "getMessageStatus")
        return _status(response, response.text("messageState"))


def read_delivery_ack(payload: etree._Element) -> MessageStatus:
    """A ``sendDeliveryNotificationResponse``: the acknowledged message, now DELIVERED."""
    with _model("sendDeliveryNotification"):
        return _status(_response(payload, ASYNC_INTERFACES_NS, "sendDeliveryNotification"), "DELIVERED")


def read_messages(payload: etree._Element) -> list[AsyncMessage]:
    """A ``getMessagesResponse``: the messages waiting, in the answer's order."""
    with _model("getMessages"):
        response = _response(payload, ASYNC_INTERFACES_NS, "getMessages")
        response.datetime("responseDate")  # an answer whose date cannot be read is not a valid answer
        return [_message(item) for item in response.subs("messages")]


def require_selected(found: list[AsyncMessage], *, service_id: str | None, message_type: str | None,
                     correlation_id: str | None, max_count: int | None) -> None:
    """Every message a ``getMessages`` answer holds is one the request selected: of ``service_id``,
    ``message_type`` and ``correlation_id`` where given, and no more than ``max_count`` of them;
    else :class:`MismatchedAnswerError` naming the filter."""
    what = "getMessages answer"
    if max_count is not None and len(found) > max_count:
        raise MismatchedAnswerError(what, "maxCount", str(max_count))
    for message in found:
        if service_id is not None:
            require_match(what, "serviceId", service_id, message.service_id)
        if message_type is not None:
            require_match(what, "messageType", message_type, message.message_type)
        if correlation_id is not None:
            require_match(what, "correlationId", correlation_id, message.correlation_id)


# --------------------------------------------------------------------------- parts

class _Node:
    """The unqualified children of one element of a schema-valid answer, read by name."""

    __slots__ = ("node", "path")

    def __init__(self, node: etree._Element, path: str) -> None:
        self.node = node
        self.path = path

    def _child(self, name: str) -> etree._Element:
        found = self.node.find(name)
        if found is None:  # the schema requires it: only a schema the reader does not match gets here
            raise InvalidResponseError(f"{self.path}: {name} is missing", field=name)
        return found

    def text(self, name: str) -> str:
        return self._child(name).text or ""

    def optional(self, name: str) -> str | None:
        found = self.node.find(name)
        return None if found is None else found.text or None

    def datetime(self, name: str) -> dt.datetime:
        text = self.text(name)
        try:
            value = dt.datetime.fromisoformat(text.strip())
        except ValueError as exc:
            raise InvalidResponseError(f"{self.path}: {name} {text!r} is not a date and time this reader can hold",
                                       field=name) from exc
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)

    def sub(self, name: str) -> _Node:
        return _Node(self._child(name), f"{self.path}/{name}")

    def subs(self, name: str) -> list[_Node]:
        return [_Node(found, f"{self.path}/{name}") for found in self.node.iterfind(name)]


def _response(payload: etree._Element, namespace: str, operation: str) -> _Node:
    """The ``response`` of ``<operation>Response``; any other payload is refused."""
    expected = f"{{{namespace}}}{operation}Response"
    if payload.tag != expected:
        raise InvalidResponseError(f"{operation} answer: expected {operation}Response, got "
                                   f"{etree.QName(payload).localname}", field=f"{operation}Response")
    return _Node(payload, f"{operation}Response").sub("response")


def _status(response: _Node, state: str) -> MessageStatus:
    status = response.sub("status")
    return MessageStatus(message_id=response.text("messageId"), state=cast(Any, state),
                         status_code=status.text("statusCode"), status_message=status.text("statusMessage"),
                         status_date=status.datetime("statusDate"), response_date=response.datetime("responseDate"))


def _message(item: _Node) -> AsyncMessage:
    # texts the model judges (cast): a messageType outside the Literal, a missing messageId
    info = item.sub("messageInfo")
    return AsyncMessage(
        message_id=cast(Any, info.optional("messageId")), correlation_id=info.optional("correlationId"),
        service_id=info.text("serviceId"), message_type=cast(Any, info.text("messageType")),
        message_date=info.datetime("messageDate"), sender_id=info.sub("sender").text("senderId"),
        route_id=info.optional("routeId"),
        properties={prop.text("key"): prop.optional("value") or "" for prop in info.subs("properties")},
        data=_first_element(item.node.find("messageData/data")))


def _first_element(holder: etree._Element | None) -> etree._Element | None:
    if holder is None:
        return None
    for child in holder:
        if isinstance(child.tag, str):
            return copy.deepcopy(child)
    return None


@contextmanager
def _model(operation: str) -> Iterator[None]:
    """A value the model refuses is an :class:`InvalidResponseError` naming the field."""
    try:
        yield
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidResponseError(f"{operation} answer: {field}: {first['msg']}", field=field) from exc
