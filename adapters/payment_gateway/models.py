"""Data of the payment gateway adapter: what we ask to be paid, the order, its receipt."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.core.identifiers import parse_identifier
from adapters.core.trust.subject import SignerInfo
from adapters.payment_gateway.fee import LICENCE_FEE_KBK, STATE_FEE_KNP

Reference = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/\-]+$")]
Amount = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)]


class PaymentStatus(enum.StrEnum):
    CREATED = "CREATED"
    """Waiting for the bank."""
    PAID = "PAID"
    REJECTED = "REJECTED"
    """Refused by the bank."""
    CANCELLED = "CANCELLED"
    """Cancelled by us before it was paid."""
    REFUNDED = "REFUNDED"

    @property
    def final(self) -> bool:
        """Whether the status can no longer change by itself (only PAID → REFUNDED remains)."""
        return self is not PaymentStatus.CREATED


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Payer(_Model):
    iin_bin: str
    name: Annotated[str, Field(min_length=1, max_length=500)]

    @field_validator("iin_bin")
    @classmethod
    def _valid_number(cls, value: str) -> str:
        parse_identifier(value, "payer.iin_bin")
        return value


class Bank(_Model):
    bic: str
    name: str


class PaymentOrderRequest(_Model):
    """A payment order to create. ``client_reference`` makes creation idempotent: the gateway
    answers a repeated create with the same order, and never charges twice."""

    client_reference: Reference
    payer: Payer
    amount: Amount
    currency: str = "KZT"
    kbk: Annotated[str, Field(pattern=r"^[0-9]{6}$")] = LICENCE_FEE_KBK
    knp: Annotated[str, Field(pattern=r"^[0-9]{3}$")] = STATE_FEE_KNP
    application_reference: Reference
    purpose: Annotated[str, Field(max_length=420)] = "Лицензионный сбор / Лицензиялық алым"


class PaymentOrder(_Model):
    """An order as the payment gateway holds it."""

    order_id: str
    client_reference: str
    status: PaymentStatus
    status_reason: str | None = None
    payer: Payer
    amount: Decimal
    currency: str
    kbk: str
    knp: str
    application_reference: str
    purpose: str
    created_at: dt.datetime
    updated_at: dt.datetime
    paid_at: dt.datetime | None = None
    document_number: str | None = None

    @property
    def paid(self) -> bool:
        return self.status is PaymentStatus.PAID


class CreateOutcome(_Model):
    order: PaymentOrder
    created: bool
    """False when the gateway already had an order with this clientReference (nothing new charged)."""


class Receipt(_Model):
    """A verified receipt: the data, who signed it, and the signed document as received."""

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
    signer: SignerInfo
    signed_xml: bytes = Field(repr=False)
    """The receipt exactly as signed by the gateway: keep it to prove the payment later."""

    def summary(self) -> str:
        """The portal's wording: "16180.00 KZT paid, document No. 90102 of 01.11.2012"."""
        return f"{self.amount:.2f} {self.currency} paid, document No. {self.document_number} " \
               f"of {self.document_date:%d.%m.%Y}"
