"""Client of the payment gateway (PShEP): create a fee order, follow it, fetch the signed receipt.

Every call goes through the shared pieces, in the project's one order: ``SoapTransport`` (pooled
HTTP with timeouts) inside ``ResilientCaller`` (retry policy, circuit breaker, journal, metrics),
the request built with lxml (:mod:`adapters.payment_gateway.messages`) and signed by
``SigningService`` (WS-Security), the answer through ``ResponsePipeline`` (HTTP status → Fault →
signature → schema) and read with lxml (:mod:`adapters.payment_gateway.answers`): one way to build
and one way to read, as in every adapter; zeep reads the WSDL in the tests only.

Every answer is matched to its request by the ids the contract echoes: the order asked for
(``orderId``, or our ``clientReference``), so that a validly signed answer about another order (a
replay) is a ``MismatchedAnswerError``. (``responseInfo/messageId`` is the gateway's own id for its
answer, not ours: it cannot be matched.)

Creating an order is made safe to retry by the contract, not by luck: the order carries our
``client_reference`` and the gateway answers a repeated create with the order it already has
(``created=False``), so a create whose answer was lost is simply sent again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import cast

from lxml import etree

from adapters.contracts import schema_check, schema_errors
from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError, InvalidResponseError, ValidationError
from adapters.core.resilience import Attempt, CallContext, ResilientCaller, RetryPolicy, poll_until
from adapters.core.soap import (
    EnvelopeVerifier,
    ProcessedResponse,
    ResponsePipeline,
    build_envelope,
    require_match,
    serialize,
)
from adapters.core.transport import SoapTransport
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.payment_gateway import answers, messages
from adapters.payment_gateway.errors import map_fault
from adapters.payment_gateway.models import CreateOutcome, PaymentOrder, PaymentOrderRequest, Receipt

SYSTEM = "payment_gateway"
SERVICE = "pshep"


class PaymentGatewayClient:
    """One client per payment gateway endpoint; thread-safe, build once and reuse.

    ``sender_id`` and ``sender_password`` name and prove our sender account at the gateway (the
    gateway serves registered senders only, each on its own orders); ``signer`` signs our requests
    with a certificate of the sender's BIN; ``verifier`` checks the answers' transport signature;
    ``receipt_verifier`` (default: ``verifier``) checks the receipts' own signature, and with
    ``expect_gateway_bin`` that the receipt was signed by the payment gateway's organisation.
    Unsigned exchanges must be asked for explicitly (``allow_unsigned=True``, tests and tools).
    """

    def __init__(self, url: str, *, signer: SigningService | None, verifier: VerificationService | None,
                 receipt_verifier: VerificationService | None = None, transport: SoapTransport | None = None,
                 caller: ResilientCaller | None = None, sender_id: str = "MINISTRY_EDU",
                 sender_password: str | None, expect_gateway_bin: str | None = None, clock: Clock = SYSTEM_CLOCK,
                 allow_unsigned: bool = False) -> None:
        if not sender_password:
            raise ConfigurationError("PaymentGatewayClient needs our sender's password at the payment gateway "
                                     "(EGOV_GATEWAY_SENDER_PASSWORD, or the manifest's sender_password)",
                                     setting="sender_password")
        if (signer is None or verifier is None) and not allow_unsigned:
            raise ConfigurationError("PaymentGatewayClient needs a signer and a verifier; pass "
                                     "allow_unsigned=True only in tests and tools", setting="signer")
        self.url = url
        self._signer = signer
        self._receipt_verifier = receipt_verifier or verifier
        self._transport = transport or SoapTransport()
        self._caller = caller or ResilientCaller(RetryPolicy())
        self._sender_id = sender_id
        self._sender_password = sender_password
        self._expect_bin = expect_gateway_bin
        self._clock = clock
        self._pipeline = ResponsePipeline(
            verifier=cast("EnvelopeVerifier | None", verifier), schema=schema_check(answers.PAY_XSD),
            fault_mapper=map_fault,
            verify_kwargs={"expect_bin": expect_gateway_bin} if expect_gateway_bin else {})

    # ------------------------------------------------------------------ operations

    def create_order(self, order: PaymentOrderRequest, *, message_id: str | None = None) -> CreateOutcome:
        """Create the order, or get the existing one for ``order.client_reference`` (never charged twice)."""
        mid = message_id or str(uuid.uuid4())
        payload = messages.create_request(order, message_id=mid, sender_id=self._sender_id,
                                          password=self._sender_password, now=self._clock.now())
        answer = self._exchange("CreatePaymentOrder", "payment", payload, mid)
        result = CreateOutcome(order=answers.read_order(answer.payload), created=answers.read_created(answer.payload))
        answers.require_order(result.order, "CreatePaymentOrder answer", client_reference=order.client_reference)
        return result

    def get_status(self, order_id: str | None = None, *, client_reference: str | None = None) -> PaymentOrder:
        """The order by its id or by our client reference."""
        if (order_id is None) == (client_reference is None):
            raise ValidationError("order_id", "give exactly one of order_id and client_reference")
        mid = str(uuid.uuid4())
        payload = messages.status_request(order_id=order_id, client_reference=client_reference, message_id=mid,
                                          sender_id=self._sender_id, password=self._sender_password,
                                          now=self._clock.now())
        found = answers.read_order(self._exchange("GetPaymentStatus", "check_payment", payload, mid).payload)
        answers.require_order(found, "GetPaymentStatus answer", order_id=order_id, client_reference=client_reference)
        return found

    def cancel_order(self, order_id: str, reason: str | None = None) -> PaymentOrder:
        mid = str(uuid.uuid4())
        payload = messages.cancel_request(order_id, reason, message_id=mid, sender_id=self._sender_id,
                                          password=self._sender_password, now=self._clock.now())
        found = answers.read_order(self._exchange("CancelPaymentOrder", "payment", payload, mid).payload)
        answers.require_order(found, "CancelPaymentOrder answer", order_id=order_id)
        return found

    def get_receipt(self, order_id: str) -> Receipt:
        """The gateway-signed receipt of a paid order, verified (a tampered one raises ``SignatureRefused``)."""
        mid = str(uuid.uuid4())
        payload = messages.receipt_request(order_id, message_id=mid, sender_id=self._sender_id,
                                           password=self._sender_password, now=self._clock.now())
        answer = self._exchange("GetReceipt", "check_payment", payload, mid)
        signed = etree.tostring(answers.receipt_element(answer.payload), encoding="UTF-8")
        receipt = self.verify_receipt(signed)
        require_match("GetReceipt answer", "orderId", order_id, receipt.order_id)
        return receipt

    def verify_receipt(self, signed_xml: bytes) -> Receipt:
        """Verify a stored or received receipt document and read it.

        Raises ``SignatureRefused`` (which rule, which certificate) when the signature does not
        hold, and ``InvalidResponseError`` when the signed content does not match the schema.
        """
        if self._receipt_verifier is None:
            raise ConfigurationError("no receipt verifier configured: receipts cannot be trusted",
                                     setting="receipt_verifier")
        verified = self._receipt_verifier.verify_document(signed_xml, expect_bin=self._expect_bin)
        errors = schema_errors(answers.PAY_XSD, verified.root)
        if errors:
            raise InvalidResponseError(f"PaymentReceipt does not match its schema: {errors[0]}",
                                       field="PaymentReceipt")
        return answers.read_receipt(verified.root, signer=verified.signer, signed_xml=signed_xml)

    def wait_until_final(self, order_id: str, *, deadline: float, initial: float = 0.5,
                         sleep: Callable[[float], None] | None = None) -> PaymentOrder:
        """Poll the status until it leaves CREATED (paid, rejected...) or ``deadline`` seconds pass."""
        def check() -> PaymentOrder | None:
            order = self.get_status(order_id)
            return order if order.status.final else None

        return poll_until(check, deadline=deadline, initial=initial, clock=self._clock, system=SYSTEM,
                          service=SERVICE, sleep=sleep or time.sleep, what=f"payment of order {order_id}",
                          metrics=self._caller.metrics)

    def close(self) -> None:
        self._transport.close()

    # ------------------------------------------------------------------ one exchange

    def _exchange(self, operation: str, norm: str, payload: etree._Element, message_id: str) -> ProcessedResponse:
        ctx = CallContext(system=SYSTEM, service=SERVICE, operation=operation, norm=norm, message_id=message_id,
                          idempotent=True)

        def attempt(a: Attempt) -> ProcessedResponse:
            envelope = build_envelope(payload)
            body = self._signer.sign_envelope(envelope) if self._signer is not None else serialize(envelope)
            a.request_bytes = body
            result = self._transport.post(self.url, body, soap_action=messages.SOAP_ACTION.format(operation=operation),
                                          timeout=a.context.timeout)
            a.response_bytes = result.body
            return self._pipeline.process(result, what=f"{operation} answer")

        return self._caller.call(ctx, attempt)
