"""Requests to and answers from the payment gateway, as XML (``schemas/payment/pshep.xsd``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from lxml import etree

from adapters.core.errors import InvalidResponseError
from adapters.core.soap import xml_datetime
from adapters.core.trust.subject import SignerInfo
from adapters.payment_gateway.models import (
    Bank,
    Payer,
    PaymentOrder,
    PaymentOrderRequest,
    PaymentStatus,
    Receipt,
)

PAY_NS = "http://schemas.egov-adapters.kz/pshep/v1/Types"
PAY_XSD = "schemas/payment/pshep.xsd"
SOAP_ACTION = "urn:pshep:{operation}"


def q(name: str) -> str:
    return f"{{{PAY_NS}}}{name}"


def _sub(parent: etree._Element, name: str, text: object | None) -> None:
    if text is not None:
        etree.SubElement(parent, q(name)).text = str(text)


def _request(operation: str, message_id: str, sender_id: str, now: dt.datetime) -> etree._Element:
    root = etree.Element(q(operation), nsmap={"pay": PAY_NS})
    info = etree.SubElement(root, q("requestInfo"))
    _sub(info, "messageId", message_id)
    _sub(info, "messageDate", xml_datetime(now))
    _sub(info, "senderId", sender_id)
    return root


def create_request(order: PaymentOrderRequest, *, message_id: str, sender_id: str,
                   now: dt.datetime) -> etree._Element:
    root = _request("CreatePaymentOrder", message_id, sender_id, now)
    el = etree.SubElement(root, q("order"))
    _sub(el, "clientReference", order.client_reference)
    payer = etree.SubElement(el, q("payer"))
    _sub(payer, "iinBin", order.payer.iin_bin)
    _sub(payer, "name", order.payer.name)
    _sub(el, "amount", f"{order.amount:.2f}")
    _sub(el, "currency", order.currency)
    _sub(el, "kbk", order.kbk)
    _sub(el, "knp", order.knp)
    _sub(el, "applicationReference", order.application_reference)
    _sub(el, "purpose", order.purpose)
    return root


def status_request(*, order_id: str | None, client_reference: str | None, message_id: str, sender_id: str,
                   now: dt.datetime) -> etree._Element:
    root = _request("GetPaymentStatus", message_id, sender_id, now)
    if order_id is not None:
        _sub(root, "orderId", order_id)
    else:
        _sub(root, "clientReference", client_reference)
    return root


def receipt_request(order_id: str, *, message_id: str, sender_id: str, now: dt.datetime) -> etree._Element:
    root = _request("GetReceipt", message_id, sender_id, now)
    _sub(root, "orderId", order_id)
    return root


def cancel_request(order_id: str, reason: str | None, *, message_id: str, sender_id: str,
                   now: dt.datetime) -> etree._Element:
    root = _request("CancelPaymentOrder", message_id, sender_id, now)
    _sub(root, "orderId", order_id)
    _sub(root, "reason", reason)
    return root


# --------------------------------------------------------------------------- reading

def _text(parent: etree._Element, name: str, *, required: bool = True) -> str | None:
    el = parent.find(q(name))
    if el is None or el.text is None:
        if required:
            raise InvalidResponseError(f"payment gateway answer: {name} is missing", field=name)
        return None
    return str(el.text).strip()


def _req(parent: etree._Element, name: str) -> str:
    value = _text(parent, name)
    assert value is not None
    return value


def _dt(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _amount(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise InvalidResponseError(f"payment gateway answer: amount {value!r} is not a number",
                                   field="amount") from exc


def _payer(parent: etree._Element) -> Payer:
    el = parent.find(q("payer"))
    if el is None:
        raise InvalidResponseError("payment gateway answer: payer is missing", field="payer")
    return Payer(iin_bin=_req(el, "iinBin"), name=_req(el, "name"))


def read_order(payload: etree._Element) -> PaymentOrder:
    """The ``order`` of a CreatePaymentOrder / GetPaymentStatus / CancelPaymentOrder answer."""
    el = payload.find(q("order"))
    if el is None:
        raise InvalidResponseError(f"{etree.QName(payload).localname}: no order", field="order")
    created_at = _dt(_req(el, "createdAt"))
    updated_at = _dt(_req(el, "updatedAt"))
    assert created_at is not None and updated_at is not None
    return PaymentOrder(
        order_id=_req(el, "orderId"), client_reference=_req(el, "clientReference"),
        status=PaymentStatus(_req(el, "status")), status_reason=_text(el, "statusReason", required=False),
        payer=_payer(el), amount=_amount(_req(el, "amount")), currency=_req(el, "currency"),
        kbk=_req(el, "kbk"), knp=_req(el, "knp"), application_reference=_req(el, "applicationReference"),
        purpose=_text(el, "purpose", required=False) or "", created_at=created_at, updated_at=updated_at,
        paid_at=_dt(_text(el, "paidAt", required=False)), document_number=_text(el, "documentNumber", required=False),
    )


def read_created(payload: etree._Element) -> bool:
    return _req(payload, "created") in ("true", "1")


def receipt_element(payload: etree._Element) -> etree._Element:
    el = payload.find(f"{q('receipt')}/{q('PaymentReceipt')}")
    if el is None:
        raise InvalidResponseError("GetReceiptResponse: no receipt/PaymentReceipt", field="receipt")
    return el


def read_receipt(root: etree._Element, *, signer: SignerInfo, signed_xml: bytes) -> Receipt:
    """The data of a *verified* receipt document (``root`` without its signature)."""
    bank = root.find(q("bank"))
    if bank is None:
        raise InvalidResponseError("PaymentReceipt: bank is missing", field="bank")
    paid_at = _dt(_req(root, "paidAt"))
    assert paid_at is not None
    return Receipt(
        document_number=_req(root, "documentNumber"), document_date=dt.date.fromisoformat(_req(root, "documentDate")),
        paid_at=paid_at, order_id=_req(root, "orderId"), client_reference=_req(root, "clientReference"),
        payer=_payer(root), amount=_amount(_req(root, "amount")), currency=_req(root, "currency"),
        kbk=_req(root, "kbk"), knp=_req(root, "knp"), application_reference=_req(root, "applicationReference"),
        bank=Bank(bic=_req(bank, "bic"), name=_req(bank, "name")), signer=signer, signed_xml=signed_xml,
    )
