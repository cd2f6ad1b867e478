"""The payment gateway's requests (``adapters.payment_gateway.messages``) against zeep, the WSDL's
interpreter: each builder gives the Body zeep's ``create_message`` renders for the same values
(C14N, prefixes aside), valid against the schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from adapters.contracts import schema_errors
from adapters.core.soap import xml_datetime
from adapters.payment_gateway import Payer, PaymentOrderRequest, messages
from adapters.payment_gateway.answers import PAY_XSD
from tests.adapters.contracts import zeep_oracle

PAYMENT_WSDL = "wsdl/payment/pshep.wsdl"
MESSAGE_ID = "6f1c2a0e-8d7b-4a8e-9f3c-2b1d0e9a7c55"
ORDER_ID = "0d4c3a9e-2b1f-4c7e-9a55-3f1e2d4c5b6a"
NOW = dt.datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=dt.UTC)
COMMON: dict[str, Any] = {"message_id": MESSAGE_ID, "sender_id": "MINISTRY_EDU", "password": "pw <&> ж", "now": NOW}


def _request_info() -> dict[str, Any]:
    # the date as our builder writes it (milliseconds, Z): zeep writes a datetime with microseconds
    return {"messageId": MESSAGE_ID, "messageDate": xml_datetime(NOW), "senderId": "MINISTRY_EDU",
            "password": "pw <&> ж"}


def _assert_as_zeep_renders(built: etree._Element, operation: str, **arguments: Any) -> None:
    zeep = zeep_oracle.rendered_payload(PAYMENT_WSDL, operation, **arguments)
    assert zeep_oracle.c14n(built) == zeep_oracle.c14n(zeep)
    assert schema_errors(PAY_XSD, built) == []


ORDERS = [
    PaymentOrderRequest(client_reference="app-12009269-fee", payer=Payer(iin_bin="950341000052",
                        name='Филиал АО "Арман" <&>'), amount=Decimal("16180"), application_reference="12009269"),
    PaymentOrderRequest(client_reference="a.b:c/d-e_f", payer=Payer(iin_bin="950341000052", name="x"),
                        amount=Decimal("0.5"), currency="KZT", kbk="105102", knp="911",
                        application_reference="r", purpose=""),
]


@pytest.mark.parametrize("order", ORDERS)
def test_create_request_is_what_zeep_renders(order: PaymentOrderRequest) -> None:
    _assert_as_zeep_renders(messages.create_request(order, **COMMON), "CreatePaymentOrder",
                            requestInfo=_request_info(), order={
                                "clientReference": order.client_reference,
                                "payer": {"iinBin": order.payer.iin_bin, "name": order.payer.name},
                                "amount": Decimal(f"{order.amount:.2f}"), "currency": order.currency,
                                "kbk": order.kbk, "knp": order.knp,
                                "applicationReference": order.application_reference,
                                "purpose": order.purpose})


def test_status_request_by_order_or_reference_is_what_zeep_renders() -> None:
    _assert_as_zeep_renders(messages.status_request(order_id=ORDER_ID, client_reference=None, **COMMON),
                            "GetPaymentStatus", requestInfo=_request_info(), orderId=ORDER_ID)
    _assert_as_zeep_renders(messages.status_request(order_id=None, client_reference="app-1-fee", **COMMON),
                            "GetPaymentStatus", requestInfo=_request_info(), clientReference="app-1-fee")


def test_receipt_request_is_what_zeep_renders() -> None:
    _assert_as_zeep_renders(messages.receipt_request(ORDER_ID, **COMMON), "GetReceipt",
                            requestInfo=_request_info(), orderId=ORDER_ID)


@pytest.mark.parametrize("reason", [None, "duplicate", ""])
def test_cancel_request_is_what_zeep_renders(reason: str | None) -> None:
    _assert_as_zeep_renders(messages.cancel_request(ORDER_ID, reason, **COMMON), "CancelPaymentOrder",
                            requestInfo=_request_info(), orderId=ORDER_ID, reason=reason)


def test_soap_action_is_the_wsdls() -> None:
    for operation, action in zeep_oracle.operations(PAYMENT_WSDL).items():
        assert messages.SOAP_ACTION.format(operation=operation) == action
