"""The SOAP front of the gateway simulator: one request in, one answer (or a deliberate fault) out.

Order of processing (each step can end the exchange):

1. maintenance mode → HTTP 503;
2. hardened parse, SOAP structure, operation → SCE001 (SCE011 when over the size limit);
3. schema validation of the Body payload → SCE001;
4. fault injection, ``before`` faults (the backend is not reached);
5. sender lookup (unknown → SCE002), transport signature (SCE005 / SCE006 / SCE007), password
   (SCE002), service permission (SCE003);
6. dedup by messageId: a known messageId gets its stored answer, re-signed; the backend is not called;
7. routing by serviceId (unknown → SCE004) and the backend call; its answer is stored;
8. ``after`` faults and signature faults spoil the way back; otherwise the answer is signed and sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from lxml import etree

from adapters.contracts import ASYNC_INTERFACES_XSD, SYNC_INTERFACES_XSD, schema_errors
from adapters.contracts.gateway_codes import CODES, SUCCESS, code_for_backend_error, lookup, transport_refusal_code
from adapters.contracts.shep import MessageInfo, read_message_info
from adapters.core.clock import Clock
from adapters.core.errors import EgovError, SignatureRefused, UnsafeXmlError, XmlError
from adapters.core.soap import body_of, payload_of, verifier_input
from adapters.core.xmlparse import HUGE_MAX_BYTES, parse_xml
from simulators.common.faults import ANSWER_KINDS, TRANSPORT_KINDS, FaultInjector, FaultSpec, perform
from simulators.common.fifo_gate import FifoGate
from simulators.common.httpserver import Request, Response
from simulators.common.request_journal import RequestJournal
from simulators.common.wire_fault import WireFault
from simulators.egov_gateway import wire
from simulators.egov_gateway.backend import BackendRequest, BackendResponse
from simulators.egov_gateway.state import (
    DELIVERED,
    NOT_DELIVERED,
    AsyncRecord,
    AsyncStore,
    DedupStore,
    RoutingTable,
    SenderAccount,
    SenderRegistry,
    StoredAnswer,
)

log = logging.getLogger(__name__)

XML = "text/xml; charset=utf-8"


class GatewayRefusal(Exception):
    """Internal: ends processing with a SOAP Fault carrying ``code``."""

    def __init__(self, code: str, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


@dataclass
class Exchange:
    """What the journal records about one request."""

    operation: str | None = None
    channel: str | None = None
    service: str | None = None
    message_id: str | None = None
    correlation_id: str | None = None
    sender_id: str | None = None
    outcome: str = "ok"
    fault: FaultSpec | None = None
    backend_called: bool = False
    http_status: int | None = 200


Signer = Callable[[bytes], bytes]


class GatewayFront:
    def __init__(self, *, signer: Signer, expired_signer: Signer, verifier: Any | None, clock: Clock,
                 senders: SenderRegistry, routes: RoutingTable, dedup: DedupStore, async_store: AsyncStore,
                 injector: FaultInjector, journal: RequestJournal, executor: Callable[[], Executor],
                 require_signature: bool = True, cpu_gate: FifoGate | None = None,
                 base_url: Callable[[], str] = lambda: "http://127.0.0.1") -> None:
        """``base_url``: the gateway's public base URL, written into the WSDL and schemas it serves
        (never a request's ``Host``)."""
        self._base_url = base_url
        self._sign = signer
        self._sign_expired = expired_signer
        self._verifier = verifier
        self._clock = clock
        self.senders = senders
        self.routes = routes
        self.dedup = dedup
        self.async_store = async_store
        self.injector = injector
        self.journal = journal
        self._executor = executor
        self.require_signature = require_signature
        self._gate = cpu_gate if cpu_gate is not None else FifoGate()

    # ------------------------------------------------------------------ HTTP entry points

    def handle_post(self, req: Request) -> Response | WireFault:
        started = time.perf_counter()
        ex = Exchange()
        try:
            response = self._process(req, ex)
        except Exception as exc:  # a simulator bug: answer SCE909 rather than drop the exchange
            log.exception("gateway simulator failed on %s", ex.operation)
            ex.outcome = "fault:SCE909"
            response = self._fault(ex, "SCE909", f"internal error: {exc}")
        ex.http_status = response.status if isinstance(response, Response) else None
        self.journal.record(method=req.method, path=req.path, service=ex.service, operation=ex.operation,
                            message_id=ex.message_id, correlation_id=ex.correlation_id, sender_id=ex.sender_id,
                            outcome=ex.outcome, fault=ex.fault.kind if ex.fault else None,
                            fault_when=ex.fault.when if ex.fault else None, http_status=ex.http_status,
                            backend_called=ex.backend_called,
                            duration_ms=round((time.perf_counter() - started) * 1000, 3))
        return response

    # ------------------------------------------------------------------ pipeline

    def _now(self) -> dt.datetime:
        return self._clock.now()

    def _fault(self, ex: Exchange, code: str, message: str, data: str | None = None) -> Response:
        body = wire.fault_response(ex.operation or "SendMessage", code, message, now=self._now(), error_data=data)
        return Response.xml(body, 500)

    def _process(self, req: Request, ex: Exchange) -> Response | WireFault:
        if self.injector.maintenance:
            ex.outcome = "maintenance"
            return Response(503, b"gateway in maintenance", {"Content-Type": "text/plain", "Retry-After": "1"})
        with self._gate.hold():  # CPU-bound: parse, identify, schema check
            try:
                envelope = parse_xml(req.body, what="request", max_bytes=HUGE_MAX_BYTES, allow_huge=True)
                payload = payload_of(body_of(envelope, what="request"), what="request")
            except UnsafeXmlError as exc:
                code = "SCE011" if exc.context.get("reason") == "size-limit" else "SCE001"
                ex.outcome = f"fault:{code}"
                return self._fault(ex, code, exc.message)
            except (XmlError, EgovError) as exc:
                ex.outcome = "fault:SCE001"
                return self._fault(ex, "SCE001", exc.message)
            op = wire.operation_of(payload)
            if op is None:
                ex.outcome = "fault:SCE001"
                return self._fault(ex, "SCE001", f"unknown operation element {payload.tag}")
            ex.channel, ex.operation = op
            ids = wire.peek_ids(payload)
            ex.message_id, ex.correlation_id = ids["message_id"], ids["correlation_id"]
            ex.service, ex.sender_id = ids["service"], ids["sender_id"]
            errors = schema_errors(SYNC_INTERFACES_XSD if ex.channel == "sync" else ASYNC_INTERFACES_XSD, payload)
            if errors:
                ex.outcome = "fault:SCE001"
                return self._fault(ex, "SCE001", f"request does not match the schema: {errors[0]}",
                                   "; ".join(errors[:5]))

        spec = self.injector.pick(ex.service, ex.operation)
        if spec is not None:
            ex.fault = spec
            self.injector.delay(spec)
            if spec.when == "before" and spec.kind != "latency":
                return self._before_fault(ex, spec)

        try:
            with self._gate.hold():  # CPU-bound: signature, chain (revocation answers are cached)
                verified_payload = self._authenticate(req, ex, payload, envelope)
                info = read_message_info(verified_payload, ex.operation)
                self._authorize(info)
            if ex.channel == "sync":
                answer, status = self._sync(ex, info)
            else:
                answer, status = self._async(ex, info)
        except GatewayRefusal as refusal:
            ex.outcome = f"fault:{refusal.code}"
            if spec is not None and spec.when == "after" and spec.kind in TRANSPORT_KINDS:
                return self._after_fault(ex, spec, self._fault(ex, refusal.code, refusal.message).body)
            return self._fault(ex, refusal.code, refusal.message, refusal.data)
        if ex.outcome == "ok" and status != SUCCESS:
            ex.outcome = f"status:{status}"
        if spec is not None and (spec.when == "after" or spec.kind in ANSWER_KINDS) and spec.kind != "latency":
            return self._after_fault(ex, spec, answer)
        with self._gate.hold():
            return Response.xml(self._sign(answer))

    # ------------------------------------------------------------------ security

    def _authenticate(self, req: Request, ex: Exchange, payload: etree._Element,
                      envelope: etree._Element) -> etree._Element:
        """Verify the transport signature; return the payload of the Body that was verified.

        The verifier gets the envelope already parsed when its own parse could not differ
        (:func:`adapters.core.soap.verifier_input`), the bytes otherwise.
        """
        account = self.senders.get(ex.sender_id or "")
        if account is None:
            raise GatewayRefusal("SCE002", f"unknown sender {ex.sender_id!r}")
        if self._verifier is None:
            return payload
        kwargs: dict[str, Any] = {"expect_bin": account.bin} if account.bin else {}
        try:
            verified = self._verifier.verify_envelope(verifier_input(req.body, envelope, parsed_huge=True),
                                                      **kwargs)
        except SignatureRefused as exc:
            code = transport_refusal_code(exc.reason)
            raise GatewayRefusal(code, f"{CODES[code].meaning}: {exc.detail}", exc.reason.value) from exc
        body = getattr(verified, "body", None)
        if isinstance(body, etree._Element):
            return payload_of(body, what="request")
        return payload

    def _authorize(self, info: MessageInfo) -> SenderAccount:
        account = self.senders.get(info.sender_id)
        if account is None:
            raise GatewayRefusal("SCE002", f"unknown sender {info.sender_id!r}")
        if account.password is not None and info.password != account.password:
            raise GatewayRefusal("SCE002", f"wrong password for sender {info.sender_id!r}")
        if info.service_id and account.services is not None and info.service_id not in account.services:
            raise GatewayRefusal("SCE003", f"sender {info.sender_id!r} may not call service {info.service_id!r}")
        return account

    # ------------------------------------------------------------------ faults

    def _before_fault(self, ex: Exchange, spec: FaultSpec) -> Response | WireFault:
        ex.outcome = f"injected:{spec.kind}"
        if spec.kind in TRANSPORT_KINDS:
            placeholder = wire.fault_response(ex.operation or "SendMessage", "SCE909", "injected fault",
                                              now=self._now())
            return perform(spec, placeholder, content_type=XML)
        if spec.kind == "soap_fault":
            code = spec.code or "SCE909"
            return self._fault(ex, code, spec.message or lookup(code).meaning)
        if spec.kind == "status_code" and ex.channel == "sync":
            code = spec.code or "SCE009"
            answer = wire.sync_response(message_id=ex.message_id or str(uuid.uuid4()),
                                        correlation_id=ex.correlation_id, session_id=None, status_code=code,
                                        status_message=spec.message or lookup(code).meaning, data=None,
                                        now=self._now())
            return Response.xml(self._sign(answer))
        code = spec.code or "SCE909"
        return self._fault(ex, code, spec.message or lookup(code).meaning)

    def _after_fault(self, ex: Exchange, spec: FaultSpec, answer: bytes) -> Response | WireFault:
        ex.outcome = f"injected:{spec.kind}"
        if spec.kind == "missing_signature":
            return Response.xml(answer)
        if spec.kind == "expired_timestamp":
            return Response.xml(self._sign_expired(answer))
        if spec.kind == "invalid_signature":
            return Response.xml(_tamper(self._sign(answer)))
        if spec.kind == "soap_fault":
            code = spec.code or "SCE909"
            return self._fault(ex, code, spec.message or lookup(code).meaning)
        if spec.kind == "status_code" and ex.channel == "sync":
            code = spec.code or "SCE009"
            changed = wire.sync_response(message_id=ex.message_id or "", correlation_id=ex.correlation_id,
                                         session_id=None, status_code=code,
                                         status_message=spec.message or lookup(code).meaning, data=None,
                                         now=self._now())
            return Response.xml(self._sign(changed))
        if spec.kind in TRANSPORT_KINDS:
            return perform(spec, self._sign(answer), content_type=XML)
        code = spec.code or "SCE909"
        return self._fault(ex, code, spec.message or lookup(code).meaning)

    # ------------------------------------------------------------------ sync channel

    def _call_backend(self, ex: Exchange, breq: BackendRequest) -> BackendResponse:
        backend = self.routes.get(breq.service_id)
        if backend is None:
            raise GatewayRefusal("SCE004", f"service {breq.service_id!r} does not exist")
        ex.backend_called = True
        try:
            return backend.handle(breq)
        except EgovError as exc:
            code = code_for_backend_error(exc)
            if lookup(code).channel == "fault":
                raise GatewayRefusal(code, exc.message) from exc
            return BackendResponse(data=None, status_code=code, status_message=exc.message[:250])

    def _sync(self, ex: Exchange, info: MessageInfo) -> tuple[bytes, str]:
        message_id = info.message_id or ""
        service_id = info.service_id or ""
        with self.dedup.claim(message_id):
            stored = self.dedup.replay(message_id)
            if stored is not None:
                if stored.sender_id != info.sender_id or stored.service_id != service_id:
                    raise GatewayRefusal("SCE008", f"messageId {message_id} was already used by "
                                         f"{stored.sender_id} for {stored.service_id}")
                ex.outcome = "dedup"
                return stored.envelope, stored.status_code
            session_id = info.session_id or str(uuid.uuid4())
            result = self._call_backend(ex, BackendRequest(
                service_id=service_id, message_id=message_id, correlation_id=info.correlation_id,
                sender_id=info.sender_id, properties=dict(info.properties), data=info.data,
                channel="sync", route_id=info.route_id, session_id=session_id))
            answer = wire.sync_response(message_id=message_id, correlation_id=info.correlation_id,
                                        session_id=session_id, status_code=result.status_code,
                                        status_message=result.status_message, data=result.data,
                                        now=self._now())
            if not lookup(result.status_code).retryable:
                self.dedup.put(StoredAnswer(message_id, info.sender_id, service_id, answer, result.status_code,
                                            self._now()))
            return answer, result.status_code

    # ------------------------------------------------------------------ async channel

    def _async(self, ex: Exchange, info: MessageInfo) -> tuple[bytes, str]:
        now = self._now()
        op = ex.operation
        if op == "sendMessage":
            return self._async_send(ex, info), SUCCESS
        if op == "getMessageStatus":
            rec = self.async_store.get(info.message_id or "")
            if rec is None or info.sender_id not in (rec.sender_id, rec.recipient_id):
                raise GatewayRefusal("SCE020", f"no async message {info.message_id!r} for {info.sender_id!r}")
            return wire.async_status_response(rec.message_id, rec.state, rec.status_code, rec.status_message,
                                              rec.status_date or rec.created, now), SUCCESS
        if op == "getMessages":
            max_count = int(info.properties.get("maxCount") or 0) or None
            records = self.async_store.pending_for(info.sender_id, service_id=info.service_id,
                                                   message_type=info.message_type or None,
                                                   correlation_id=info.correlation_id, max_count=max_count)
            out = [wire.OutgoingAsyncMessage(r.message_id, r.correlation_id, r.service_id, r.message_type,
                                             r.sender_id, r.created, r.data, r.route_id, r.properties)
                   for r in records]
            return wire.async_messages_response(out, now), SUCCESS
        # sendDeliveryNotification
        message_id = info.message_id or ""

        def ack(rec: AsyncRecord) -> None:
            if rec.state != DELIVERED:
                rec.state = DELIVERED
                rec.status_code, rec.status_message, rec.status_date = SUCCESS, "Delivered to recipient", now

        current = self.async_store.get(message_id)
        if current is None or current.recipient_id != info.sender_id:
            raise GatewayRefusal("SCE020", f"no async message {message_id!r} for {info.sender_id!r}")
        self.async_store.update(message_id, ack)
        return wire.async_ack_response(message_id, SUCCESS, "Delivery acknowledged", now), SUCCESS

    def _async_send(self, ex: Exchange, info: MessageInfo) -> bytes:
        service_id = info.service_id or ""
        if self.routes.get(service_id) is None:
            raise GatewayRefusal("SCE004", f"service {service_id!r} does not exist")
        if info.message_type != "REQUEST" and not info.correlation_id:
            raise GatewayRefusal("SCE001", f"a {info.message_type} message needs a correlationId")
        now = self._now()
        message_id = info.message_id or self.async_store.new_id()
        ex.message_id = message_id
        with self.dedup.claim(message_id):
            if self.async_store.get(message_id) is not None:
                ex.outcome = "dedup"
                return wire.async_send_response(message_id, now)
            data = etree.tostring(info.data) if info.data is not None else None
            self.async_store.add(AsyncRecord(
                message_id=message_id, correlation_id=info.correlation_id, service_id=service_id,
                message_type=info.message_type, sender_id=info.sender_id, recipient_id=None, data=data,
                created=now, route_id=info.route_id, properties=dict(info.properties),
                status_message="Accepted, on delivery to the service", status_date=now))
        ex.backend_called = True
        self._executor().submit(self._deliver, message_id, info)
        return wire.async_send_response(message_id, now)

    def _deliver(self, message_id: str, info: MessageInfo) -> None:
        """Worker: hand an async message to its backend and queue the answer for the sender."""
        service_id = info.service_id or ""
        backend = self.routes.get(service_id)
        now = self._now()
        if backend is None:
            self._set_state(message_id, NOT_DELIVERED, "SCE004", f"service {service_id!r} does not exist")
            return
        try:
            result = backend.handle(BackendRequest(
                service_id=service_id, message_id=message_id, correlation_id=info.correlation_id,
                sender_id=info.sender_id, properties=dict(info.properties), data=info.data,
                message_type=info.message_type, channel="async", route_id=info.route_id))
        except EgovError as exc:
            code = code_for_backend_error(exc)
            self._set_state(message_id, NOT_DELIVERED, code, exc.message)
            return
        except Exception as exc:
            log.exception("async backend %s failed", service_id)
            self._set_state(message_id, NOT_DELIVERED, "SCE909", f"internal error: {exc}")
            return
        self._set_state(message_id, DELIVERED, result.status_code, result.status_message)
        if info.message_type == "REQUEST":
            self.async_store.add(AsyncRecord(
                message_id=self.async_store.new_id(), correlation_id=message_id, service_id=service_id,
                message_type="RESPONSE", sender_id=service_id, recipient_id=info.sender_id,
                data=etree.tostring(result.data) if result.data is not None else None, created=now,
                properties={"statusCode": result.status_code}, status_date=now))

    def _set_state(self, message_id: str, state: str, code: str, message: str) -> None:
        now = self._now()

        def apply(rec: AsyncRecord) -> None:
            rec.state, rec.status_code, rec.status_message, rec.status_date = state, code, message[:250], now

        self.async_store.update(message_id, apply)


def _tamper(signed: bytes) -> bytes:
    """Change the signed Body after signing (what a man in the middle would do)."""
    root = parse_xml(signed, what="answer to tamper")
    body = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    if body is not None:
        for name in ("message", "statusMessage", "responseDate", "code"):
            found = next((el for el in body.iter(name) if el.text), None)
            if found is not None:
                found.text = f"{found.text} (tampered)"
                break
        else:
            etree.SubElement(body[0] if len(body) else body, "tampered").text = "1"
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
