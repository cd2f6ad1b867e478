"""The payment gateway's answers, read with lxml into the adapter's models.

Each reader takes what has passed the schema check (``schemas/payment/pshep.xsd``): the payload
:class:`adapters.core.soap.ResponsePipeline` hands over, or a receipt document whose signature
was verified and whose signed content matches the schema. Contract, for every reader: texts are
stripped, an empty element is no value; a required value missing, a value that does not convert
(a date, an amount, a status) and a value the model refuses are an :class:`InvalidResponseError`
naming the field. ``tests/adapters/payment_gateway/test_answers.py`` checks the readers against
zeep's ``deserialize``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import pydantic
from lxml import etree

from adapters.core.errors import InvalidResponseError, ValidationError
from adapters.core.soap import require_match
from adapters.core.trust.subject import SignerInfo
from adapters.payment_gateway.messages import q
from adapters.payment_gateway.models import Bank, Payer, PaymentOrder, PaymentStatus, Receipt

PAY_XSD = "schemas/payment/pshep.xsd"
"""The schema every answer and receipt is checked against before it is read."""

T = TypeVar("T")


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


def _converted(name: str, value: str, convert: Callable[[str], T]) -> T:
    try:
        return convert(value)
    except (ValueError, InvalidOperation) as exc:
        raise InvalidResponseError(f"payment gateway answer: {name} {value!r} cannot be read", field=name) from exc


def _datetime(text: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _dt(parent: etree._Element, name: str) -> dt.datetime:
    return _converted(name, _req(parent, name), _datetime)


def _opt_dt(parent: etree._Element, name: str) -> dt.datetime | None:
    value = _text(parent, name, required=False)
    return None if value is None else _converted(name, value, _datetime)


def _amount(parent: etree._Element, name: str = "amount") -> Decimal:
    return _converted(name, _req(parent, name), Decimal)


@contextmanager
def _model(what: str) -> Iterator[None]:
    """A value the model refuses (a payer's IIN/BIN with a wrong check digit, say) is an
    :class:`InvalidResponseError` naming the field."""
    try:
        yield
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidResponseError(f"{what}: {field}: {first['msg']}", field=field) from exc
    except ValidationError as exc:
        raise InvalidResponseError(f"{what}: {exc.message}", field=exc.field) from exc


def _payer(parent: etree._Element) -> Payer:
    el = parent.find(q("payer"))
    if el is None:
        raise InvalidResponseError("payment gateway answer: payer is missing", field="payer")
    return Payer(iin_bin=_req(el, "iinBin"), name=_req(el, "name"))


def read_order(payload: etree._Element) -> PaymentOrder:
    """The ``order`` of a CreatePaymentOrder / GetPaymentStatus / CancelPaymentOrder answer."""
    what = etree.QName(payload).localname
    el = payload.find(q("order"))
    if el is None:
        raise InvalidResponseError(f"{what}: no order", field="order")
    with _model(what):
        return PaymentOrder(
            order_id=_req(el, "orderId"), client_reference=_req(el, "clientReference"),
            status=_converted("status", _req(el, "status"), PaymentStatus),
            status_reason=_text(el, "statusReason", required=False),
            payer=_payer(el), amount=_amount(el), currency=_req(el, "currency"),
            kbk=_req(el, "kbk"), knp=_req(el, "knp"), application_reference=_req(el, "applicationReference"),
            purpose=_text(el, "purpose", required=False) or "", created_at=_dt(el, "createdAt"),
            updated_at=_dt(el, "updatedAt"), paid_at=_opt_dt(el, "paidAt"),
            document_number=_text(el, "documentNumber", required=False),
        )


def require_order(order: PaymentOrder, what: str, *, order_id: str | None = None,
                  client_reference: str | None = None) -> None:
    """The order of an answer is the one the request named (by ``order_id`` and/or our
    ``client_reference``), else :class:`~adapters.core.errors.MismatchedAnswerError` naming the field."""
    if order_id is not None:
        require_match(what, "orderId", order_id, order.order_id)
    if client_reference is not None:
        require_match(what, "clientReference", client_reference, order.client_reference)


def read_created(payload: etree._Element) -> bool:
    """``created`` of a CreatePaymentOrder answer: False when the order already existed."""
    return _req(payload, "created") in ("true", "1")


def receipt_element(payload: etree._Element) -> etree._Element:
    """The signed ``PaymentReceipt`` document inside a GetReceipt answer (verified by the caller)."""
    el = payload.find(f"{q('receipt')}/{q('PaymentReceipt')}")
    if el is None:
        raise InvalidResponseError("GetReceiptResponse: no receipt/PaymentReceipt", field="receipt")
    return el


def read_receipt(root: etree._Element, *, signer: SignerInfo, signed_xml: bytes) -> Receipt:
    """The data of a *verified* receipt document (``root`` without its signature)."""
    bank = root.find(q("bank"))
    if bank is None:
        raise InvalidResponseError("PaymentReceipt: bank is missing", field="bank")
    with _model("PaymentReceipt"):
        return Receipt(
            document_number=_req(root, "documentNumber"),
            document_date=_converted("documentDate", _req(root, "documentDate"), dt.date.fromisoformat),
            paid_at=_dt(root, "paidAt"), order_id=_req(root, "orderId"), client_reference=_req(root, "clientReference"),
            payer=_payer(root), amount=_amount(root), currency=_req(root, "currency"),
            kbk=_req(root, "kbk"), knp=_req(root, "knp"), application_reference=_req(root, "applicationReference"),
            bank=Bank(bic=_req(bank, "bic"), name=_req(bank, "name")), signer=signer, signed_xml=signed_xml,
        )
