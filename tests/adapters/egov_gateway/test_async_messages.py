"""The async polling calls without zeep per call (``adapters.egov_gateway.asyncpath``):
requests, signed requests and the reading of answers are compared with zeep's own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from lxml import etree

from adapters.contracts import ASYNC_INTERFACES_XSD, ASYNC_WSDL
from adapters.core.errors import InvalidResponseError
from adapters.core.soap import ProcessedResponse
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig.signer import declare_wsu
from adapters.core.xmlsig.wsse import ensure_security
from adapters.egov_gateway import GatewayClient
from adapters.egov_gateway.asyncpath import fillable, read_messages_answer, read_status_answer, zeep_request
from adapters.egov_gateway.client import _as_utc, _call_template, _text, _zeep_client, _zeep_datetime
from simulators.egov_gateway.wire import (
    OutgoingAsyncMessage,
    async_ack_response,
    async_messages_response,
    async_status_response,
)
from tests.gateway_answers import offline_client, processed_answer
from tests.recording_transport import RecordingTransport, StopCall

MESSAGE_ID = "6f1c2a0e-8d7b-4a8e-9f3c-2b1d0e9a7c55"
NOW = dt.datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=dt.UTC)


def _zeep_rendered(operation: str, values: dict[str, Any]) -> bytes:
    """The old way: zeep's ``create_message``, serialised, then what the signer adds first."""
    client = _zeep_client(ASYNC_WSDL)
    envelope = client.create_message(client.service, operation, request=zeep_request(values))
    prepared = declare_wsu(parse_xml(etree.tostring(envelope)))
    ensure_security(prepared)
    return bytes(etree.tostring(prepared))


SENDERS = [{"sender/senderId": "ministry", "sender/password": None},
           {"sender/senderId": "ministry", "sender/password": "p\"w'<&>"},
           {"sender/senderId": "", "sender/password": ""}]
GET_MESSAGES = [
    {"serviceId": None, "messageType": None, "correlationId": None, "maxCount": None},
    {"serviceId": "svc", "messageType": "RESPONSE", "correlationId": "corr ж", "maxCount": 10},
    {"serviceId": "", "messageType": "NOTIFICATION", "correlationId": "", "maxCount": 0},
    {"serviceId": "svc", "maxCount": -3},
]


@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("request_values", GET_MESSAGES)
def test_get_messages_template_renders_what_zeep_renders(sender: dict[str, Any],
                                                         request_values: dict[str, Any]) -> None:
    values = {**sender, **request_values}
    assert fillable("getMessages", values)
    built = _call_template(ASYNC_WSDL, "getMessages").build(values)
    assert etree.tostring(built) == _zeep_rendered("getMessages", values)


@pytest.mark.parametrize("operation", ["sendDeliveryNotification", "getMessageStatus"])
@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("message_id", [MESSAGE_ID, "", "a < b & c"])
def test_status_templates_render_what_zeep_renders(operation: str, sender: dict[str, Any], message_id: str) -> None:
    values = {**sender, "messageId": message_id}
    template = _call_template(ASYNC_WSDL, operation)
    built = template.build(values)
    assert etree.tostring(built) == _zeep_rendered(operation, values)
    # the template is untouched by a build
    assert etree.tostring(template.build(values)) == etree.tostring(built)


@pytest.mark.parametrize(("operation", "values"), [
    ("getMessages", {"sender/senderId": "s", "maxCount": True}),
    ("getMessages", {"sender/senderId": "s", "maxCount": "10"}),
    ("getMessages", {"sender/senderId": None}),
    ("getMessages", {"sender/senderId": "s", "serviceId": 5}),
    ("getMessages", {"sender/senderId": "s", "unknown": "x"}),
    ("sendDeliveryNotification", {"sender/senderId": "s", "messageId": None}),
    ("sendDeliveryNotification", {"sender/senderId": b"s", "messageId": "m"}),
])
def test_values_zeep_must_judge_are_not_filled(operation: str, values: dict[str, Any]) -> None:
    assert not fillable(operation, values)


def test_client_renders_unusual_values_with_zeep() -> None:
    client = _client()
    body = client._async_call_body("getMessages", {"serviceId": "svc", "messageType": None, "correlationId": None,
                                                   "maxCount": True})
    assert isinstance(body, bytes)
    assert b"<maxCount>True</maxCount>" in body  # what zeep writes, kept
    fast = client._async_call_body("getMessages", {"serviceId": "svc", "messageType": None, "correlationId": None,
                                                   "maxCount": 1})
    assert isinstance(fast, etree._Element)


# --------------------------------------------------------------------------- the signed request, old and new

def _ids(monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid as uuid_module

    from adapters.core.xmlsig import signer, wsse

    counter = iter(range(1, 1000))

    def fake() -> uuid_module.UUID:
        return uuid_module.UUID(int=next(counter))

    monkeypatch.setattr(wsse.uuid, "uuid4", fake)
    monkeypatch.setattr(signer.uuid, "uuid4", fake)


@pytest.mark.parametrize("call", ["get_messages", "send_delivery_notification", "get_message_status"])
def test_signed_request_is_what_the_old_way_signed(call: str, pki: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.core.clock import FrozenClock
    from adapters.core.xmlsig import SigningService

    key = pki.issue(iin="871008401427", bin="940140000385")
    clock = FrozenClock(NOW)
    signing = SigningService(key.key_material, clock=clock)
    recorder = RecordingTransport()
    client = GatewayClient("http://127.0.0.1:9/bip-sync-wss-gost/", signing=signing, verification=object(),
                           sender_id="ministry", sender_password="pw", transport=recorder,  # type: ignore[arg-type]
                           clock=clock)
    _ids(monkeypatch)
    with pytest.raises(StopCall):
        if call == "get_messages":
            client.get_messages(service_id="svc", correlation_id="c-1", max_count=5)
        else:
            getattr(client, call)(MESSAGE_ID)

    zeep = _zeep_client(ASYNC_WSDL)
    sender = {"senderId": "ministry", "password": "pw"}
    if call == "get_messages":
        operation, request = "getMessages", {"sender": sender, "serviceId": "svc", "messageType": None,
                                             "correlationId": "c-1", "maxCount": 5}
    else:
        operation = "sendDeliveryNotification" if call == "send_delivery_notification" else "getMessageStatus"
        request = {"sender": sender, "messageId": MESSAGE_ID}
    envelope = zeep.create_message(zeep.service, operation, request=request)
    _ids(monkeypatch)
    if call == "get_messages":  # get_messages takes a uuid for its journal messageId before signing
        import uuid

        uuid.uuid4()
    assert recorder.bodies == [signing.sign_envelope(etree.tostring(envelope))]


# --------------------------------------------------------------------------- the answer

_client = offline_client


def _processed(envelope: bytes) -> ProcessedResponse:
    return processed_answer(envelope, ASYNC_INTERFACES_XSD)


def _zeep_status(client: GatewayClient, operation: str, processed: ProcessedResponse) -> tuple[Any, ...]:
    r = client._deserialize(client._async, operation, processed)
    return (str(r.messageId), getattr(r, "messageState", None), r.status.statusCode, r.status.statusMessage,
            _as_utc(r.status.statusDate), _as_utc(r.responseDate))


STATUS_ANSWERS = [
    ("sendDeliveryNotification", async_ack_response(MESSAGE_ID, "SCSS001", "Delivered", NOW)),
    ("sendDeliveryNotification", async_ack_response(MESSAGE_ID, "SCE404", "", NOW)),
    ("sendDeliveryNotification", async_ack_response(MESSAGE_ID, "SCSS001", "  kept  ", NOW).replace(
        b"2024-05-01T10:00:00.250Z", b"2024-05-01T15:00:00+05:00")),
    ("getMessageStatus", async_status_response(MESSAGE_ID, "DELIVERED", "SCSS001", "ok", NOW, NOW)),
    ("getMessageStatus", async_status_response(MESSAGE_ID, "ON_DELIVERY", "SCSS001", "ok", NOW, NOW).replace(
        b"2024-05-01T10:00:00.250Z", b"2024-05-01T10:00:00")),
]


@pytest.mark.parametrize(("operation", "answer"), STATUS_ANSWERS)
def test_status_answer_read_with_lxml_is_what_zeep_reads(operation: str, answer: bytes) -> None:
    client = _client()
    processed = _processed(answer)
    fast = read_status_answer(processed.payload, operation, _zeep_datetime())
    assert fast is not None
    assert (str(fast.message_id), fast.message_state, fast.status_code, fast.status_message,
            _as_utc(fast.status_date), _as_utc(fast.response_date)) == _zeep_status(client, operation, processed)
    state = "DELIVERED" if operation != "getMessageStatus" else None
    if fast.status_message is None:  # an empty statusMessage fails the model: a typed error on both paths
        with pytest.raises(InvalidResponseError, match="status_message"):
            client._message_status(processed, operation, state)
        with pytest.raises(InvalidResponseError, match="status_message"):
            client._message_status(_processed(answer.replace(
                b"<statusCode>", b"<statusCode " + XSI + b' xsi:type="xs:string">')), operation, state)
        return
    status = client._message_status(processed, operation, state)
    assert status.message_id == MESSAGE_ID and status.state is not None


XSI = (b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
       b'xmlns:xs="http://www.w3.org/2001/XMLSchema"')


def _message(**overrides: Any) -> OutgoingAsyncMessage:
    kw: dict[str, Any] = {"message_id": MESSAGE_ID, "correlation_id": "corr-1", "service_id": "svc",
                          "message_type": "NOTIFICATION", "sender_id": "elicense", "created": NOW,
                          "data": b"<n:notice xmlns:n='urn:n'><n:state>PAID</n:state></n:notice>"}
    kw.update(overrides)
    return OutgoingAsyncMessage(**kw)


MESSAGE_ANSWERS = [
    [],
    [_message()],
    [_message(), _message(message_id="m-2", correlation_id=None, data=None, route_id="r-1",
                          properties={"a": "1", "b": ""})],
]


def _zeep_messages(client: GatewayClient, processed: ProcessedResponse) -> list[tuple[Any, ...]]:
    r = client._deserialize(client._async, "getMessages", processed)
    return [(str(i.messageId), _text(i.correlationId), str(i.serviceId), i.messageType, _as_utc(i.messageDate),
             str(i.sender.senderId), _text(i.routeId), {str(p.key): str(p.value or "") for p in (i.properties or [])})
            for i in (item.messageInfo for item in (r.messages or []))]


@pytest.mark.parametrize("messages", MESSAGE_ANSWERS)
def test_messages_read_with_lxml_are_what_zeep_reads(messages: list[OutgoingAsyncMessage]) -> None:
    client = _client()
    processed = _processed(async_messages_response(messages, NOW))
    assert read_messages_answer(processed.payload, _zeep_datetime()) is not None
    read = client._async_messages(processed)
    assert [(m.message_id, m.correlation_id, m.service_id, m.message_type, m.message_date, m.sender_id, m.route_id,
             m.properties) for m in read] == _zeep_messages(client, processed)
    for got, sent in zip(read, messages, strict=True):
        if sent.data is None:
            assert got.data is None
        else:
            assert got.data is not None and etree.QName(got.data).localname == "notice"



def test_unusual_answers_go_to_zeep() -> None:
    client = _client()
    typed = async_ack_response(MESSAGE_ID, "SCSS001", "Delivered", NOW).replace(
        b"<statusCode>", b"<statusCode " + XSI + b' xsi:type="xs:string">')
    processed = _processed(typed)
    assert read_status_answer(processed.payload, "sendDeliveryNotification", _zeep_datetime()) is None
    assert client._message_status(processed, "sendDeliveryNotification", "DELIVERED").status_code == "SCSS001"

    typed_info = async_messages_response([_message()], NOW).replace(
        b"<serviceId>", b"<serviceId " + XSI + b' xsi:type="xs:string">')
    processed = _processed(typed_info)
    assert read_messages_answer(processed.payload, _zeep_datetime()) is None
    assert [m.service_id for m in client._async_messages(processed)] == [_zeep_messages(client, processed)[0][2]]

    typed_data = async_messages_response([_message(data=None)], NOW).replace(
        b"<data/>", b"<data " + XSI + b' xsi:type="xs:string">text</data>')
    processed = _processed(typed_data)
    assert read_messages_answer(processed.payload, _zeep_datetime()) is None
    assert [m.message_id for m in client._async_messages(processed)] == [MESSAGE_ID]


def test_another_answer_is_not_read_as_this_one() -> None:
    processed = _processed(async_status_response(MESSAGE_ID, "DELIVERED", "SCSS001", "ok", NOW, NOW))
    assert read_status_answer(processed.payload, "sendDeliveryNotification", _zeep_datetime()) is None
    assert read_messages_answer(processed.payload, _zeep_datetime()) is None
