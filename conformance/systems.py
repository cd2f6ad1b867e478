"""The Legal Entities register's answers (through the gateway), the payment gateway's and
E-licensing's contracts (``docs/payment-gateway.md``, ``docs/elicense.md``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal

from adapters.contracts.elicense import ELICENSE_WSDL
from adapters.core.errors import EgovError
from adapters.core.identifiers import make_bin
from adapters.legal_entities import LegalEntitiesClient
from adapters.payment_gateway import Payer, PaymentOrderRequest, PaymentStatus
from conformance.contract import check_signing_profile, check_wsdl
from conformance.probe import Probe
from conformance.report import expect

__all__ = ["ELICENSE_CHECKS", "LEGAL_ENTITIES_CHECKS", "PAYMENT_CHECKS"]

PAYMENT_WSDL = "wsdl/payment/pshep.wsdl"


def _code_of(call: Callable[[], object]) -> str:
    try:
        call()
    except EgovError as exc:
        return str(exc.code)
    return "none (the call succeeded)"


# --------------------------------------------------------------------------- Legal Entities


def register_found(probe: Probe) -> str:
    """Our own BIN (or ``--bin``): a signed, schema-valid answer read as a typed outcome naming it."""
    outcome = probe.legal_entities.lookup_bin(probe.look_up_bin, correlation_id=str(uuid.uuid4()))
    expect(outcome.kind in ("found", "inactive", "liquidated"), f"an entry for {probe.look_up_bin}", outcome.kind)
    organisation = getattr(outcome, "organisation", None)
    expect(organisation is not None and organisation.bin == probe.look_up_bin,
           f"Organization/BIN {probe.look_up_bin}", getattr(organisation, "bin", None))
    signer = outcome.signer.bin if outcome.signer is not None else None
    return f"{outcome.kind}: {organisation.short_name_ru if organisation else ''}, signed by {signer}"


def register_invalid_bin(probe: Probe) -> str:
    """A number with a wrong check digit, sent as is: the register answers status 02."""
    number = probe.look_up_bin[:-1] + str((int(probe.look_up_bin[-1]) + 1) % 10)
    raw = LegalEntitiesClient(probe.gateway, signer=probe.signing, verifier=probe.trust.transport_verification,
                              requestor_bin=probe.endpoints.requestor_bin,
                              expect_register_bin=probe.endpoints.register_bin, validate_locally=False)
    outcome = raw.lookup_bin(number)
    expect(outcome.kind == "invalid-bin", f"invalid-bin (status 02) for {number}", outcome.kind)
    return f"invalid-bin for {number}"


def register_not_found(probe: Probe) -> str:
    """A valid BIN made for the check (registered in 1990, before any BIN was): status 01."""
    number = make_bin(1990, 1, 4, 0, int(uuid.uuid4().int % 90000) + 10000)
    outcome = probe.legal_entities.lookup_bin(number)
    expect(outcome.kind == "not-found", f"not-found (status 01) for {number}", outcome.kind)
    return f"not-found for {number}"


LEGAL_ENTITIES_CHECKS: tuple[tuple[str, Callable[[Probe], str]], ...] = (
    ("legal_entities.found", register_found),
    ("legal_entities.invalid-bin", register_invalid_bin),
    ("legal_entities.not-found", register_not_found),
)


# --------------------------------------------------------------------------- payment gateway


def _order(probe: Probe, reference: str, amount: str = "1.00") -> PaymentOrderRequest:
    return PaymentOrderRequest(client_reference=reference, payer=Payer(iin_bin=probe.endpoints.requestor_bin,
                                                                       name="egov conformance check"),
                               amount=Decimal(amount), application_reference=f"conformance-{reference}")


def payment_wsdl(probe: Probe) -> str:
    return check_wsdl(probe, probe.payment.url, PAYMENT_WSDL)


def payment_create(probe: Probe) -> str:
    """CreatePaymentOrder: a signed, schema-valid answer with a CREATED order echoing the request;
    the same clientReference again is the same order (nothing charged twice); both cancelled."""
    reference = f"conf-{uuid.uuid4().hex[:20]}"
    first = probe.payment.create_order(_order(probe, reference))
    profile = check_signing_profile(probe.recorder.last().result.body, what="CreatePaymentOrder answer")
    order = first.order
    expect(first.created and order.status is PaymentStatus.CREATED, "a new CREATED order",
           f"created={first.created} {order.status}")
    expect(order.client_reference == reference and order.amount == Decimal("1.00"),
           f"clientReference {reference}, amount 1.00", f"{order.client_reference}, {order.amount}")
    again = probe.payment.create_order(_order(probe, reference))
    expect(not again.created and again.order.order_id == order.order_id,
           f"the same order {order.order_id}, not created again", f"created={again.created} {again.order.order_id}")
    by_reference = probe.payment.get_status(client_reference=reference)
    expect(by_reference.order_id == order.order_id, f"GetPaymentStatus by clientReference: {order.order_id}",
           by_reference.order_id)
    cancelled = probe.payment.cancel_order(order.order_id, "egov conformance check")
    expect(cancelled.status is PaymentStatus.CANCELLED, "CANCELLED", cancelled.status)
    return f"order {order.order_id}: created once, found by reference, cancelled; answer {profile}"


def payment_reference_conflict(probe: Probe) -> str:
    reference = f"conf-{uuid.uuid4().hex[:20]}"
    order = probe.payment.create_order(_order(probe, reference)).order
    try:
        code = _code_of(lambda: probe.payment.create_order(_order(probe, reference, amount="2.00")))
    finally:
        probe.payment.cancel_order(order.order_id, "egov conformance check")
    expect(code == "PSE005", "PSE005 (clientReference already used with different data)", code)
    return "PSE005"


def payment_unknown_order(probe: Probe) -> str:
    code = _code_of(lambda: probe.payment.get_status(str(uuid.uuid4())))  # a well-formed id no order has
    expect(code == "PSE004", "PSE004 (order not found)", code)
    return "PSE004"


def payment_receipt_unpaid(probe: Probe) -> str:
    order = probe.payment.create_order(_order(probe, f"conf-{uuid.uuid4().hex[:20]}")).order
    try:
        code = _code_of(lambda: probe.payment.get_receipt(order.order_id))
    finally:
        probe.payment.cancel_order(order.order_id, "egov conformance check")
    expect(code == "PSE007", "PSE007 (no receipt: the order is not paid)", code)
    return "PSE007"


PAYMENT_CHECKS: tuple[tuple[str, Callable[[Probe], str]], ...] = (
    ("payment.wsdl", payment_wsdl),
    ("payment.create-and-cancel", payment_create),
    ("payment.status.reference-conflict", payment_reference_conflict),
    ("payment.status.unknown-order", payment_unknown_order),
    ("payment.status.receipt-of-unpaid", payment_receipt_unpaid),
)


# --------------------------------------------------------------------------- E-licensing


def elicense_wsdl(probe: Probe) -> str:
    return check_wsdl(probe, probe.elicense.endpoint_url, ELICENSE_WSDL)


def elicense_challenge(probe: Probe) -> str:
    """GetChallenge: a schema-valid answer holding a challenge that expires in the future."""
    challenge = probe.elicense.get_challenge()
    now = probe.clock.now()
    expect(challenge.expires_at > now, f"expiresAt after {now.isoformat()}", challenge.expires_at.isoformat())
    expect(len(challenge.document) > 0, "the AuthChallenge document", "empty")
    left = (challenge.expires_at - now) / dt.timedelta(seconds=1)
    return f"a challenge valid {left:.0f} s"


def elicense_catalogue(probe: Probe) -> str:
    catalogue = probe.elicense.get_catalogue(refresh=True)
    expect(len(catalogue.services) > 0, "services in the catalogue", "none")
    expect(len(catalogue.licensors) > 0, "licensors in the catalogue", "none")
    return f"{len(catalogue.services)} services, {len(catalogue.licensors)} licensors"


def elicense_refused_login(probe: Probe) -> str:
    """An unknown employee login is refused with ELC101 in a SOAP Fault (Condition 1)."""
    code = _code_of(lambda: probe.elicense.authorize_employee(f"conformance-{uuid.uuid4().hex[:8]}",
                                                              uuid.uuid4().hex))
    expect(code == "ELC101", "ELC101 (authorisation refused)", code)
    return "ELC101"


ELICENSE_CHECKS: tuple[tuple[str, Callable[[Probe], str]], ...] = (
    ("elicense.wsdl", elicense_wsdl),
    ("elicense.challenge", elicense_challenge),
    ("elicense.catalogue", elicense_catalogue),
    ("elicense.status.refused-login", elicense_refused_login),
)
