"""The payment gateway's readers (``adapters.payment_gateway.answers``) against zeep, the WSDL's
interpreter: from the same schema-valid answer each reader gives what zeep's ``deserialize``
reads; what cannot be read is an ``InvalidResponseError`` naming the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from adapters.contracts import contract_path, schema_errors
from adapters.core.errors import InvalidResponseError
from adapters.core.trust.subject import signer_info
from adapters.payment_gateway import PaymentOrder, PaymentStatus, answers
from adapters.payment_gateway.answers import PAY_XSD
from simulators.payment_gateway.state import StoredOrder
from simulators.payment_gateway.wire import order_response, receipt_document, receipt_response
from tests.adapters.contracts import zeep_oracle

PAYMENT_WSDL = "wsdl/payment/pshep.wsdl"
ORDER_ID = "0d4c3a9e-2b1f-4c7e-9a55-3f1e2d4c5b6a"
NOW = dt.datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=dt.UTC)


def _stored(**overrides: Any) -> StoredOrder:
    kw: dict[str, Any] = {
        "client_reference": "app-12009269-fee", "payer_iin_bin": "950341000052", "payer_name": 'Филиал АО "Арман"',
        "amount": Decimal("16180.00"), "kbk": "105102", "knp": "911", "application_reference": "12009269",
        "purpose": "Лицензионный сбор", "owner": "MINISTRY_EDU", "order_id": ORDER_ID, "status": "CREATED",
        "created_at": NOW, "updated_at": NOW}
    kw.update(overrides)
    return StoredOrder(**kw)


PAID = {"status": "PAID", "paid_at": NOW + dt.timedelta(minutes=5), "document_number": "90102",
        "bank_bic": "HSBKKZKX", "bank_name": "Halyk Bank"}


def _valid(payload: etree._Element) -> etree._Element:
    assert schema_errors(PAY_XSD, payload) == []
    return payload


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _zeep_order(order: Any) -> tuple[Any, ...]:
    return (str(order.orderId), order.clientReference, order.status, order.statusReason, order.payer.iinBin,
            order.payer.name, order.amount, order.currency, order.kbk, order.knp, order.applicationReference,
            order.purpose or "", _utc(order.createdAt), _utc(order.updatedAt), _utc(order.paidAt),
            order.documentNumber)


def _ours(order: PaymentOrder) -> tuple[Any, ...]:
    return (order.order_id, order.client_reference, order.status.value, order.status_reason, order.payer.iin_bin,
            order.payer.name, order.amount, order.currency, order.kbk, order.knp, order.application_reference,
            order.purpose, order.created_at, order.updated_at, order.paid_at, order.document_number)


ANSWERS = [
    ("CreatePaymentOrder", _stored(), True),
    ("CreatePaymentOrder", _stored(), False),
    ("GetPaymentStatus", _stored(**PAID), None),
    ("GetPaymentStatus", _stored(status="REJECTED", status_reason="insufficient funds", purpose=""), None),
    ("CancelPaymentOrder", _stored(status="CANCELLED", status_reason="duplicate"), None),
]


@pytest.mark.parametrize(("operation", "stored", "created"), ANSWERS)
def test_order_is_what_zeep_reads(operation: str, stored: StoredOrder, created: bool | None) -> None:
    payload = _valid(order_response(operation, stored, NOW, created=created))
    zeep = zeep_oracle.deserialize(PAYMENT_WSDL, operation, payload)
    assert _ours(answers.read_order(payload)) == _zeep_order(zeep.order)
    if created is not None:
        assert answers.read_created(payload) is zeep.created is created


def test_receipt_is_what_zeep_reads(pki: Any) -> None:
    stored = _stored(**PAID)
    payload = _valid(receipt_response(receipt_document(stored), NOW))
    zeep = zeep_oracle.deserialize(PAYMENT_WSDL, "GetReceipt", payload).receipt.PaymentReceipt
    signer = signer_info(pki.issue(iin="871008401427", bin="940140000385").certificate)
    receipt = answers.read_receipt(answers.receipt_element(payload), signer=signer, signed_xml=b"<signed/>")
    assert (receipt.signer, receipt.signed_xml) == (signer, b"<signed/>")
    assert (receipt.document_number, receipt.document_date, receipt.paid_at, receipt.order_id,
            receipt.client_reference, receipt.payer.iin_bin, receipt.payer.name, receipt.amount, receipt.currency,
            receipt.kbk, receipt.knp, receipt.application_reference, receipt.bank.bic, receipt.bank.name) == (
        zeep.documentNumber, zeep.documentDate, _utc(zeep.paidAt), str(zeep.orderId), zeep.clientReference,
        zeep.payer.iinBin, zeep.payer.name, zeep.amount, zeep.currency, zeep.kbk, zeep.knp,
        zeep.applicationReference, zeep.bank.bic, zeep.bank.name)


@pytest.mark.parametrize(("old", "new", "field"), [
    (b"<pay:status>CREATED</pay:status>", b"<pay:status>LOST</pay:status>", "status"),
    (b"2024-05-01T10:00:00.250Z</pay:createdAt>", b"tomorrow</pay:createdAt>", "createdAt"),
    (b"<pay:amount>16180.00</pay:amount>", b"<pay:amount>lots</pay:amount>", "amount"),
    (b"<pay:iinBin>950341000052</pay:iinBin>", b"<pay:iinBin>950341000053</pay:iinBin>", "payer.iin_bin"),
])
def test_a_value_that_cannot_be_read_is_an_invalid_answer_naming_the_field(old: bytes, new: bytes,
                                                                         field: str) -> None:
    """These would fail the schema first; the reader still refuses them in our error hierarchy."""
    text = etree.tostring(order_response("GetPaymentStatus", _stored(), NOW))
    assert old in text
    payload = etree.fromstring(text.replace(old, new))
    with pytest.raises(InvalidResponseError) as info:
        answers.read_order(payload)
    assert info.value.context["field"] == field


def test_status_names_are_the_schemas() -> None:
    schema = etree.parse(str(contract_path(PAY_XSD)))
    values = schema.xpath("//xs:simpleType[@name='OrderStatus']//xs:enumeration/@value",
                          namespaces={"xs": "http://www.w3.org/2001/XMLSchema"})
    assert set(values) == {status.value for status in PaymentStatus}
