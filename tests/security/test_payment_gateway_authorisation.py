"""Only the registered sender, on its own orders, is served by the payment gateway (issue 11, item 3).

The attack, over real HTTP on a whole landscape: a caller with a valid transport signature (a
certificate of the trusted PKI, but another organisation's) and any ``senderId`` reads another
payer's order and receipt (personal data) and cancels an order the ministry created. The gateway
now serves a registered sender only (its id, its password, a certificate of its BIN), each on the
orders it created; everything else is a typed fault that reveals nothing, and the same fault for
"not yours" as for "does not exist".
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from lxml import etree

from adapters.core.soap import xml_datetime
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.trust.subject import signer_info
from adapters.core.xmlsig import SigningService
from adapters.payment_gateway import Payer, PaymentOrder, PaymentOrderRequest, PaymentStatus
from harness.landscape import Landscape
from procedure.clients import ProcedureClients
from procedure.credentials import reveal
from tests.security.wire import Answer, post

PAY_NS = "http://schemas.egov-adapters.kz/pshep/v1/Types"
OTHER_SENDER = "OTHER_ORG"
OTHER_PASSWORD = "other-org-pass"


def q(name: str) -> str:
    return f"{{{PAY_NS}}}{name}"


@dataclass(frozen=True)
class Orders:
    """The ministry's two orders: one waiting for the bank, one paid (with a receipt)."""

    created: PaymentOrder
    paid: PaymentOrder


@pytest.fixture(scope="module")
def land(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landscape]:
    with Landscape.start(tmp_path_factory.mktemp("pshep-authz")) as running:
        yield running


@pytest.fixture(scope="module")
def ministry(land: Landscape) -> Iterator[ProcedureClients]:
    made = ProcedureClients(land.endpoints)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="module")
def orders(land: Landscape, ministry: ProcedureClients) -> Orders:
    payer = land.new_applicant()

    def order(reference: str) -> PaymentOrder:
        return ministry.payment.create_order(PaymentOrderRequest(
            client_reference=reference, payer=Payer(iin_bin=payer.bin, name=payer.name_ru[:500]),
            amount=Decimal("16180.00"), application_reference="authz")).order

    created, paid = order(f"authz-created-{uuid.uuid4().hex[:8]}"), order(f"authz-paid-{uuid.uuid4().hex[:8]}")
    land.bank.pay(paid)
    return Orders(created, ministry.payment.get_status(paid.order_id))


@pytest.fixture(scope="module")
def other_org(land: Landscape) -> KeyMaterial:
    """Another organisation's transport key, issued by the trusted PKI (a valid signature)."""
    bin_ = land.new_applicant().bin
    key: KeyMaterial = land.pki.issue(iin="760212350620", bin=bin_, org="OTHER ORGANISATION").key_material
    return key


def request(operation: str, sender_id: str, password: str | None, **fields: str) -> etree._Element:
    """A request of ``operation``; ``password=None`` leaves it out (what the old contract allowed)."""
    root = etree.Element(q(operation), nsmap={"pay": PAY_NS})
    info = etree.SubElement(root, q("requestInfo"))
    etree.SubElement(info, q("messageId")).text = str(uuid.uuid4())
    etree.SubElement(info, q("messageDate")).text = xml_datetime(dt.datetime.now(dt.UTC))
    etree.SubElement(info, q("senderId")).text = sender_id
    if password is not None:
        etree.SubElement(info, q("password")).text = password
    for name, value in fields.items():
        etree.SubElement(root, q(name)).text = value
    return root


def call(land: Landscape, key: KeyMaterial, operation: str, sender_id: str, password: str | None,
         **fields: str) -> Answer:
    return post(land.endpoints.payment_gateway_url, request(operation, sender_id, password, **fields),
                f"urn:pshep:{operation}", signer=SigningService(key))


def attacks(orders: Orders) -> list[tuple[str, dict[str, str]]]:
    """Read the paid order and its receipt, read by client reference, cancel the waiting order."""
    return [("GetPaymentStatus", {"orderId": orders.paid.order_id}),
            ("GetPaymentStatus", {"clientReference": orders.created.client_reference}),
            ("GetReceipt", {"orderId": orders.paid.order_id}),
            ("CancelPaymentOrder", {"orderId": orders.created.order_id, "reason": "not mine"})]


def unchanged(ministry: ProcedureClients, orders: Orders, answers: list[Answer]) -> None:
    """Nothing leaked (no answer names the payer) and the ministry's orders are as they were."""
    for answer in answers:
        assert answer.status == 500 and answer.is_fault
        assert orders.paid.payer.iin_bin.encode() not in etree.tostring(answer.body)
    assert ministry.payment.get_status(orders.created.order_id).status is PaymentStatus.CREATED
    assert ministry.payment.get_status(orders.paid.order_id).status is PaymentStatus.PAID
    assert ministry.payment.get_receipt(orders.paid.order_id).order_id == orders.paid.order_id


@pytest.mark.parametrize("sender_id", ["MINISTRY_EDU", "INTRUDER"])
def test_a_signed_stranger_without_a_password_reads_and_cancels_nothing(land: Landscape, ministry: ProcedureClients,
                                                                        orders: Orders, other_org: KeyMaterial,
                                                                        sender_id: str) -> None:
    """The attack as reported: any signed caller, any senderId, the old contract (no password)."""
    answers = [call(land, other_org, operation, sender_id, None, **fields) for operation, fields in attacks(orders)]
    assert {a.fault()[0] for a in answers} == {"PSE001"}  # the password is part of the contract
    unchanged(ministry, orders, answers)


def test_a_wrong_password_a_stolen_one_or_an_unknown_sender_get_one_refusal(land: Landscape,
                                                                            ministry: ProcedureClients,
                                                                            orders: Orders,
                                                                            other_org: KeyMaterial) -> None:
    ours = KeyMaterial.from_pkcs12(land.endpoints.keystore_path, reveal(land.endpoints.keystore_password))
    assert land.endpoints.sender_password is not None
    stolen = reveal(land.endpoints.sender_password)
    assert stolen
    callers = [(ours, "MINISTRY_EDU", "guessed"),        # our certificate, a wrong password
               (other_org, "MINISTRY_EDU", stolen),      # our password, another organisation's certificate
               (other_org, "INTRUDER", "any-password")]  # nobody's sender id
    answers = [call(land, key, operation, sender, password, **fields)
               for key, sender, password in callers for operation, fields in attacks(orders)]
    refusals = {(code, message.replace("'MINISTRY_EDU'", "'<sender>'").replace("'INTRUDER'", "'<sender>'"))
                for code, message in (a.fault() for a in answers)}
    assert len(refusals) == 1 and next(iter(refusals))[0] == "PSE008"
    unchanged(ministry, orders, answers)


def test_a_registered_sender_sees_and_cancels_only_its_own_orders(land: Landscape, ministry: ProcedureClients,
                                                                 orders: Orders, other_org: KeyMaterial) -> None:
    land.payment_gateway.add_sender(OTHER_SENDER, OTHER_PASSWORD, bin=signer_info(other_org.certificate).bin)
    answers = [call(land, other_org, operation, OTHER_SENDER, OTHER_PASSWORD, **fields)
               for operation, fields in attacks(orders)]
    nobodys = str(uuid.uuid4())
    missing_code, missing_message = call(land, other_org, "GetPaymentStatus", OTHER_SENDER, OTHER_PASSWORD,
                                         orderId=nobodys).fault()
    for answer, (_, fields) in zip(answers, attacks(orders), strict=True):
        key = fields.get("orderId") or fields["clientReference"]
        code, message = answer.fault()
        # "not yours" is "does not exist": the same fault, word for word
        assert code == "PSE004"
        assert (code, message.replace(key, "<key>")) == (missing_code, missing_message.replace(nobodys, "<key>"))
    unchanged(ministry, orders, answers)
    # the ministry's clientReference is no oracle either: the other sender gets an order of its own
    created = post(land.endpoints.payment_gateway_url, _create(orders.created.client_reference),
                   "urn:pshep:CreatePaymentOrder", signer=SigningService(other_org))
    assert not created.is_fault, created.fault()
    assert created.body.findtext(f"{q('order')}/{q('orderId')}") != orders.created.order_id
    assert created.body.findtext(q("created")) == "true"
    assert ministry.payment.get_status(orders.created.order_id).status is PaymentStatus.CREATED


def _create(client_reference: str) -> etree._Element:
    root = request("CreatePaymentOrder", OTHER_SENDER, OTHER_PASSWORD)
    order = etree.SubElement(root, q("order"))
    etree.SubElement(order, q("clientReference")).text = client_reference
    payer = etree.SubElement(order, q("payer"))
    etree.SubElement(payer, q("iinBin")).text = "940140000385"
    etree.SubElement(payer, q("name")).text = "Other organisation's payer"
    for name, value in (("amount", "100.00"), ("currency", "KZT"), ("kbk", "105315"), ("knp", "911"),
                        ("applicationReference", "other"), ("purpose", "other")):
        etree.SubElement(order, q(name)).text = value
    return root
