"""The payment gateway's requests, built with lxml (``wsdl/payment/pshep.wsdl``, ``schemas/payment/pshep.xsd``).

Contract, for every builder: the Body's element of the operation, every element in the ``pay``
namespace (``elementFormDefault="qualified"``), in schema order; an optional field whose value is
None is left out; ``xsd:dateTime`` in UTC with milliseconds, amounts with two decimals. The
client puts the element in an envelope (``adapters.core.soap.build_envelope``) and signs it.
``tests/adapters/payment_gateway/test_messages.py`` checks every builder against zeep's
``create_message`` (C14N) and the schema.
"""

from __future__ import annotations

import datetime as dt

from lxml import etree

from adapters.core.soap import xml_datetime
from adapters.payment_gateway.models import PaymentOrderRequest

PAY_NS = "http://schemas.egov-adapters.kz/pshep/v1/Types"
SOAP_ACTION = "urn:pshep:{operation}"


def q(name: str) -> str:
    """Clark name in the payment gateway's namespace."""
    return f"{{{PAY_NS}}}{name}"


def _sub(parent: etree._Element, name: str, text: object | None) -> None:
    if text is not None:
        etree.SubElement(parent, q(name)).text = str(text)


def _request(operation: str, message_id: str, sender_id: str, password: str, now: dt.datetime) -> etree._Element:
    """The operation's element opening with ``requestInfo``: who sends (id and password), which message, when."""
    root = etree.Element(q(operation), nsmap={"pay": PAY_NS})
    info = etree.SubElement(root, q("requestInfo"))
    _sub(info, "messageId", message_id)
    _sub(info, "messageDate", xml_datetime(now))
    _sub(info, "senderId", sender_id)
    _sub(info, "password", password)
    return root


def create_request(order: PaymentOrderRequest, *, message_id: str, sender_id: str, password: str,
                   now: dt.datetime) -> etree._Element:
    """``CreatePaymentOrder``."""
    root = _request("CreatePaymentOrder", message_id, sender_id, password, now)
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
                   password: str, now: dt.datetime) -> etree._Element:
    """``GetPaymentStatus`` by ``order_id`` or, when it is None, by ``client_reference``."""
    root = _request("GetPaymentStatus", message_id, sender_id, password, now)
    if order_id is not None:
        _sub(root, "orderId", order_id)
    else:
        _sub(root, "clientReference", client_reference)
    return root


def receipt_request(order_id: str, *, message_id: str, sender_id: str, password: str,
                    now: dt.datetime) -> etree._Element:
    """``GetReceipt``."""
    root = _request("GetReceipt", message_id, sender_id, password, now)
    _sub(root, "orderId", order_id)
    return root


def cancel_request(order_id: str, reason: str | None, *, message_id: str, sender_id: str, password: str,
                   now: dt.datetime) -> etree._Element:
    """``CancelPaymentOrder``."""
    root = _request("CancelPaymentOrder", message_id, sender_id, password, now)
    _sub(root, "orderId", order_id)
    _sub(root, "reason", reason)
    return root
