"""The gateway's readers (``adapters.egov_gateway.answers``) against zeep, the WSDL's interpreter:
from the same schema-valid answer each reader gives what zeep's ``deserialize`` reads, including
answers with ``xsi:type`` annotations and every ``xsd:dateTime`` form; what differs on purpose
(an empty required string is ``""``, zeep gives None) is pinned here."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from lxml import etree

from adapters.contracts import ASYNC_INTERFACES_XSD, ASYNC_WSDL, SYNC_INTERFACES_XSD, SYNC_WSDL, schema_errors
from adapters.core.errors import InvalidResponseError
from adapters.core.soap import ProcessedResponse, body_of, payload_of
from adapters.egov_gateway import answers, messages
from adapters.egov_gateway.models import MessageStatus
from simulators.egov_gateway.wire import (
    OutgoingAsyncMessage,
    async_ack_response,
    async_messages_response,
    async_send_response,
    async_status_response,
    sync_response,
)
from tests.adapters.contracts import zeep_oracle
from tests.gateway_answers import processed_answer

MESSAGE_ID = "7f6c1c62-3c55-4a55-9a49-5e0b7d7a0001"
SESSION_ID = "0d4c3a9e-2b1f-4c7e-9a55-3f1e2d4c5b6a"
NOW = dt.datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=dt.UTC)
XSI = (b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
       b'xmlns:xs="http://www.w3.org/2001/XMLSchema"')


def _utc(value: Any) -> dt.datetime:
    assert isinstance(value, dt.datetime)
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _data() -> etree._Element:
    app = etree.Element("{urn:app}application", nsmap={"app": "urn:app"})
    etree.SubElement(app, "{urn:app}bin").text = "940140000385"
    return app


# --------------------------------------------------------------------------- SendMessage

def _sync(envelope: bytes) -> ProcessedResponse:
    return processed_answer(envelope, SYNC_INTERFACES_XSD)


def _sync_answer(**overrides: Any) -> bytes:
    kw: dict[str, Any] = {"message_id": MESSAGE_ID, "correlation_id": None, "session_id": SESSION_ID,
                          "status_code": "SCSS001", "status_message": "OK", "data": _data(), "now": NOW}
    kw.update(overrides)
    return sync_response(**kw)


def _zeep_sync(payload: etree._Element) -> tuple[Any, ...]:
    """zeep's reading, in the model's terms (an empty status message, None to zeep, is "")."""
    info = zeep_oracle.deserialize(SYNC_WSDL, "SendMessage", payload).responseInfo
    return (str(info.messageId), _text(info.correlationId), _utc(info.responseDate), str(info.status.code),
            str(info.status.message or ""), _text(info.sessionId))


SYNC_ANSWERS = [
    _sync_answer(),
    _sync_answer(correlation_id="corr-1", session_id=None, data=None),
    _sync_answer(status_code="SCE009", status_message=""),
    _sync_answer(status_message="  spaces kept  "),
    _sync_answer().replace(b"2024-05-01T10:00:00.250Z", b"2024-05-01T15:00:00+05:00"),
    _sync_answer().replace(b"2024-05-01T10:00:00.250Z", b"2024-05-01T10:00:00.1234567Z"),
    _sync_answer().replace(b"2024-05-01T10:00:00.250Z", b"2024-05-01T10:00:00"),
    _sync_answer().replace(b"<message>OK</message>", b"<message/>"),
    # xsi:type annotations change nothing for either reader
    _sync_answer().replace(b"<code>", b"<code " + XSI + b' xsi:type="xs:string">'),
    _sync_answer().replace(b"<responseInfo>", b"<responseInfo " + XSI + b' xsi:type="t:SyncMessageInfoResponse" '
                           b'xmlns:t="http://bip.bee.kz/SyncChannel/v10/Types">'),
]


@pytest.mark.parametrize("answer", SYNC_ANSWERS)
def test_sync_response_is_what_zeep_reads(answer: bytes) -> None:
    processed = _sync(answer)
    read = answers.read_sync_response(processed.payload, signer="signer", attempts=2)
    assert (read.message_id, read.correlation_id, read.response_date, read.status.code, read.status.message,
            read.session_id) == _zeep_sync(processed.payload)
    assert read.response_date.tzinfo is dt.UTC
    assert (read.signer, read.attempts) == ("signer", 2)
    data = processed.payload.find("response/responseData/data")
    assert data is not None
    if len(data):
        assert read.data is not None and read.data is not data[0]
        assert zeep_oracle.exclusive_c14n(read.data) == zeep_oracle.exclusive_c14n(data[0])
    else:
        assert read.data is None


def test_a_request_element_is_not_read_as_an_answer() -> None:
    request = messages.send_message(sender=messages.Sender("s"), message_id=MESSAGE_ID, service_id="svc",
                                    message_date=NOW)
    payload = payload_of(body_of(request))
    assert schema_errors(SYNC_INTERFACES_XSD, payload) == []  # the schema alone would let it through
    with pytest.raises(InvalidResponseError, match="expected SendMessageResponse, got SendMessage"):
        answers.read_sync_response(payload)


# --------------------------------------------------------------------------- async channel

def _async(envelope: bytes) -> ProcessedResponse:
    return processed_answer(envelope, ASYNC_INTERFACES_XSD)


def _zeep_status(operation: str, payload: etree._Element) -> tuple[Any, ...]:
    r = zeep_oracle.deserialize(ASYNC_WSDL, operation, payload)
    return (str(r.messageId), getattr(r, "messageState", None) or "DELIVERED", r.status.statusCode,
            r.status.statusMessage, _utc(r.status.statusDate), _utc(r.responseDate))


def _read_status(operation: str, payload: etree._Element) -> MessageStatus:
    if operation == "getMessageStatus":
        return answers.read_message_status(payload)
    return answers.read_delivery_ack(payload)


STATUS_ANSWERS = [
    ("sendDeliveryNotification", async_ack_response(MESSAGE_ID, "SCSS001", "Delivered", NOW)),
    ("sendDeliveryNotification", async_ack_response(MESSAGE_ID, "SCSS001", "  kept  ", NOW).replace(
        b"2024-05-01T10:00:00.250Z", b"2024-05-01T15:00:00+05:00")),
    ("sendDeliveryNotification", async_ack_response(MESSAGE_ID, "SCSS001", "Delivered", NOW).replace(
        b"<statusCode>", b"<statusCode " + XSI + b' xsi:type="xs:string">')),
    ("getMessageStatus", async_status_response(MESSAGE_ID, "DELIVERED", "SCSS001", "ok", NOW, NOW)),
    ("getMessageStatus", async_status_response(MESSAGE_ID, "ON_DELIVERY", "SCSS001", "ok", NOW, NOW).replace(
        b"2024-05-01T10:00:00.250Z", b"2024-05-01T10:00:00")),
]


@pytest.mark.parametrize(("operation", "answer"), STATUS_ANSWERS)
def test_status_answer_is_what_zeep_reads(operation: str, answer: bytes) -> None:
    payload = _async(answer).payload
    status = _read_status(operation, payload)
    assert (status.message_id, status.state, status.status_code, status.status_message, status.status_date,
            status.response_date) == _zeep_status(operation, payload)


def test_an_empty_status_message_is_the_empty_string_where_zeep_gives_none() -> None:
    payload = _async(async_ack_response(MESSAGE_ID, "SCE404", "", NOW)).payload
    assert zeep_oracle.deserialize(ASYNC_WSDL, "sendDeliveryNotification", payload).status.statusMessage is None
    status = answers.read_delivery_ack(payload)
    assert (status.status_code, status.status_message) == ("SCE404", "")


def test_send_receipt_is_what_zeep_reads() -> None:
    for answer in (async_send_response(MESSAGE_ID, NOW), async_send_response(MESSAGE_ID, NOW, SESSION_ID)):
        payload = _async(answer).payload
        r = zeep_oracle.deserialize(ASYNC_WSDL, "sendMessage", payload)
        receipt = answers.read_send_receipt(payload)
        assert (receipt.message_id, receipt.response_date, receipt.session_id) == (
            str(r.messageId), _utc(r.responseDate), _text(r.sessionId))


def _message(**overrides: Any) -> OutgoingAsyncMessage:
    kw: dict[str, Any] = {"message_id": MESSAGE_ID, "correlation_id": "corr-1", "service_id": "svc",
                          "message_type": "NOTIFICATION", "sender_id": "elicense", "created": NOW,
                          "data": b"<n:notice xmlns:n='urn:n'><n:state>PAID</n:state></n:notice>"}
    kw.update(overrides)
    return OutgoingAsyncMessage(**kw)


def _zeep_messages(payload: etree._Element) -> list[tuple[Any, ...]]:
    r = zeep_oracle.deserialize(ASYNC_WSDL, "getMessages", payload)
    return [(str(i.messageId), _text(i.correlationId), str(i.serviceId), i.messageType, _utc(i.messageDate),
             str(i.sender.senderId), _text(i.routeId), {str(p.key): str(p.value or "") for p in (i.properties or [])})
            for i in (item.messageInfo for item in (r.messages or []))]


MESSAGE_ANSWERS = [
    async_messages_response([], NOW),
    async_messages_response([_message()], NOW),
    async_messages_response([_message(), _message(message_id="m-2", correlation_id=None, data=None,
                                                  route_id="r-1", properties={"a": "1", "b": ""})], NOW),
    async_messages_response([_message()], NOW).replace(b"<serviceId>",
                                                       b"<serviceId " + XSI + b' xsi:type="xs:string">'),
    async_messages_response([_message(data=None)], NOW).replace(
        b"<data/>", b"<data " + XSI + b' xsi:type="xs:string">text</data>'),
]


@pytest.mark.parametrize("answer", MESSAGE_ANSWERS)
def test_messages_are_what_zeep_reads(answer: bytes) -> None:
    payload = _async(answer).payload
    read = answers.read_messages(payload)
    assert [(m.message_id, m.correlation_id, m.service_id, m.message_type, m.message_date, m.sender_id, m.route_id,
             m.properties) for m in read] == _zeep_messages(payload)
    for got, holder in zip(read, payload.iterfind("response/messages/messageData/data"), strict=True):
        elements = [child for child in holder if isinstance(child.tag, str)]
        if elements:
            assert got.data is not None and etree.QName(got.data).localname == "notice"
        else:
            assert got.data is None


def test_a_message_without_message_id_is_refused_naming_the_field() -> None:
    answer = async_messages_response([_message()], NOW).replace(f"<messageId>{MESSAGE_ID}</messageId>".encode(), b"")
    payload = _async(answer).payload  # messageId is optional in the schema, required by the model
    assert zeep_oracle.deserialize(ASYNC_WSDL, "getMessages", payload).messages[0].messageInfo.messageId is None
    with pytest.raises(InvalidResponseError) as info:
        answers.read_messages(payload)
    assert info.value.context["field"] == "message_id"


def test_another_answer_is_not_read_as_this_one() -> None:
    payload = _async(async_status_response(MESSAGE_ID, "DELIVERED", "SCSS001", "ok", NOW, NOW)).payload
    with pytest.raises(InvalidResponseError, match="expected sendDeliveryNotificationResponse"):
        answers.read_delivery_ack(payload)
    with pytest.raises(InvalidResponseError, match="expected getMessagesResponse"):
        answers.read_messages(payload)
    with pytest.raises(InvalidResponseError, match="expected sendMessageResponse"):
        answers.read_send_receipt(payload)


# --------------------------------------------------------------------------- xsd:dateTime

DATE_FORMS = ["2024-05-01T10:00:00.250Z", "2024-05-01T15:00:00+05:00", "2024-05-01T10:00:00.1234567Z",
              "2024-05-01T10:00:00", "2024-05-01T10:00:00.1Z", "0001-01-01T00:00:00Z", "2024-05-01T10:00:00-00:00",
              "2024-05-01T10:00:00+14:00", "2024-05-01T10:00:00.123456789012Z", "2024-05-01T10:00:00+05:30"]


@pytest.mark.parametrize("form", DATE_FORMS)
def test_every_date_form_zeep_reads_is_read_the_same(form: str) -> None:
    processed = _sync(_sync_answer().replace(b"2024-05-01T10:00:00.250Z", form.encode()))
    assert answers.read_sync_response(processed.payload).response_date == _zeep_sync(processed.payload)[2]


@pytest.mark.parametrize("form", ["12024-05-01T10:00:00Z", "-0001-05-01T10:00:00Z", "2024-05-01T24:00:00Z"])
def test_a_date_neither_reader_can_hold_is_an_invalid_answer(form: str) -> None:
    processed = _sync(_sync_answer().replace(b"2024-05-01T10:00:00.250Z", form.encode()))
    # zeep logs the error and reads no value at all
    assert zeep_oracle.deserialize(SYNC_WSDL, "SendMessage", processed.payload).responseInfo.responseDate is None
    with pytest.raises(InvalidResponseError, match="responseDate"):
        answers.read_sync_response(processed.payload)
