"""What the gateway adapter returns."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

MessageType = Literal["REQUEST", "RESPONSE", "NOTIFICATION", "UPDATE"]
MessageState = Literal["ON_DELIVERY", "DELIVERED", "NOT_DELIVERED", "DELIVERY_STOPPED"]


class GatewayStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class SyncResponse(BaseModel):
    """``responseInfo`` of a sync answer, plus the element inside ``responseData/data``."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    message_id: str
    correlation_id: str | None = None
    response_date: dt.datetime
    status: GatewayStatus
    session_id: str | None = None
    data: etree._Element | None = Field(None, description="the business answer, if any")
    signer: object | None = Field(None, description="who signed the answer (SignerInfo)")
    attempts: int = 1


class AsyncMessage(BaseModel):
    """A message pulled from the async channel with ``getMessages``."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    message_id: str
    correlation_id: str | None = None
    service_id: str
    message_type: MessageType
    message_date: dt.datetime
    sender_id: str
    route_id: str | None = None
    properties: dict[str, str] = Field(default_factory=dict)
    data: etree._Element | None = None


class MessageStatus(BaseModel):
    """Answer of ``getMessageStatus`` (and of ``sendDeliveryNotification``)."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    state: MessageState | None = None
    status_code: str
    status_message: str
    status_date: dt.datetime
    response_date: dt.datetime


class SendReceipt(BaseModel):
    """Answer of the async ``sendMessage``: the id under which the gateway queued the message."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    response_date: dt.datetime
    session_id: str | None = None
