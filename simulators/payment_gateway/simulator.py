"""The payment gateway simulator: a SOAP endpoint, a control API and fault injection on one server.

Routes (all on 127.0.0.1):

- ``POST {path}`` (default ``/pshep/``): the SOAP 1.1 endpoint of ``wsdl/payment/pshep.wsdl``;
- ``/_control/payments...``: the bank's side for QA (see :mod:`simulators.payment_gateway.control`);
- ``/_control/faults...``: the shared fault-injection API (service name ``pshep``, operation = the
  SOAP operation, e.g. ``CreatePaymentOrder``);
- ``/_control/journal``: the request journal.

Only registered senders are served (:meth:`PaymentGatewaySimulator.add_sender`; see
:mod:`simulators.payment_gateway.senders`), each on its own orders only. Requests are verified
(WS-Security) when a ``verifier`` is given, and their certificate must then carry the sender's BIN
(without a verifier, tests only, neither the signature nor the BIN is checked); responses are
signed when a ``signer`` is given; receipts are signed with ``receipt_signer`` (default: ``signer``) when the
order is paid, and stored, so every later GetReceipt returns the same signed document.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from lxml import etree

from adapters.core.clock import SYSTEM_CLOCK, Clock, FrozenClock
from adapters.core.errors import EgovError, IdentifierError, RefusalReason, SignatureRefused, XmlError
from adapters.core.identifiers import parse_identifier
from adapters.core.soap import body_of, payload_of, serialize, verifier_input
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import SigningService, VerificationService
from simulators.common.contract import install_contract
from simulators.common.control_guard import ControlGuard, new_control_token
from simulators.common.faults import TRANSPORT_KINDS, FaultInjector, FaultSpec, install_fault_control, perform
from simulators.common.httpserver import Request, Response, Router, SimServer
from simulators.common.limits import DEFAULT_LIMITS, ConnectionLimits
from simulators.common.request_journal import RequestJournal, install_journal_control
from simulators.common.wire_fault import WireFault
from simulators.payment_gateway import wire
from simulators.payment_gateway.control import install_payment_control
from simulators.payment_gateway.errors import PaymentRefusal
from simulators.payment_gateway.senders import SenderAccount, SenderRegistry, sender_refused
from simulators.payment_gateway.state import OrderDetails, PaymentStore, StoredOrder

log = logging.getLogger(__name__)

SERVICE = "pshep"
"""Service name of this simulator in fault specs and the request journal."""


class PaymentGatewaySimulator:
    """State (:class:`PaymentStore`), wire (:mod:`wire`), control API, faults. Start, use, stop.

    ``control_token``: the control API's token (a new random one when absent: :attr:`control_token`);
    ``host``, ``port``: where to listen (127.0.0.1, a free port); ``public_url``: the base URL
    clients use (the listening one when absent); ``limits``: what clients may take of the server.
    """

    def __init__(self, *, signer: SigningService | None = None, receipt_signer: SigningService | None = None,
                 verifier: VerificationService | None = None, clock: Clock = SYSTEM_CLOCK,
                 auto_pay_after: dt.timedelta | None = None, db_path: str = ":memory:", path: str = "/pshep/",
                 injector: FaultInjector | None = None, journal: RequestJournal | None = None,
                 port: int = 0, host: str = "127.0.0.1", control_token: str | None = None,
                 public_url: str | None = None, limits: ConnectionLimits = DEFAULT_LIMITS) -> None:
        self.control_token = control_token or new_control_token()
        self.signer = signer
        self.receipt_signer = receipt_signer or signer
        self.verifier = verifier
        self.clock = clock
        self.path = path
        self.store = PaymentStore(db_path, clock=clock, auto_pay_after=auto_pay_after,
                                  receipt_factory=self._receipt)
        self.senders = SenderRegistry()
        """Who may call; empty until :meth:`add_sender` (a simulator without senders refuses everyone)."""
        self.faults = injector or FaultInjector()
        self.journal = journal or RequestJournal(clock=clock)
        self.router = Router(control=ControlGuard(self.control_token), system="payment_gateway")
        self.router.add("POST", path, self.handle_soap)
        install_contract(self.router, (path,), "wsdl/payment/pshep.wsdl", "schemas/payment", lambda: self.url)
        install_payment_control(self.router, self)
        install_fault_control(self.router, self.faults)
        install_journal_control(self.router, self.journal)
        self._server = SimServer(self.router, name="payment-gateway", host=host, port=port, limits=limits,
                                 public_url=public_url)

    def add_sender(self, sender_id: str, password: str, *, bin: str) -> SenderAccount:
        """Register a sender: its id, its password, and the BIN its signing certificate carries."""
        return self.senders.add(sender_id, password, bin=bin)

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def endpoint_url(self) -> str:
        """The SOAP endpoint, for ``PaymentGatewayClient``."""
        return self._server.url + self.path

    def start(self) -> PaymentGatewaySimulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self.store.close()

    def __enter__(self) -> PaymentGatewaySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Empty store, no faults, empty journal (the auto-pay delay is kept)."""
        self.store.reset()
        self.faults.reset()
        self.journal.reset()

    # ------------------------------------------------------------------ SOAP endpoint

    def handle_soap(self, req: Request) -> Response | WireFault:
        started = time.monotonic()
        record: dict[str, Any] = {"method": req.method, "path": req.path, "service": SERVICE}
        if self.faults.maintenance:
            self.journal.record(**record, outcome="http:503", http_status=503)
            return Response.text("payment gateway under maintenance", 503)
        try:  # parsed once: the journal's peek, the signature and the payload all read this tree
            root: etree._Element | XmlError = parse_xml(req.body, what="payment gateway request")
        except XmlError as exc:
            root = exc
        operation, message_id = _peek(root)
        record.update(operation=operation, message_id=message_id)
        spec = self.faults.pick(SERVICE, operation)
        if spec is not None:
            self.faults.delay(spec)
            record.update(fault=spec.kind, fault_when=spec.when)
        if spec is not None and spec.when == "before" and spec.kind != "latency":
            record["outcome"] = f"injected:{spec.kind}"
            self._journal(record, started)
            return self._inject_before(spec)

        envelope, backend_called = self._process(req.body, root)
        record["backend_called"] = backend_called
        if spec is not None and spec.when == "after" and spec.kind != "latency":
            record["outcome"] = f"injected:{spec.kind}"
            self._journal(record, started)
            return self._inject_after(spec, envelope)
        record["outcome"] = "ok" if envelope[1] is None else f"fault:{envelope[1]}"
        self._journal(record, started)
        return Response.xml(self._finish(envelope[0], fault=envelope[1] is not None),
                            status=500 if envelope[1] is not None else 200)

    def _process(self, body: bytes,
                 root: etree._Element | XmlError) -> tuple[tuple[etree._Element, str | None], bool]:
        """Run the request (``root``: ``body`` parsed, or why it could not be); returns ((answer
        envelope, fault code or None), reached the business logic).

        Order: well-formed XML → transport signature → schema → the sender (registered, its
        password, its certificate's BIN) → the operation on the sender's own orders.
        """
        now = self.clock.now()
        reached = False
        try:
            if isinstance(root, XmlError):
                raise root
            signer_bin = self._verify(verifier_input(body, root, parsed_huge=False)) \
                if self.verifier is not None else None
            payload = payload_of(body_of(root, what="request"), what="request")
            request = wire.read_request(payload)
            owner = self._authenticate(request, signer_bin)
            reached = True
            return (wire.envelope(self._dispatch(request, owner, now)), None), True
        except PaymentRefusal as exc:
            return (wire.fault_envelope(exc, now), exc.error_code), reached
        except (XmlError, EgovError) as exc:
            refusal = PaymentRefusal("PSE001", f"message does not match the format: {exc}")
            return (wire.fault_envelope(refusal, now), refusal.error_code), reached
        except Exception as exc:  # simulator bug: answer like the real one would, PSE909
            log.exception("payment gateway simulator failed")
            refusal = PaymentRefusal("PSE909", f"internal error: {exc}", server=True)
            return (wire.fault_envelope(refusal, now), refusal.error_code), reached

    def _verify(self, envelope: bytes | etree._Element) -> str | None:
        """Verify the transport signature; the BIN of the signing certificate (None when it has none)."""
        assert self.verifier is not None
        try:
            verified = self.verifier.verify_envelope(envelope)
        except SignatureRefused as exc:
            code = {RefusalReason.MISSING_SIGNATURE: "PSE017", RefusalReason.TIMESTAMP_EXPIRED: "PSE015",
                    RefusalReason.TIMESTAMP_MISSING: "PSE017"}.get(exc.reason, "PSE016")
            raise PaymentRefusal(code, f"transport signature refused: {exc.detail}") from exc
        return verified.signer.bin

    def _authenticate(self, request: wire.ParsedRequest, signer_bin: str | None) -> str:
        """The calling sender's id: registered, its password, and (when signatures are verified) a
        signing certificate of its BIN; PSE008, one answer for every failure, otherwise."""
        account = self.senders.authenticate(request.sender_id, request.password)
        if self.verifier is not None and signer_bin != account.bin:
            raise sender_refused(request.sender_id)
        return account.sender_id

    def _dispatch(self, request: wire.ParsedRequest, owner: str, now: dt.datetime) -> etree._Element:
        p = request.payload
        if request.operation == "CreatePaymentOrder":
            details = wire.read_order_details(p)
            _check_details(details)
            order, created = self.store.create(details, owner)
            return wire.order_response("CreatePaymentOrder", order, now, created=created)
        if request.operation == "GetPaymentStatus":
            return wire.order_response("GetPaymentStatus", self.store.get_owned(wire.read_key(p), owner), now)
        if request.operation == "CancelPaymentOrder":
            return wire.order_response("CancelPaymentOrder",
                                       self.store.cancel(wire.read_key(p), owner, wire.read_reason(p)), now)
        # GetReceipt
        order = self.store.get_owned(wire.read_key(p), owner)
        if order.status not in ("PAID", "REFUNDED") or order.receipt_xml is None:
            raise PaymentRefusal("PSE007", f"order {order.order_id} is {order.status}: no receipt",
                                 order=order.order_id)
        receipt = parse_xml(order.receipt_xml, what="stored receipt")
        return wire.receipt_response(receipt, now)

    def _receipt(self, order: StoredOrder) -> bytes:
        doc = wire.receipt_document(order)
        if self.receipt_signer is None:
            return bytes(etree.tostring(doc, encoding="UTF-8"))
        return self.receipt_signer.sign_document(doc)

    def _finish(self, envelope: etree._Element, *, fault: bool = False, clock: Clock | None = None) -> bytes:
        """Serialize, signed when a signer is configured (Faults go unsigned, like the gateway's)."""
        if self.signer is None or fault:
            return serialize(envelope)
        signer = self.signer if clock is None else SigningService(self.signer.backend, self.signer.config,
                                                                   clock=clock)
        return signer.sign_envelope(envelope)

    # ------------------------------------------------------------------ faults

    def _inject_before(self, spec: FaultSpec) -> Response | WireFault:
        now = self.clock.now()
        if spec.kind in ("soap_fault", "status_code"):
            code = spec.code or "PSE909"
            refusal = PaymentRefusal(code, spec.message or "injected fault", server=code == "PSE909")
            return Response.xml(serialize(wire.fault_envelope(refusal, now)), status=500)
        if spec.kind in TRANSPORT_KINDS:
            placeholder = serialize(wire.fault_envelope(PaymentRefusal("PSE909", "injected", server=True), now))
            return perform(spec, placeholder)
        # a signature kind is always "after" (FaultSpec forces it)
        return Response.text(f"fault kind {spec.kind} cannot be applied before processing", 500)

    def _inject_after(self, spec: FaultSpec,
                      answer: tuple[etree._Element, str | None]) -> Response | WireFault:
        envelope, fault = answer
        if spec.kind == "missing_signature":
            return Response.xml(serialize(envelope), status=500 if fault else 200)
        if spec.kind == "expired_timestamp":
            past = FrozenClock(self.clock.now() - dt.timedelta(hours=2))
            return Response.xml(self._finish(envelope, clock=past), status=500 if fault else 200)
        if spec.kind == "invalid_signature":
            signed = parse_xml(self._finish(envelope), what="answer")
            _tamper(signed)
            return Response.xml(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
        if spec.kind in ("soap_fault", "status_code"):
            return self._inject_before(spec)
        return perform(spec, self._finish(envelope, fault=fault is not None))

    def _journal(self, record: dict[str, Any], started: float) -> None:
        self.journal.record(**record, duration_ms=(time.monotonic() - started) * 1000.0)


def _check_details(details: OrderDetails) -> None:
    try:
        parse_identifier(details.payer_iin_bin, "payer/iinBin")
    except IdentifierError as exc:
        raise PaymentRefusal("PSE002", f"payer IIN/BIN {details.payer_iin_bin}: {exc.reason}") from exc
    if details.currency != "KZT":
        raise PaymentRefusal("PSE003", f"currency {details.currency} is not accepted; KZT only")


def _peek(root: etree._Element | XmlError) -> tuple[str | None, str | None]:
    """Operation and messageId for fault matching and the journal, without failing on bad input."""
    if isinstance(root, XmlError):
        return None, None
    try:
        payload = payload_of(body_of(root))
    except EgovError:
        return None, None
    op = etree.QName(payload).localname
    return op, (payload.findtext(f"{{{wire.PAY_NS}}}requestInfo/{{{wire.PAY_NS}}}messageId") or None)


def _tamper(envelope: etree._Element) -> None:
    """Change the signed Body after signing: the first text node in the payload gets an extra char."""
    body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    if body is None:
        return
    for el in body.iter():
        if isinstance(el.tag, str) and el.text and el.text.strip() and len(el) == 0:
            el.text = el.text + "0" if el.text[-1].isdigit() else el.text + "x"
            return
