"""The ShEP proxy: a ministry system's unsigned gateway message, signed, sent, verified, answered.

As an X-Road security server does for its organisation: the system posts the gateway's own
``SendMessage`` (or async ``sendMessage`` / ``getMessageStatus``) without a signature; the proxy
checks it (:mod:`service.shep_wire`), checks that the caller may use that serviceId, and sends it
with the organisation's :class:`~adapters.egov_gateway.GatewayClient`: WS-Security signature and
our sender credentials on every attempt, the retry policy with **the same messageId on every
attempt** (the gateway deduplicates by it), the circuit breaker, and one exchange-journal row per
attempt. The answer's transport signature is verified before anything is handed back.

What the system gets back (``docs/codes.md``):

- the verified answer, as the gateway's ``SendMessageResponse``;
- a gateway *status* code other than SCSS001 (channel "status"): the same answer element with that
  status, HTTP 200 — also when the retries were used up on a retryable status such as SCE009;
- a gateway *fault* code (channel "fault"): a SOAP Fault with the gateway's code;
- anything else (network, refused answer signature, circuit open, retries used up on a network
  failure...): a SOAP Fault with the project's code (``EGOV4xx``), ``retryable`` in ``errorData``.

The caller's ``sender/password`` is never forwarded (the service uses its own); a ``senderId``
other than the organisation's is refused with ``SCE002``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from adapters.core.clock import Clock
from adapters.core.errors import EgovError, RetriesExhaustedError
from adapters.core.logs import bind_ids
from adapters.core.trust.subject import SignerInfo
from adapters.egov_gateway import GatewayClient, GatewayFaultError, StatusCodeError
from service.auth import authorise
from service.callers import Caller
from service.error_responses import http_status
from service.errors import ServiceError
from service.headers import ATTEMPTS, MESSAGE_ID, SIGNER, header_value
from service.shep_wire import (
    Channel,
    ProxyRequest,
    SenderRefused,
    fault,
    message_status_answer,
    read_request,
    send_receipt_answer,
    status_answer,
    verified_answer,
)


@dataclass(frozen=True)
class ProxyAnswer:
    """What goes back to the system: the SOAP body, its HTTP status, and informative headers."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def permission_for(request: ProxyRequest) -> str:
    """``shep:<serviceId>`` to send; ``shep_async:getMessageStatus`` to ask for a status."""
    if request.operation == "getMessageStatus":
        return "shep_async:getMessageStatus"
    return f"shep:{request.service_id}"


def fault_status(error: EgovError) -> int:
    """HTTP status of a Fault: the service's own refusals keep theirs (401, 403, 413...), the rest 500."""
    return http_status(error) if isinstance(error, ServiceError) else 500


def fault_answer(operation: str, error: EgovError, *, now: dt.datetime, request_id: str | None) -> ProxyAnswer:
    """``error`` as a SOAP Fault of ``operation``."""
    return ProxyAnswer(fault(operation, error, now=now, request_id=request_id), fault_status(error))


def _gateway_error(exc: EgovError) -> EgovError:
    """The error whose code the system sees: the gateway's own code when the retries ended on it."""
    if isinstance(exc, RetriesExhaustedError) and isinstance(exc.last, GatewayFaultError | StatusCodeError):
        return exc.last
    return exc


class ShepProxy:
    """Stateless apart from the gateway client it sends through; safe to share across threads."""

    def __init__(self, gateway: GatewayClient, clock: Clock) -> None:
        self.gateway = gateway
        self.clock = clock

    def handle(self, body: bytes, channel: Channel, caller: Caller, *, request_id: str | None = None
               ) -> ProxyAnswer:
        """Read, authorise, send and answer one request (see the module docstring for what comes back).

        Raises only when the request cannot be read (:class:`~service.shep_wire.EnvelopeRefused`,
        ``SCE001``): the route answers that Fault. Every later failure is answered here, as a SOAP
        Fault of the request's operation (:func:`fault_answer`).
        """
        request = read_request(body, channel)
        try:
            authorise(caller, permission_for(request))
            if request.sender_id != self.gateway.sender_id:
                raise SenderRefused(f"senderId {request.sender_id!r} is not this organisation's "
                                    f"({self.gateway.sender_id!r})", sender=request.sender_id)
            with bind_ids(message_id=request.message_id, correlation_id=request.correlation_id,
                          service=request.service_id):
                return self._exchange(request)
        except EgovError as exc:
            return fault_answer(request.operation, exc, now=self.clock.now(), request_id=request_id)

    def _exchange(self, request: ProxyRequest) -> ProxyAnswer:
        try:
            return self._send(request)
        except RetriesExhaustedError as exc:
            error = _gateway_error(exc)
            if isinstance(error, StatusCodeError) and request.operation == "SendMessage":
                return ProxyAnswer(self._status(request, error), 200, {ATTEMPTS: str(exc.attempts)})
            raise error from exc
        except StatusCodeError as exc:
            if request.operation == "SendMessage":
                return ProxyAnswer(self._status(request, exc), 200)
            raise

    def _status(self, request: ProxyRequest, error: StatusCodeError) -> bytes:
        return status_answer(error, message_id=request.message_id or "", correlation_id=request.correlation_id,
                             now=self.clock.now())

    def _send(self, request: ProxyRequest) -> ProxyAnswer:
        if request.operation == "SendMessage":
            assert request.service_id is not None  # the schema requires it
            answer = self.gateway.send_message(
                request.service_id, request.data, correlation_id=request.correlation_id,
                properties=request.properties, message_id=request.message_id, route_id=request.route_id)
            headers = {MESSAGE_ID: answer.message_id, ATTEMPTS: str(answer.attempts)}
            if isinstance(answer.signer, SignerInfo):
                headers[SIGNER] = header_value(answer.signer.describe())
            return ProxyAnswer(verified_answer(answer), 200, headers)
        if request.operation == "sendMessage":
            assert request.service_id is not None
            receipt = self.gateway.send_async(
                request.service_id, request.data, message_type=request.message_type,  # type: ignore[arg-type]
                correlation_id=request.correlation_id, properties=request.properties,
                message_id=request.message_id, route_id=request.route_id)
            return ProxyAnswer(send_receipt_answer(receipt), 200, {MESSAGE_ID: receipt.message_id})
        assert request.message_id is not None
        status = self.gateway.get_message_status(request.message_id)
        return ProxyAnswer(message_status_answer(status), 200, {MESSAGE_ID: status.message_id})
