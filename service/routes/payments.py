"""``/api/v1/payments``: fee orders at the payment gateway (PShEP) and their signed receipts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from adapters.core.trust.subject import SignerInfo
from adapters.payment_gateway import Bank, CreateOutcome, Payer, PaymentOrder, PaymentOrderRequest
from service.auth import require, runtime_of
from service.routes import API_PREFIX
from service.threadpool import blocking

router = APIRouter(prefix=f"{API_PREFIX}/payments", tags=["Payments"])

OrderId = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                              description="the payment gateway's order id (a UUID)")]


class CancelRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=500, description="why the order is cancelled")


class ReceiptAnswer(BaseModel):
    """A receipt whose signature, certificate (chain, validity, revocation) and payment gateway's BIN
    were verified, with the signed document exactly as the gateway signed it."""

    document_number: str
    document_date: dt.date
    paid_at: dt.datetime
    order_id: str
    client_reference: str
    payer: Payer
    amount: Decimal
    currency: str
    kbk: str
    knp: str
    application_reference: str
    bank: Bank
    summary: str = Field(description='the portal\'s wording: "16180.00 KZT paid, document No. ... of ..."')
    signer: SignerInfo = Field(description="who signed the receipt")
    signed_xml: str = Field(description="the signed receipt (XML), to keep as proof of payment")


@router.post("", response_model=CreateOutcome, status_code=201, summary="Create a fee order (idempotent)",
             dependencies=[Depends(require("payments:create"))],
             responses={200: {"model": CreateOutcome, "description": "an order with this client_reference "
                                                                     "existed already: it is returned, nothing new"}})
@blocking
def create_order(request: Request, order: PaymentOrderRequest, response: Response) -> CreateOutcome:
    """Create the order, or return the one that has this ``client_reference`` already (HTTP 200,
    ``created: false``): repeating a create whose answer was lost never charges twice. The same
    reference with other data is refused (409, PSE005)."""
    outcome = runtime_of(request).clients.payment.create_order(order)
    if not outcome.created:
        response.status_code = 200
    return outcome


@router.get("", response_model=PaymentOrder, summary="An order by client reference",
            dependencies=[Depends(require("payments:status"))])
@blocking
def order_by_reference(request: Request, client_reference: Annotated[str, Query(
        min_length=1, max_length=64, description="our reference the order was created with")]) -> PaymentOrder:
    return runtime_of(request).clients.payment.get_status(client_reference=client_reference)


@router.get("/{order_id}", response_model=PaymentOrder, summary="An order's status",
            dependencies=[Depends(require("payments:status"))])
@blocking
def order_status(request: Request, order_id: OrderId) -> PaymentOrder:
    return runtime_of(request).clients.payment.get_status(order_id)


@router.get("/{order_id}/receipt", response_model=ReceiptAnswer, summary="The verified receipt of a paid order",
            dependencies=[Depends(require("payments:receipt"))])
@blocking
def receipt(request: Request, order_id: OrderId) -> ReceiptAnswer:
    """An unpaid order has no receipt (409, PSE007)."""
    r = runtime_of(request).clients.payment.get_receipt(order_id)
    return ReceiptAnswer(
        document_number=r.document_number, document_date=r.document_date, paid_at=r.paid_at, order_id=r.order_id,
        client_reference=r.client_reference, payer=r.payer, amount=r.amount, currency=r.currency, kbk=r.kbk,
        knp=r.knp, application_reference=r.application_reference, bank=r.bank, summary=r.summary(),
        signer=r.signer, signed_xml=r.signed_xml.decode("utf-8"))


@router.post("/{order_id}/cancel", response_model=PaymentOrder, summary="Cancel an unpaid order",
             dependencies=[Depends(require("payments:cancel"))])
@blocking
def cancel(request: Request, order_id: OrderId, body: CancelRequest | None = None) -> PaymentOrder:
    """A paid order cannot be cancelled (409, PSE006)."""
    return runtime_of(request).clients.payment.cancel_order(order_id, body.reason if body else None)
