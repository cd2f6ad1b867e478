"""A licence cannot be had for a made-up receipt (issue 11, item 2).

The attack, over real HTTP on a whole landscape: an applicant signs an application whose payment
block says 16,180 KZT were paid (document No. 90102) although no payment order exists, or names a
receipt that is unpaid, another payer's, too small, or already used by another application.
E-licensing now confirms the payment with the payment gateway of the landscape (Condition 2): each
of these ends in the regulation's step 5 refusal ("no payment for the service", ELC201), and no
application is registered.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest

from adapters.core.xmlsig import SigningService
from adapters.elicense import Address, Applicant, ApplicationForm, Payment, PaymentMissing, Session
from adapters.payment_gateway import Payer, PaymentGatewayClient, PaymentOrderRequest, PaymentStatus
from harness.actors import ApplicantActor
from harness.landscape import Landscape
from procedure.clients import ProcedureClients

FEE = Decimal("16180.00")


@pytest.fixture(scope="module")
def land(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landscape]:
    with Landscape.start(tmp_path_factory.mktemp("receipts")) as running:
        yield running


@pytest.fixture(scope="module")
def clients(land: Landscape) -> Iterator[ProcedureClients]:
    made = ProcedureClients(land.endpoints)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def applicant(land: Landscape) -> ApplicantActor:
    made = land.new_applicant()
    land.register_on_portal(made)
    return made


def _session(clients: ProcedureClients, applicant: ApplicantActor) -> Session:
    return clients.elicense.authorize_applicant(applicant.auth_key.load(), applicant.portal_password)


def _order(payment: PaymentGatewayClient, payer: ApplicantActor, amount: Decimal = FEE) -> str:
    """A new fee order of ``payer`` at the payment gateway (CREATED); its id is the receipt id."""
    return payment.create_order(PaymentOrderRequest(
        client_reference=f"fee-{uuid.uuid4().hex[:12]}", payer=Payer(iin_bin=payer.bin, name=payer.name_ru[:500]),
        amount=amount, application_reference="security-test")).order.order_id


def _paid(land: Landscape, payment: PaymentGatewayClient, payer: ApplicantActor, amount: Decimal = FEE) -> str:
    order_id = _order(payment, payer, amount)
    land.bank.pay(payment.get_status(order_id))
    assert payment.get_status(order_id).status is PaymentStatus.PAID
    return order_id


def _form(applicant: ApplicantActor, receipt_id: str | None) -> ApplicationForm:
    """An ISSUE application saying the full fee was paid, under ``receipt_id``."""
    who = applicant.identity
    return ApplicationForm(
        app_type="ISSUE", service_code="S1",
        applicant=Applicant(iin_bin=who.bin, name=who.name, is_small_business=True,
                            address=Address(postal_index=who.postal_index, city_kato=who.city_kato,
                                            city_name=who.city_name, street_ru=who.street_ru, street_kz=who.street_kz,
                                            house=who.house), phone=who.phone),
        territory_code="000000000", sub_types=("ED010100",),
        payment=Payment(amount_paid=FEE, document_number="90102", document_date=dt.date.today(), amount_due=FEE,
                        receipt_id=receipt_id),
        submitted_at=dt.datetime.now(dt.UTC))


def _register(clients: ProcedureClients, applicant: ApplicantActor, receipt_id: str | None) -> object:
    session = _session(clients, applicant)
    signed = clients.elicense.sign_application(_form(applicant, receipt_id),
                                               SigningService(applicant.sign_key.load()))
    return clients.elicense.register_application(session, signed, idempotency_key=f"app-{uuid.uuid4().hex}")


def _applications_of(land: Landscape, applicant: ApplicantActor) -> int:
    return len([a for a in land.applications() if a["applicant"] == applicant.bin])


def _refused_and_nothing_registered(land: Landscape, clients: ProcedureClients, applicant: ApplicantActor,
                                    receipt_id: str | None) -> PaymentMissing:
    before = _applications_of(land, applicant)
    with pytest.raises(PaymentMissing) as refused:
        _register(clients, applicant, receipt_id)
    assert refused.value.code == "ELC201" and "no payment for the service" in str(refused.value)
    assert _applications_of(land, applicant) == before
    return refused.value


@pytest.mark.parametrize("receipt", [None, "made-up"])
def test_a_made_up_payment_is_refused(land: Landscape, clients: ProcedureClients, applicant: ApplicantActor,
                                      receipt: str | None) -> None:
    """The application claims 16,180 KZT paid; the payment gateway holds no such payment."""
    _refused_and_nothing_registered(land, clients, applicant, None if receipt is None else str(uuid.uuid4()))


def test_an_unpaid_order_is_refused(land: Landscape, clients: ProcedureClients, applicant: ApplicantActor) -> None:
    order_id = _order(clients.payment, applicant)
    refusal = _refused_and_nothing_registered(land, clients, applicant, order_id)
    assert "CREATED" in str(refusal)
    assert clients.payment.get_status(order_id).status is PaymentStatus.CREATED


def test_another_payers_receipt_is_refused_as_if_it_did_not_exist(land: Landscape, clients: ProcedureClients,
                                                                   applicant: ApplicantActor) -> None:
    theirs = _paid(land, clients.payment, land.new_applicant())
    refusal = _refused_and_nothing_registered(land, clients, applicant, theirs)
    nobodys = str(uuid.uuid4())
    unknown = _refused_and_nothing_registered(land, clients, applicant, nobodys)
    # the same answer as for a receipt that does not exist: nothing about the other payer is revealed
    assert str(refusal).replace(theirs, "<receipt>") == str(unknown).replace(nobodys, "<receipt>")
    assert clients.payment.get_status(theirs).status is PaymentStatus.PAID


def test_an_underpaid_receipt_is_refused(land: Landscape, clients: ProcedureClients,
                                         applicant: ApplicantActor) -> None:
    receipt = _paid(land, clients.payment, applicant, Decimal("1618.00"))
    refusal = _refused_and_nothing_registered(land, clients, applicant, receipt)
    assert "1618.00 KZT paid, the state fee is 16180.00 KZT" in str(refusal)


def test_a_receipt_pays_for_one_application_only(land: Landscape, clients: ProcedureClients,
                                                 applicant: ApplicantActor) -> None:
    receipt = _paid(land, clients.payment, applicant)
    first = _register(clients, applicant, receipt)
    assert getattr(first, "status", None) == "SENT"
    refusal = _refused_and_nothing_registered(land, clients, applicant, receipt)
    assert "already paid for another application" in str(refusal)
    assert _applications_of(land, applicant) == 1
