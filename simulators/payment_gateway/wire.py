"""Wire format of the payment gateway simulator (``schemas/payment/pshep.xsd``, our design).

Reads the four request elements, writes the responses, the receipt document and the Fault
detail. Envelope handling (SOAP 1.1 Body, Fault) is the shared one of ``adapters.core.soap``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from adapters.contracts import schema_errors
from adapters.core.soap import build_envelope, build_fault, xml_datetime
from simulators.payment_gateway.errors import PaymentRefusal
from simulators.payment_gateway.state import OrderDetails, StoredOrder

PAY_NS = "http://schemas.egov-adapters.kz/pshep/v1/Types"
PAY_XSD = "schemas/payment/pshep.xsd"
SUCCESS = ("PSS001", "Message has been processed successfully")
OPERATIONS = ("CreatePaymentOrder", "GetPaymentStatus", "GetReceipt", "CancelPaymentOrder")


def q(name: str) -> str:
    return f"{{{PAY_NS}}}{name}"


@dataclass(frozen=True)
class ParsedRequest:
    operation: str
    message_id: str
    sender_id: str
    password: str
    payload: etree._Element


def read_request(payload: etree._Element) -> ParsedRequest:
    """Validate a request payload and name its operation; PSE001 when it does not match."""
    qname = etree.QName(payload)
    if qname.namespace != PAY_NS or qname.localname not in OPERATIONS:
        raise PaymentRefusal("PSE001", f"unknown operation element {payload.tag}")
    errors = schema_errors(PAY_XSD, payload)
    if errors:
        raise PaymentRefusal("PSE001", f"{qname.localname} does not match pshep.xsd: {errors[0]}")
    info = payload.find(q("requestInfo"))
    assert info is not None  # the schema requires it
    return ParsedRequest(operation=qname.localname, message_id=_t(info, "messageId"),
                         sender_id=_t(info, "senderId"), password=info.findtext(q("password")) or "",
                         payload=payload)


def _t(parent: etree._Element, name: str) -> str:
    return (parent.findtext(q(name)) or "").strip()


def read_order_details(payload: etree._Element) -> OrderDetails:
    order = payload.find(q("order"))
    assert order is not None
    payer = order.find(q("payer"))
    assert payer is not None
    return OrderDetails(client_reference=_t(order, "clientReference"), payer_iin_bin=_t(payer, "iinBin"),
                        payer_name=_t(payer, "name"), amount=Decimal(_t(order, "amount")),
                        currency=_t(order, "currency"), kbk=_t(order, "kbk"), knp=_t(order, "knp"),
                        application_reference=_t(order, "applicationReference"), purpose=_t(order, "purpose"))


def read_key(payload: etree._Element) -> str:
    """The orderId, or the clientReference (GetPaymentStatus accepts either)."""
    return _t(payload, "orderId") or _t(payload, "clientReference")


def read_reason(payload: etree._Element) -> str | None:
    return _t(payload, "reason") or None


# --------------------------------------------------------------------------- writing

def _sub(parent: etree._Element, name: str, text: object | None) -> None:
    if text is not None:
        etree.SubElement(parent, q(name)).text = str(text)


def response_info(now: dt.datetime, code: str = SUCCESS[0], message: str = SUCCESS[1]) -> etree._Element:
    info = etree.Element(q("responseInfo"))
    _sub(info, "messageId", uuid.uuid4())
    _sub(info, "responseDate", xml_datetime(now))
    status = etree.SubElement(info, q("status"))
    _sub(status, "code", code)
    _sub(status, "message", message[:250])
    return info


def _details(parent: etree._Element, o: OrderDetails) -> None:
    _sub(parent, "clientReference", o.client_reference)
    payer = etree.SubElement(parent, q("payer"))
    _sub(payer, "iinBin", o.payer_iin_bin)
    _sub(payer, "name", o.payer_name)
    _sub(parent, "amount", f"{o.amount:.2f}")
    _sub(parent, "currency", o.currency)
    _sub(parent, "kbk", o.kbk)
    _sub(parent, "knp", o.knp)
    _sub(parent, "applicationReference", o.application_reference)


def order_element(o: StoredOrder) -> etree._Element:
    el = etree.Element(q("order"))
    _details(el, o)
    _sub(el, "purpose", o.purpose)
    _sub(el, "orderId", o.order_id)
    _sub(el, "status", o.status)
    _sub(el, "statusReason", o.status_reason)
    _sub(el, "createdAt", xml_datetime(o.created_at))
    _sub(el, "updatedAt", xml_datetime(o.updated_at))
    _sub(el, "paidAt", xml_datetime(o.paid_at) if o.paid_at else None)
    _sub(el, "documentNumber", o.document_number)
    return el


def order_response(operation: str, o: StoredOrder, now: dt.datetime, *, created: bool | None = None) -> etree._Element:
    root = etree.Element(q(f"{operation}Response"), nsmap={"pay": PAY_NS})
    root.append(response_info(now))
    root.append(order_element(o))
    if created is not None:
        _sub(root, "created", "true" if created else "false")
    return root


def receipt_document(o: StoredOrder) -> etree._Element:
    """The unsigned receipt of a paid order (the simulator signs it once, when it is paid)."""
    assert o.paid_at is not None and o.document_number is not None and o.bank_bic and o.bank_name
    root = etree.Element(q("PaymentReceipt"), nsmap={"pay": PAY_NS})
    _sub(root, "documentNumber", o.document_number)
    _sub(root, "documentDate", o.paid_at.astimezone(dt.UTC).date().isoformat())
    _sub(root, "paidAt", xml_datetime(o.paid_at))
    _sub(root, "orderId", o.order_id)
    _details(root, o)
    bank = etree.SubElement(root, q("bank"))
    _sub(bank, "bic", o.bank_bic)
    _sub(bank, "name", o.bank_name)
    return root


def receipt_response(receipt: etree._Element, now: dt.datetime) -> etree._Element:
    root = etree.Element(q("GetReceiptResponse"), nsmap={"pay": PAY_NS})
    root.append(response_info(now))
    etree.SubElement(root, q("receipt")).append(receipt)
    return root


def fault_envelope(refusal: PaymentRefusal, now: dt.datetime) -> etree._Element:
    detail = etree.Element(q("PaymentFault"), nsmap={"pay": PAY_NS})
    _sub(detail, "errorCode", refusal.error_code)
    _sub(detail, "errorMessage", refusal.detail)
    _sub(detail, "errorDate", xml_datetime(now))
    return build_fault("soap:Server" if refusal.server else "soap:Client", refusal.message, detail=detail)


def envelope(payload: etree._Element) -> etree._Element:
    """The answer's envelope, ready for the signer (``xmlns:wsu`` declared)."""
    return build_envelope(payload, declare_wsu=True)
