"""The e-Government gateway (ShEP) adapter: sync ``SendMessage`` and the async channel.

Each call builds its request with :mod:`adapters.egov_gateway.messages`, signs it
(WS-Security: Timestamp and Body) on every attempt, posts it through
:class:`adapters.core.transport.SoapTransport`, runs the answer through
:class:`adapters.core.soap.ResponsePipeline` (HTTP status → Fault → signature → schema) and reads
it with :mod:`adapters.egov_gateway.answers` (why this way: :mod:`adapters.egov_gateway`). Every
attempt of a call carries the same messageId, so the gateway's deduplication makes retries safe.

Every answer, on every operation, is matched to its request before it is returned: the messageId
it answers (and the correlationId, when one was sent), or, for ``getMessages``, the filters asked
for. A validly signed answer to another message (a replay) is a ``MismatchedAnswerError``.
Answers are read within ``max_answer_bytes`` (the gateway's channels may carry attachments) and
each attempt within its deadline (the transport's ``Timeouts``, capped by the call's own).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from lxml import etree

from adapters.contracts import ASYNC_INTERFACES_XSD, SYNC_INTERFACES_XSD, schema_check
from adapters.contracts.gateway_codes import SUCCESS
from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError, ValidationError
from adapters.core.http import DEFAULT_MAX_RESPONSE_BYTES, Timeouts
from adapters.core.resilience import ResilientCaller, RetryPolicy
from adapters.core.soap import ProcessedResponse, ResponsePipeline, require_match
from adapters.core.transport import SoapTransport
from adapters.egov_gateway import answers, messages
from adapters.egov_gateway.errors import StatusCodeError, map_fault
from adapters.egov_gateway.models import AsyncMessage, MessageStatus, MessageType, SendReceipt, SyncResponse

T = TypeVar("T")

SYSTEM = "egov_gateway"
_MESSAGE_TYPES = ("REQUEST", "RESPONSE", "NOTIFICATION", "UPDATE")


class GatewayClient:
    """Client of the gateway's sync and async channels. Build once, share across threads.

    ``caller`` (a :class:`adapters.core.resilience.ResilientCaller`) runs every call: retries, circuit
    breakers, the exchange journal and metrics; without one, a caller with the default
    :class:`~adapters.core.resilience.RetryPolicy` retries what is worth retrying, as the payment
    gateway's client does (``from_settings`` gives the settings' policy).
    ``expect_bin``: the BIN the gateway's certificate must carry (every answer's transport
    signature); ``max_answer_bytes``: the byte limit of every answer.
    """

    def __init__(self, endpoint_url: str, *, signing: Any, verification: Any, sender_id: str,
                 sender_password: str | None = None, caller: Any | None = None,
                 transport: SoapTransport | None = None, async_endpoint_url: str | None = None,
                 timeouts: Timeouts | None = None, clock: Clock = SYSTEM_CLOCK,
                 expect_bin: str | None = None, max_answer_bytes: int = DEFAULT_MAX_RESPONSE_BYTES) -> None:
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
        self._sender = messages.Sender(sender_id, sender_password)
        self._signing = signing
        self._caller: Any = caller if caller is not None else ResilientCaller(RetryPolicy())
        self._own_transport = transport is None
        self._transport = transport or SoapTransport(timeouts=timeouts or Timeouts())
        self._clock = clock
        self._max_answer_bytes = max_answer_bytes
        verify_kwargs: dict[str, Any] = {"expect_bin": expect_bin} if expect_bin else {}
        self._sync_pipeline = ResponsePipeline(verification, schema_check(SYNC_INTERFACES_XSD), map_fault,
                                               allow_huge=True, verify_kwargs=verify_kwargs)
        self._async_pipeline = ResponsePipeline(verification, schema_check(ASYNC_INTERFACES_XSD), map_fault,
                                                allow_huge=True, verify_kwargs=verify_kwargs)

    @classmethod
    def from_settings(cls, *, signing: Any, verification: Any, caller: Any | None = None,
                      settings: Any | None = None) -> GatewayClient:
        """The client the settings describe: endpoint, sender, the gateway's BIN, timeouts, the byte
        limit of answers that may carry attachments, and (without ``caller``) the retry policy and
        circuit breakers."""
        from adapters.core.resilience import CircuitBreakerRegistry
        from adapters.core.settings import get_settings

        s = settings or get_settings()
        if caller is None:
            caller = ResilientCaller(RetryPolicy.from_settings(s), CircuitBreakerRegistry(
                s.circuit_failure_threshold, s.circuit_reset_seconds))
        password = s.gateway_sender_password.get_secret_value() if s.gateway_sender_password else None
        return cls(s.gateway_url, signing=signing, verification=verification, sender_id=s.gateway_sender_id,
                   sender_password=password, caller=caller, timeouts=Timeouts.from_settings(s),
                   expect_bin=s.gateway_bin, max_answer_bytes=s.attachment_response_max_bytes)

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
                     route_id: str | None = None, system: str = SYSTEM) -> SyncResponse:
        """Send one message on the sync channel; return the answer when its status is SCSS001.

        ``system``: the system the message is for, as the journal, the metrics and the circuit
        breakers name it (e.g. ``"legal_entities"`` for a register look-up); the gateway by default.

        Raises :class:`TransportError`, :class:`HttpStatusError`, ``GatewayFaultError`` (SOAP Fault),
        ``StatusCodeError`` (any other status), ``ResponseRefusedError`` (bad signature on the
        answer), :class:`InvalidResponseError`, or — with a caller — ``RetriesExhaustedError`` /
        ``CircuitOpenError``.
        """
        if not service_id:
            raise ValidationError("serviceId", "required")
        message_id = message_id or str(uuid.uuid4())
        unsigned = messages.send_message(
            sender=self._sender, message_id=message_id, service_id=service_id, message_date=self._clock.now(),
            correlation_id=correlation_id, route_id=route_id, properties=properties, data=data)

        def attempt(number: int, attempt_timeout: float | None, record: Callable[[bytes, bytes], None]) \
                -> SyncResponse:
            processed = self._exchange(self.endpoint_url, "SendMessage", unsigned, self._sync_pipeline,
                                       attempt_timeout, record)
            signer = getattr(processed.verified, "signer", None)
            response = answers.read_sync_response(processed.payload, signer=signer, attempts=number)
            require_match("SendMessage answer", "messageId", message_id, response.message_id)
            if correlation_id is not None:
                require_match("SendMessage answer", "correlationId", correlation_id, response.correlation_id)
            if response.status.code != SUCCESS:
                raise StatusCodeError(response.status.code, response.status.message, message_id=message_id)
            return response

        return self._run(service_id, "SendMessage", message_id, correlation_id, idempotent, timeout, attempt,
                         system=system)

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
        unsigned = messages.send_async_message(
            sender=self._sender, message_id=message_id, service_id=service_id, message_type=message_type,
            message_date=self._clock.now(), correlation_id=correlation_id, route_id=route_id,
            properties=properties, data=data)

        def attempt(number: int, attempt_timeout: float | None, record: Callable[[bytes, bytes], None]) \
                -> SendReceipt:
            processed = self._exchange(self.async_endpoint_url, "sendMessage", unsigned, self._async_pipeline,
                                       attempt_timeout, record)
            receipt = answers.read_send_receipt(processed.payload)
            require_match("sendMessage answer", "messageId", message_id, receipt.message_id)
            return receipt

        return self._run(service_id, "sendMessage", message_id, correlation_id, True, timeout, attempt)

    def get_message_status(self, message_id: str, *, timeout: float | None = None) -> MessageStatus:
        unsigned = messages.about_message("getMessageStatus", sender=self._sender, message_id=message_id)

        def attempt(number: int, attempt_timeout: float | None, record: Callable[[bytes, bytes], None]) \
                -> MessageStatus:
            processed = self._exchange(self.async_endpoint_url, "getMessageStatus", unsigned,
                                       self._async_pipeline, attempt_timeout, record)
            status = answers.read_message_status(processed.payload)
            require_match("getMessageStatus answer", "messageId", message_id, status.message_id)
            return status

        return self._run("async", "getMessageStatus", message_id, None, True, timeout, attempt)

    def get_messages(self, *, service_id: str | None = None, message_type: MessageType | None = None,
                     correlation_id: str | None = None, max_count: int | None = None,
                     timeout: float | None = None) -> list[AsyncMessage]:
        """Messages waiting for us (not yet acknowledged). Acknowledge each with
        :meth:`send_delivery_notification`, or it is delivered again."""
        unsigned = messages.get_messages(sender=self._sender, service_id=service_id, message_type=message_type,
                                         correlation_id=correlation_id, max_count=max_count)

        def attempt(number: int, attempt_timeout: float | None, record: Callable[[bytes, bytes], None]) \
                -> list[AsyncMessage]:
            processed = self._exchange(self.async_endpoint_url, "getMessages", unsigned, self._async_pipeline,
                                       attempt_timeout, record)
            found = answers.read_messages(processed.payload)
            answers.require_selected(found, service_id=service_id, message_type=message_type,
                                     correlation_id=correlation_id, max_count=max_count)
            return found

        return self._run(service_id or "async", "getMessages", str(uuid.uuid4()), correlation_id, True, timeout,
                         attempt)

    def send_delivery_notification(self, message_id: str, *, timeout: float | None = None) -> MessageStatus:
        unsigned = messages.about_message("sendDeliveryNotification", sender=self._sender, message_id=message_id)

        def attempt(number: int, attempt_timeout: float | None, record: Callable[[bytes, bytes], None]) \
                -> MessageStatus:
            processed = self._exchange(self.async_endpoint_url, "sendDeliveryNotification", unsigned,
                                       self._async_pipeline, attempt_timeout, record)
            ack = answers.read_delivery_ack(processed.payload)
            require_match("sendDeliveryNotification answer", "messageId", message_id, ack.message_id)
            return ack

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
        arrived: list[AsyncMessage] = poll_until(once, deadline=deadline, initial=initial,
                                                 max_interval=max_interval, system=SYSTEM, service=service_id,
                                                 metrics=getattr(self._caller, "metrics", None), **kwargs)
        if acknowledge:
            for msg in arrived:
                self.send_delivery_notification(msg.message_id)
        return arrived

    # ------------------------------------------------------------------ plumbing

    def _exchange(self, url: str, operation: str, unsigned: etree._Element, pipeline: ResponsePipeline,
                  timeout: float | None, record: Callable[[bytes, bytes], None]) -> ProcessedResponse:
        signed = self._signing.sign_envelope(unsigned)  # a copy, with a fresh Timestamp, on every attempt
        record(signed, b"")
        result = self._transport.post(url, signed, soap_action=operation, timeout=timeout,
                                      max_bytes=self._max_answer_bytes)
        record(signed, result.body)
        return pipeline.process(result, what=f"{operation} answer")

    def _run(self, service: str, operation: str, message_id: str, correlation_id: str | None, idempotent: bool,
             timeout: float | None,
             fn: Callable[[int, float | None, Callable[[bytes, bytes], None]], T], *, system: str = SYSTEM) -> T:
        from adapters.core.resilience import Attempt, CallContext

        ctx = CallContext(system=system, service=service, operation=operation, message_id=message_id,
                          correlation_id=correlation_id, idempotent=idempotent, timeout=timeout)

        def one(attempt: Attempt) -> T:
            def record(req: bytes, resp: bytes) -> None:
                attempt.request_bytes = req
                attempt.response_bytes = resp or None

            return fn(attempt.number, attempt.context.timeout, record)

        result: T = self._caller.call(ctx, one)
        return result
