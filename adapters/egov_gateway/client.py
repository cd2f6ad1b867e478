"""The e-Government gateway (ShEP) adapter: sync ``SendMessage`` and the async channel.

zeep is used for what it does well and nothing else: it is built **once** per process from the
packaged WSDL (no network), builds request bodies (``create_message``) and deserializes verified
answers. On the sync ``SendMessage`` hot path zeep renders a request template once and the
answer is read with lxml after the schema check (:mod:`adapters.egov_gateway.fastpath`), with
zeep's own deserialisation as the fallback for anything unusual.

HTTP goes through :class:`adapters.core.transport.SoapTransport` and every answer goes through
:class:`adapters.core.soap.ResponsePipeline` (HTTP status → Fault → signature → schema → model),
never through zeep's own reply handling (which checks signatures before Faults).

Every request is signed (WS-Security, Timestamp, Body) on every attempt; every attempt of a call
carries the same messageId, so the gateway's deduplication makes retries safe.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar, cast

import pydantic
from lxml import etree

from adapters.contracts import (
    ASYNC_INTERFACES_XSD,
    ASYNC_WSDL,
    SYNC_INTERFACES_XSD,
    SYNC_WSDL,
    contract_path,
    schema_check,
)
from adapters.contracts.gateway_codes import SUCCESS
from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError, InvalidResponseError, ValidationError
from adapters.core.soap import ProcessedResponse, ResponsePipeline, build_envelope
from adapters.core.transport import SoapTransport, Timeouts
from adapters.egov_gateway.asyncpath import CallTemplate, fillable, read_messages_answer, read_status_answer
from adapters.egov_gateway.errors import StatusCodeError, map_fault
from adapters.egov_gateway.fastpath import SendMessageTemplate, data_is_plain, read_sync_answer
from adapters.egov_gateway.models import (
    AsyncMessage,
    GatewayStatus,
    MessageStatus,
    MessageType,
    SendReceipt,
    SyncResponse,
)

T = TypeVar("T")

SYSTEM = "egov_gateway"
_MESSAGE_TYPES = ("REQUEST", "RESPONSE", "NOTIFICATION", "UPDATE")


@lru_cache(maxsize=4)
def _zeep_client(wsdl_relative: str) -> Any:
    """The zeep client of a packaged WSDL, parsed once per process (thread-safe to share)."""
    import zeep
    from zeep.transports import Transport

    # Loading a local file never touches the network; the transport is only there so that
    # zeep does not build its own session with no timeout.
    transport = Transport(timeout=5, operation_timeout=5)  # type: ignore[no-untyped-call]
    return zeep.Client(str(contract_path(wsdl_relative)), transport=transport)  # type: ignore[no-untyped-call]


@lru_cache(maxsize=4)
def _send_message_template(wsdl_relative: str) -> SendMessageTemplate:
    """The SendMessage request rendered once by the WSDL's zeep client (see ``fastpath``)."""
    return SendMessageTemplate.from_zeep(_zeep_client(wsdl_relative))


@lru_cache(maxsize=8)
def _call_template(wsdl_relative: str, operation: str) -> CallTemplate:
    """An async-channel request rendered once by the WSDL's zeep client (see ``asyncpath``)."""
    return CallTemplate.from_zeep(_zeep_client(wsdl_relative), operation)


@lru_cache(maxsize=1)
def _zeep_datetime() -> Any:
    """zeep's ``xsd:dateTime`` reader, so that fast-path dates are read exactly as zeep reads them."""
    from zeep.xsd.types.builtins import DateTime

    return DateTime().pythonvalue  # type: ignore[no-untyped-call]


def _operation(client: Any, name: str) -> Any:
    return client.service._binding._operations[name]


def _text(node: Any) -> str | None:
    return None if node is None else str(node)


def _as_utc(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    raise InvalidResponseError(f"expected a dateTime, got {value!r}")


def _first_element(holder: etree._Element | None) -> etree._Element | None:
    if holder is None:
        return None
    for child in holder:
        if isinstance(child.tag, str):
            return copy.deepcopy(child)
    return None


@contextmanager
def _answer_model(operation: str) -> Iterator[None]:
    """An answer that passed the schema but not the model (an empty ``statusMessage``, say) is an
    :class:`InvalidResponseError` naming the field, not pydantic's own exception."""
    try:
        yield
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidResponseError(f"{operation} answer: {field}: {first['msg']}", field=field) from exc


class GatewayClient:
    """Client of the gateway's sync and async channels. Build once, share across threads.

    ``caller`` (a :class:`adapters.core.resilience.ResilientCaller`) adds retries, circuit
    breakers, the exchange journal and metrics; without it each call is one attempt.
    """

    def __init__(self, endpoint_url: str, *, signing: Any, verification: Any, sender_id: str,
                 sender_password: str | None = None, caller: Any | None = None,
                 transport: SoapTransport | None = None, async_endpoint_url: str | None = None,
                 timeouts: Timeouts | None = None, clock: Clock = SYSTEM_CLOCK,
                 expect_bin: str | None = None) -> None:
        if not endpoint_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"gateway endpoint must be an http(s) URL, got {endpoint_url!r}",
                                     setting="gateway_url")
        if signing is None or verification is None:
            raise ConfigurationError("the gateway client signs every request and verifies every answer: "
                                     "signing and verification are required", setting="signing")
        self.endpoint_url = endpoint_url
        self.async_endpoint_url = async_endpoint_url or (
            endpoint_url.replace("bip-sync", "bip-async") if "bip-sync" in endpoint_url else endpoint_url)
        self.sender_id = sender_id
        self._password = sender_password
        self._signing = signing
        self._caller = caller
        self._own_transport = transport is None
        self._transport = transport or SoapTransport(timeouts=timeouts or Timeouts())
        self._clock = clock
        verify_kwargs: dict[str, Any] = {"expect_bin": expect_bin} if expect_bin else {}
        self._sync_pipeline = ResponsePipeline(verification, schema_check(SYNC_INTERFACES_XSD), map_fault,
                                               allow_huge=True, verify_kwargs=verify_kwargs)
        self._async_pipeline = ResponsePipeline(verification, schema_check(ASYNC_INTERFACES_XSD), map_fault,
                                                allow_huge=True, verify_kwargs=verify_kwargs)
        # The sync channel's template is what the first SendMessage needs: built here. The async
        # channel's zeep client is parsed on its first use (``_async``): a process that only sends
        # sync messages never pays for it.
        self._send_template = _send_message_template(SYNC_WSDL)

    @property
    def _sync(self) -> Any:
        """The sync channel's zeep client (built with the client, shared per process)."""
        return _zeep_client(SYNC_WSDL)

    @property
    def _async(self) -> Any:
        """The async channel's zeep client, parsed from the packaged WSDL on first use, then shared per process."""
        return _zeep_client(ASYNC_WSDL)

    @classmethod
    def from_settings(cls, *, signing: Any, verification: Any, caller: Any | None = None,
                      settings: Any | None = None) -> GatewayClient:
        from adapters.core.settings import get_settings

        s = settings or get_settings()
        password = s.gateway_sender_password.get_secret_value() if s.gateway_sender_password else None
        return cls(s.gateway_url, signing=signing, verification=verification, sender_id=s.gateway_sender_id,
                   sender_password=password, caller=caller,
                   timeouts=Timeouts(s.connect_timeout_seconds, s.read_timeout_seconds))

    def close(self) -> None:
        if self._own_transport:
            self._transport.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ sync channel

    def send_message(self, service_id: str, data: etree._Element | None, *, correlation_id: str | None = None,
                     properties: Mapping[str, str] | None = None, message_id: str | None = None,
                     timeout: float | None = None, idempotent: bool = True,
                     route_id: str | None = None) -> SyncResponse:
        """Send one message on the sync channel; return the answer when its status is SCSS001.

        Raises :class:`TransportError`, :class:`HttpStatusError`, ``GatewayFaultError`` (SOAP Fault),
        ``StatusCodeError`` (any other status), ``ResponseRefusedError`` (bad signature on the
        answer), :class:`InvalidResponseError`, or — with a caller — ``RetriesExhaustedError`` /
        ``CircuitOpenError``.
        """
        if not service_id:
            raise ValidationError("serviceId", "required")
        message_id = message_id or str(uuid.uuid4())
        message_date = self._clock.now()
        # the envelope zeep's create_message renders, from the template it rendered once
        built = self._send_template.build(
            message_id=message_id, correlation_id=correlation_id, service_id=service_id,
            message_date=message_date, route_id=route_id, sender_id=self.sender_id, password=self._password,
            properties=properties, data=data)
        # unusual data (comments, CDATA, large) goes to the signer as bytes, re-parsed as it always was
        unsigned: bytes | etree._Element = built if data_is_plain(data) else etree.tostring(built)

        def attempt(number: int, attempt_timeout: float | None, record: Callable[[bytes, bytes], None]) \
                -> SyncResponse:
            processed = self._exchange(self.endpoint_url, "SendMessage", unsigned, self._sync_pipeline,
                                       attempt_timeout, record)
            response = self._sync_response(processed, number)
            if response.message_id != message_id:
                raise InvalidResponseError(f"answer is for messageId {response.message_id}, not {message_id}",
                                           field="messageId")
            if response.status.code != SUCCESS:
                raise StatusCodeError(response.status.code, response.status.message, message_id=message_id)
            return response

        return self._run(service_id, "SendMessage", message_id, correlation_id, idempotent, timeout, attempt)

    # ------------------------------------------------------------------ async channel

    def send_async(self, service_id: str, data: etree._Element | None, *, message_type: MessageType = "REQUEST",
                   correlation_id: str | None = None, properties: Mapping[str, str] | None = None,
                   message_id: str | None = None, timeout: float | None = None,
                   route_id: str | None = None) -> SendReceipt:
        """Queue a message on the async channel. We fill messageId ourselves (the real gateway
        assigns it when empty) so that a retry is recognised as the same message."""
        if message_type not in _MESSAGE_TYPES:
            raise ValidationError("messageType", f"must be one of {', '.join(_MESSAGE_TYPES)}", value=message_type)
        if message_type != "REQUEST" and not correlation_id:
            raise ValidationError("correlationId", f"required for a {message_type} message")
        message_id = message_id or str(uuid.uuid4())
        request = {"message": {
            "messageInfo": {
                "messageId": message_id, "correlationId": correlation_id, "serviceId": service_id,
                "messageType": message_type, "routeId": route_id, "messageDate": self._clock.now(),
                "sender": self._sender(),
                "properties": [{"key": k, "value": v} for k, v in (properties or {}).items()],
            },
            "messageData": {"data": ""},
        }}
        envelope = self._async.create_message(self._async.service, "sendMessage", request=request)
        holder = envelope.find(".//messageData/data")
        if holder is None:  # pragma: no cover
            raise ConfigurationError("AsyncChannel.wsdl did not produce messageData/data")
        holder.text = None
        if data is not None:
            holder.append(copy.deepcopy(data))
        unsigned = etree.tostring(envelope)

        def attempt(number: int, attempt_timeout: float | None, record: Callable[[bytes, bytes], None]) \
                -> SendReceipt:
            processed = self._exchange(self.async_endpoint_url, "sendMessage", unsigned, self._async_pipeline,
                                       attempt_timeout, record)
            result = self._deserialize(self._async, "sendMessage", processed)
            return SendReceipt(message_id=str(result.messageId), response_date=_as_utc(result.responseDate),
                               session_id=_text(result.sessionId))

        return self._run(service_id, "sendMessage", message_id, correlation_id, True, timeout, attempt)

    def get_message_status(self, message_id: str, *, timeout: float | None = None) -> MessageStatus:
        unsigned = self._async_call_body("getMessageStatus", {"messageId": message_id})

        def attempt(number: int, attempt_timeout: float | None, record: Callable[[bytes, bytes], None]) \
                -> MessageStatus:
            processed = self._exchange(self.async_endpoint_url, "getMessageStatus", unsigned,
                                       self._async_pipeline, attempt_timeout, record)
            return self._message_status(processed, "getMessageStatus", None)

        return self._run("async", "getMessageStatus", message_id, None, True, timeout, attempt)

    def get_messages(self, *, service_id: str | None = None, message_type: MessageType | None = None,
                     correlation_id: str | None = None, max_count: int | None = None,
                     timeout: float | None = None) -> list[AsyncMessage]:
        """Messages waiting for us (not yet acknowledged). Acknowledge each with
        :meth:`send_delivery_notification`, or it is delivered again."""
        unsigned = self._async_call_body("getMessages", {
            "serviceId": service_id, "messageType": message_type, "correlationId": correlation_id,
            "maxCount": max_count})

        def attempt(number: int, attempt_timeout: float | None, record: Callable[[bytes, bytes], None]) \
                -> list[AsyncMessage]:
            processed = self._exchange(self.async_endpoint_url, "getMessages", unsigned, self._async_pipeline,
                                       attempt_timeout, record)
            return self._async_messages(processed)

        return self._run(service_id or "async", "getMessages", str(uuid.uuid4()), correlation_id, True, timeout,
                         attempt)

    def send_delivery_notification(self, message_id: str, *, timeout: float | None = None) -> MessageStatus:
        unsigned = self._async_call_body("sendDeliveryNotification", {"messageId": message_id})

        def attempt(number: int, attempt_timeout: float | None, record: Callable[[bytes, bytes], None]) \
                -> MessageStatus:
            processed = self._exchange(self.async_endpoint_url, "sendDeliveryNotification", unsigned,
                                       self._async_pipeline, attempt_timeout, record)
            return self._message_status(processed, "sendDeliveryNotification", "DELIVERED")

        return self._run("async", "sendDeliveryNotification", message_id, None, True, timeout, attempt)

    def poll_messages(self, *, correlation_id: str | None = None, service_id: str | None = None,
                      message_type: MessageType | None = None, deadline: float = 60.0, initial: float = 0.2,
                      max_interval: float = 5.0, acknowledge: bool = True,
                      sleep: Callable[[float], None] | None = None) -> list[AsyncMessage]:
        """Poll ``getMessages`` until at least one matching message arrives (``deadline`` seconds
        from now, raising ``DeadlineExceededError``); acknowledge what was received."""
        from adapters.core.resilience import poll_until

        def once() -> list[AsyncMessage] | None:
            found = self.get_messages(service_id=service_id, message_type=message_type,
                                      correlation_id=correlation_id)
            return found or None

        kwargs: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        messages: list[AsyncMessage] = poll_until(once, deadline=deadline, initial=initial,
                                                  max_interval=max_interval, **kwargs)
        if acknowledge:
            for msg in messages:
                self.send_delivery_notification(msg.message_id)
        return messages

    # ------------------------------------------------------------------ plumbing

    def _sender(self) -> dict[str, str | None]:
        return {"senderId": self.sender_id, "password": self._password}

    def _async_call_body(self, operation: str, request: dict[str, Any]) -> bytes | etree._Element:
        """The unsigned request of a polling call (``request`` without the sender, added here).

        Plain values are filled into the request zeep rendered once (an element, ``xmlns:wsu``
        declared, as the signer would prepare it); anything else is rendered by zeep, as before.
        """
        values = {"sender/senderId": self.sender_id, "sender/password": self._password, **request}
        if fillable(operation, values):
            return _call_template(ASYNC_WSDL, operation).build(values)
        envelope = self._async.create_message(self._async.service, operation,
                                              request={"sender": self._sender(), **request})
        return bytes(etree.tostring(envelope))

    def _exchange(self, url: str, operation: str, unsigned: bytes | etree._Element, pipeline: ResponsePipeline,
                  timeout: float | None, record: Callable[[bytes, bytes], None]) -> ProcessedResponse:
        signed = self._signing.sign_envelope(unsigned)  # a copy, with a fresh Timestamp, on every attempt
        record(signed, b"")
        result = self._transport.post(url, signed, soap_action=operation, timeout=timeout)
        record(signed, result.body)
        return pipeline.process(result, what=f"{operation} answer")

    def _run(self, service: str, operation: str, message_id: str, correlation_id: str | None, idempotent: bool,
             timeout: float | None,
             fn: Callable[[int, float | None, Callable[[bytes, bytes], None]], T]) -> T:
        if self._caller is None:
            return fn(1, timeout, lambda req, resp: None)
        from adapters.core.resilience import Attempt, CallContext

        ctx = CallContext(system=SYSTEM, service=service, operation=operation, message_id=message_id,
                          correlation_id=correlation_id, idempotent=idempotent, timeout=timeout)

        def one(attempt: Attempt) -> T:
            def record(req: bytes, resp: bytes) -> None:
                attempt.request_bytes = req
                attempt.response_bytes = resp or None

            return fn(attempt.number, attempt.context.timeout, record)

        result: T = self._caller.call(ctx, one)
        return result

    @staticmethod
    def _deserialize(client: Any, operation: str, processed: ProcessedResponse) -> Any:
        envelope = build_envelope(copy.deepcopy(processed.payload))
        try:
            return _operation(client, operation).output.deserialize(envelope)
        except Exception as exc:  # zeep raises its own types; the schema already passed
            raise InvalidResponseError(f"{operation} answer cannot be read: {exc}") from exc

    def _sync_response(self, processed: ProcessedResponse, attempts: int) -> SyncResponse:
        fast = read_sync_answer(processed.payload, _zeep_datetime())
        if fast is not None:
            message_id, correlation_id = fast.message_id, fast.correlation_id
            response_date, session_id = fast.response_date, fast.session_id
            status = GatewayStatus(code=fast.status_code, message=fast.status_message)
        else:  # anything the fast reader does not vouch for is read by zeep, as before
            info = self._deserialize(self._sync, "SendMessage", processed).responseInfo
            message_id, correlation_id = str(info.messageId), _text(info.correlationId)
            response_date, session_id = info.responseDate, _text(info.sessionId)
            status = GatewayStatus(code=str(info.status.code), message=str(info.status.message or ""))
        return SyncResponse(
            message_id=message_id, correlation_id=correlation_id, response_date=_as_utc(response_date),
            status=status, session_id=session_id,
            data=_first_element(processed.payload.find("response/responseData/data")),
            signer=getattr(processed.verified, "signer", None), attempts=attempts)

    def _message_status(self, processed: ProcessedResponse, operation: str, state: str | None) -> MessageStatus:
        """``state`` (or, when None, the answer's messageState) and the answer's DeliveryStatus;
        the model judges the texts as it judged zeep's values."""
        with _answer_model(operation):
            return self._read_message_status(processed, operation, state)

    def _read_message_status(self, processed: ProcessedResponse, operation: str, state: str | None) -> MessageStatus:
        fast = read_status_answer(processed.payload, operation, _zeep_datetime())
        if fast is not None:
            return MessageStatus(message_id=str(fast.message_id), state=cast(Any, state or fast.message_state),
                                 status_code=cast(Any, fast.status_code), status_message=cast(Any, fast.status_message),
                                 status_date=_as_utc(fast.status_date), response_date=_as_utc(fast.response_date))
        r = self._deserialize(self._async, operation, processed)  # anything unusual: read by zeep, as before
        return MessageStatus(message_id=str(r.messageId), state=cast(Any, state or r.messageState),
                             status_code=r.status.statusCode, status_message=r.status.statusMessage,
                             status_date=_as_utc(r.status.statusDate), response_date=_as_utc(r.responseDate))

    def _async_messages(self, processed: ProcessedResponse) -> list[AsyncMessage]:
        with _answer_model("getMessages"):
            return self._read_async_messages(processed)

    def _read_async_messages(self, processed: ProcessedResponse) -> list[AsyncMessage]:
        fast = read_messages_answer(processed.payload, _zeep_datetime())
        if fast is not None:
            return [AsyncMessage(
                message_id=str(m.message_id), correlation_id=m.correlation_id, service_id=str(m.service_id),
                message_type=cast(Any, m.message_type), message_date=_as_utc(m.message_date),
                sender_id=str(m.sender_id), route_id=m.route_id,
                properties={str(k): str(v or "") for k, v in m.properties},
                data=_first_element(m.node.find("messageData/data"))) for m in fast]
        r = self._deserialize(self._async, "getMessages", processed)
        nodes = processed.payload.findall("response/messages")
        out: list[AsyncMessage] = []
        for item, node in zip(r.messages or [], nodes, strict=True):
            info = item.messageInfo
            out.append(AsyncMessage(
                message_id=str(info.messageId), correlation_id=_text(info.correlationId),
                service_id=str(info.serviceId), message_type=info.messageType,
                message_date=_as_utc(info.messageDate), sender_id=str(info.sender.senderId),
                route_id=_text(info.routeId),
                properties={str(p.key): str(p.value or "") for p in (info.properties or [])},
                data=_first_element(node.find("messageData/data"))))
        return out
