"""The gateway's requests (``adapters.egov_gateway.messages``) against zeep, the WSDL's interpreter:
each builder gives the request zeep's ``create_message`` renders for the same values (canonically,
and byte for byte once the signer's additions are made), valid against the interfaces schema, and
the signed request is the one signed from zeep's rendering."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from adapters.contracts import ASYNC_INTERFACES_XSD, ASYNC_WSDL, SYNC_INTERFACES_XSD, SYNC_WSDL, schema_errors
from adapters.core.errors import ValidationError
from adapters.core.soap import body_of, payload_of
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig.signer import declare_wsu
from adapters.core.xmlsig.wsse import ensure_security
from adapters.egov_gateway import GatewayClient, messages
from adapters.egov_gateway.messages import Sender
from tests.adapters.contracts import zeep_oracle
from tests.recording_transport import RecordingTransport, StopCall

MESSAGE_ID = "7f6c1c62-3c55-4a55-9a49-5e0b7d7a0001"


def _data() -> etree._Element:
    app = etree.Element("{urn:app}application", nsmap={"app": "urn:app"})
    etree.SubElement(app, "{urn:app}bin").text = "940140000385"
    etree.SubElement(app, "plain", attr="1").text = "x < y & z"
    return app


def _data_with_comment_and_cdata() -> etree._Element:
    app = _data()
    app.append(etree.Comment(" a note "))
    etree.SubElement(app, "raw").text = etree.CDATA("<not markup> & more")
    return app


def _with_data(envelope: etree._Element, holder_path: str, data: etree._Element | None) -> etree._Element:
    holder = envelope.find(holder_path)
    assert holder is not None
    holder.text = None
    if data is not None:
        holder.append(data)
    return envelope


def _prepared(envelope: etree._Element) -> bytes:
    """zeep's rendering serialised, read back, with what the signer adds first (the wsu
    declaration, an empty soap:Header/wsse:Security)."""
    prepared = declare_wsu(parse_xml(etree.tostring(envelope)))
    ensure_security(prepared)
    return bytes(etree.tostring(prepared))


def _assert_as_zeep_renders(built: etree._Element, zeep_envelope: etree._Element, xsd: str) -> None:
    built_payload, zeep_payload = payload_of(body_of(built)), payload_of(body_of(zeep_envelope))
    assert zeep_oracle.c14n(built_payload) == zeep_oracle.c14n(zeep_payload)
    assert zeep_oracle.exclusive_c14n(built_payload) == zeep_oracle.exclusive_c14n(zeep_payload)
    assert etree.tostring(built) == _prepared(zeep_envelope)
    assert schema_errors(xsd, built_payload) == []


# --------------------------------------------------------------------------- SendMessage

def _zeep_send_message(**kw: Any) -> etree._Element:
    envelope = zeep_oracle.render(SYNC_WSDL, "SendMessage", request={
        "requestInfo": {
            "messageId": kw["message_id"], "correlationId": kw["correlation_id"], "serviceId": kw["service_id"],
            "messageDate": kw["message_date"], "routeId": kw["route_id"],
            "sender": {"senderId": kw["sender_id"], "password": kw["password"]},
            "properties": [{"key": k, "value": v} for k, v in (kw["properties"] or {}).items()],
        },
        "requestData": {"data": ""},
    })
    return _with_data(envelope, ".//requestData/data", _data() if kw["data"] else None)


CASES: list[dict[str, Any]] = [
    {"correlation_id": None, "route_id": None, "password": None, "properties": None, "data": None},
    {"correlation_id": "corr-1", "route_id": "route-1", "password": "secret", "properties": {"a": "1", "b": "two"},
     "data": True},
    {"correlation_id": "", "route_id": "", "password": "", "properties": {"": ""}, "data": True},
    {"correlation_id": "ж < & >", "route_id": None, "password": "p\"w'", "properties": {"k": None},
     "data": None},
]
DATES = [dt.datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=dt.UTC),
         dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=5))),
         dt.datetime(2024, 5, 1, 10, 0)]


def _send_message(**kw: Any) -> etree._Element:
    return messages.send_message(
        sender=Sender(kw["sender_id"], kw["password"]), message_id=kw["message_id"], service_id=kw["service_id"],
        message_date=kw["message_date"], correlation_id=kw["correlation_id"], route_id=kw["route_id"],
        properties=kw["properties"], data=_data() if kw["data"] else None)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("when", DATES)
def test_send_message_is_what_zeep_renders(case: dict[str, Any], when: dt.datetime) -> None:
    kw = {**case, "message_id": MESSAGE_ID, "service_id": "svc", "sender_id": "ministry", "message_date": when}
    built = _send_message(**kw)
    _assert_as_zeep_renders(built, _zeep_send_message(**kw), SYNC_INTERFACES_XSD)
    # every call builds a tree of its own
    assert _send_message(**kw) is not built


def test_builders_refuse_text_xml_cannot_hold() -> None:
    with pytest.raises(ValidationError) as info:
        messages.send_message(sender=Sender("s"), message_id="\x01", service_id="svc", message_date=DATES[0])
    assert info.value.field == "messageId"
    with pytest.raises(ValidationError) as info:
        messages.send_message(sender=Sender("s", "\x00"), message_id=MESSAGE_ID, service_id="svc",
                              message_date=DATES[0])
    assert info.value.field == "sender/password"


def test_data_is_copied_and_the_callers_element_left_alone() -> None:
    data = _data()
    built = messages.send_message(sender=Sender("s"), message_id=MESSAGE_ID, service_id="svc",
                                  message_date=DATES[0], data=data)
    assert data.getparent() is None
    holder = built.find(".//requestData/data")
    assert holder is not None and len(holder) == 1 and holder[0] is not data
    assert zeep_oracle.exclusive_c14n(holder[0]) == zeep_oracle.exclusive_c14n(data)


def test_data_with_comments_or_cdata_is_sent_as_the_hardened_parser_reads_it() -> None:
    data = _data_with_comment_and_cdata()
    assert not messages.is_plain(data) and messages.is_plain(_data())
    built = messages.send_message(sender=Sender("s"), message_id=MESSAGE_ID, service_id="svc",
                                  message_date=DATES[0], data=data)
    sent = etree.tostring(built)
    assert b"<!--" not in sent and b"CDATA" not in sent and b"&lt;not markup&gt; &amp; more" in sent


# --------------------------------------------------------------------------- async channel

SENDERS = [Sender("ministry"), Sender("ministry", "p\"w'<&>"), Sender("", "")]
GET_MESSAGES: list[dict[str, Any]] = [
    {"service_id": None, "message_type": None, "correlation_id": None, "max_count": None},
    {"service_id": "svc", "message_type": "RESPONSE", "correlation_id": "corr ж", "max_count": 10},
    {"service_id": "", "message_type": "NOTIFICATION", "correlation_id": "", "max_count": 0},
    {"service_id": "svc", "max_count": -3},
]


def _zeep_sender(sender: Sender) -> dict[str, Any]:
    return {"senderId": sender.sender_id, "password": sender.password}


@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("filters", GET_MESSAGES)
def test_get_messages_is_what_zeep_renders(sender: Sender, filters: dict[str, Any]) -> None:
    built = messages.get_messages(sender=sender, **filters)
    zeep = zeep_oracle.render(ASYNC_WSDL, "getMessages", request={
        "sender": _zeep_sender(sender), "serviceId": filters.get("service_id"),
        "messageType": filters.get("message_type"), "correlationId": filters.get("correlation_id"),
        "maxCount": filters.get("max_count")})
    _assert_as_zeep_renders(built, zeep, ASYNC_INTERFACES_XSD)


@pytest.mark.parametrize("operation", messages.MESSAGE_ID_OPERATIONS)
@pytest.mark.parametrize("sender", SENDERS)
@pytest.mark.parametrize("message_id", [MESSAGE_ID, "", "a < b & c"])
def test_message_id_requests_are_what_zeep_renders(operation: str, sender: Sender, message_id: str) -> None:
    built = messages.about_message(operation, sender=sender, message_id=message_id)
    zeep = zeep_oracle.render(ASYNC_WSDL, operation, request={"sender": _zeep_sender(sender), "messageId": message_id})
    _assert_as_zeep_renders(built, zeep, ASYNC_INTERFACES_XSD)
    # every call builds a tree of its own, the same
    again = messages.about_message(operation, sender=sender, message_id=message_id)
    assert again is not built and etree.tostring(again) == etree.tostring(built)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("message_type", ["REQUEST", "NOTIFICATION"])
def test_send_async_message_is_what_zeep_renders(case: dict[str, Any], message_type: str) -> None:
    sender = Sender("ministry", case["password"])
    built = messages.send_async_message(
        sender=sender, message_id=MESSAGE_ID, service_id="svc", message_type=message_type, message_date=DATES[0],
        correlation_id=case["correlation_id"], route_id=case["route_id"], properties=case["properties"],
        data=_data() if case["data"] else None)
    zeep = zeep_oracle.render(ASYNC_WSDL, "sendMessage", request={"message": {
        "messageInfo": {
            "messageId": MESSAGE_ID, "correlationId": case["correlation_id"], "serviceId": "svc",
            "messageType": message_type, "routeId": case["route_id"], "messageDate": DATES[0],
            "sender": _zeep_sender(sender),
            "properties": [{"key": k, "value": v} for k, v in (case["properties"] or {}).items()]},
        "messageData": {"data": ""}}})
    _with_data(zeep, ".//messageData/data", _data() if case["data"] else None)
    _assert_as_zeep_renders(built, zeep, ASYNC_INTERFACES_XSD)


@pytest.mark.parametrize(("build", "field"), [
    (lambda: messages.get_messages(sender=Sender("s"), max_count=True), "maxCount"),
    (lambda: messages.get_messages(sender=Sender("s"), max_count="10"), "maxCount"),
    (lambda: messages.get_messages(sender=Sender("s"), max_count=2**31), "maxCount"),
    (lambda: messages.get_messages(sender=Sender(None)), "sender/senderId"),  # type: ignore[arg-type]
    (lambda: messages.get_messages(sender=Sender("s"), service_id=5), "serviceId"),  # type: ignore[arg-type]
    (lambda: messages.about_message("getMessageStatus", sender=Sender("s"), message_id=None), "messageId"),  # type: ignore[arg-type]
    (lambda: messages.about_message("getMessages", sender=Sender("s"), message_id="m"), "operation"),
])
def test_values_outside_the_contract_are_refused(build: Callable[[], Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    assert info.value.field == field


def test_client_refuses_a_max_count_outside_xsd_int_before_sending() -> None:
    recorder = RecordingTransport()
    client = GatewayClient("http://127.0.0.1:9/bip-sync-wss-gost/", signing=object(), verification=object(),
                           sender_id="ministry", transport=recorder)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="maxCount"):
        client.get_messages(service_id="svc", max_count=True)
    assert recorder.bodies == []


# --------------------------------------------------------------------------- the signed request

def _ids(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.core.xmlsig import signer, wsse

    counter = iter(range(1, 1000))

    def fake() -> uuid.UUID:
        return uuid.UUID(int=next(counter))

    monkeypatch.setattr(wsse.uuid, "uuid4", fake)
    monkeypatch.setattr(signer.uuid, "uuid4", fake)


NOW = dt.datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=dt.UTC)


def _recording_client(pki: Any) -> tuple[GatewayClient, RecordingTransport, Any]:
    from adapters.core.clock import FrozenClock
    from adapters.core.xmlsig import SigningService

    key = pki.issue(iin="871008401427", bin="940140000385")
    clock = FrozenClock(NOW)
    signing = SigningService(key.key_material, clock=clock)
    recorder = RecordingTransport()
    client = GatewayClient("http://127.0.0.1:9/bip-sync-wss-gost/", signing=signing, verification=object(),
                           sender_id="ministry", sender_password="pw", transport=recorder,  # type: ignore[arg-type]
                           clock=clock)
    return client, recorder, signing


@pytest.mark.parametrize("make_data", [_data, _data_with_comment_and_cdata, lambda: None])
def test_signed_send_message_is_what_is_signed_from_zeeps_rendering(make_data: Any, pki: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    client, recorder, signing = _recording_client(pki)
    data = make_data()
    _ids(monkeypatch)
    with pytest.raises(StopCall):
        client.send_message("svc", data, message_id=MESSAGE_ID, correlation_id="c-1", properties={"k": "v"})

    # zeep's create_message, the data appended, serialised, then signed from the bytes
    envelope = zeep_oracle.render(SYNC_WSDL, "SendMessage", request={
        "requestInfo": {"messageId": MESSAGE_ID, "correlationId": "c-1", "serviceId": "svc",
                        "messageDate": NOW, "routeId": None,
                        "sender": {"senderId": "ministry", "password": "pw"},
                        "properties": [{"key": "k", "value": "v"}]},
        "requestData": {"data": ""}})
    _with_data(envelope, ".//requestData/data", make_data())
    _ids(monkeypatch)
    assert recorder.bodies == [signing.sign_envelope(etree.tostring(envelope))]
    if data is not None and len(data) > 2:
        assert b"<!--" not in recorder.bodies[0] and b"CDATA" not in recorder.bodies[0]


@pytest.mark.parametrize("call", ["send_async", "get_messages", "send_delivery_notification", "get_message_status"])
def test_signed_async_request_is_what_is_signed_from_zeeps_rendering(call: str, pki: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    client, recorder, signing = _recording_client(pki)
    _ids(monkeypatch)
    with pytest.raises(StopCall):
        if call == "send_async":
            client.send_async("svc", _data(), message_id=MESSAGE_ID)
        elif call == "get_messages":
            client.get_messages(service_id="svc", correlation_id="c-1", max_count=5)
        else:
            getattr(client, call)(MESSAGE_ID)

    sender = {"senderId": "ministry", "password": "pw"}
    if call == "send_async":
        envelope = zeep_oracle.render(ASYNC_WSDL, "sendMessage", request={"message": {
            "messageInfo": {"messageId": MESSAGE_ID, "correlationId": None, "serviceId": "svc",
                            "messageType": "REQUEST", "routeId": None, "messageDate": NOW,
                            "sender": sender, "properties": []},
            "messageData": {"data": ""}}})
        _with_data(envelope, ".//messageData/data", _data())
    elif call == "get_messages":
        envelope = zeep_oracle.render(ASYNC_WSDL, "getMessages", request={
            "sender": sender, "serviceId": "svc", "messageType": None, "correlationId": "c-1", "maxCount": 5})
    else:
        operation = "sendDeliveryNotification" if call == "send_delivery_notification" else "getMessageStatus"
        envelope = zeep_oracle.render(ASYNC_WSDL, operation, request={"sender": sender, "messageId": MESSAGE_ID})
    _ids(monkeypatch)
    if call == "get_messages":  # get_messages takes a uuid for its journal messageId before signing
        uuid.uuid4()
    assert recorder.bodies == [signing.sign_envelope(etree.tostring(envelope))]


class _ActionRecorder:
    """A transport that notes each request's SOAPAction and stops the call."""

    def __init__(self) -> None:
        self.actions: list[str | None] = []

    def post(self, url: str, body: bytes, *, soap_action: str | None = None, **kwargs: Any) -> Any:
        self.actions.append(soap_action)
        raise StopCall

    def close(self) -> None:
        pass


def test_the_client_sends_each_operation_with_the_wsdls_soap_action(pki: Any) -> None:
    from adapters.core.xmlsig import SigningService

    recorder = _ActionRecorder()
    client = GatewayClient("http://127.0.0.1:9/bip-sync-wss-gost/", verification=object(), sender_id="ministry",
                           signing=SigningService(pki.issue(iin="871008401427").key_material),
                           transport=recorder)  # type: ignore[arg-type]
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("SendMessage", lambda: client.send_message("svc", None)),
        ("sendMessage", lambda: client.send_async("svc", None)),
        ("getMessages", lambda: client.get_messages()),
        ("getMessageStatus", lambda: client.get_message_status(MESSAGE_ID)),
        ("sendDeliveryNotification", lambda: client.send_delivery_notification(MESSAGE_ID)),
    ]
    for _, call in calls:
        with pytest.raises(StopCall):
            call()
    wsdl_actions = {**zeep_oracle.operations(SYNC_WSDL), **zeep_oracle.operations(ASYNC_WSDL)}
    assert recorder.actions == [wsdl_actions[operation] for operation, _ in calls]
