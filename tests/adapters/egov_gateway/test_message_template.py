"""The SendMessage hot path against zeep itself: the request built from the template is the one
zeep's ``create_message`` renders, and the answer read with lxml is the one zeep's deserialisation
gives (odd answers go to zeep, so they behave as before)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from lxml import etree

from adapters.contracts import SYNC_INTERFACES_XSD, SYNC_WSDL, schema_errors
from adapters.core.errors import InvalidResponseError
from adapters.core.soap import ProcessedResponse
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig.signer import declare_wsu
from adapters.core.xmlsig.wsse import ensure_security
from adapters.egov_gateway import GatewayClient
from adapters.egov_gateway.client import _as_utc, _send_message_template, _text, _zeep_client, _zeep_datetime
from adapters.egov_gateway.fastpath import read_sync_answer
from simulators.egov_gateway.wire import SYNC_NS, sync_response
from tests.gateway_answers import offline_client, processed_answer
from tests.recording_transport import RecordingTransport, StopCall

MESSAGE_ID = "7f6c1c62-3c55-4a55-9a49-5e0b7d7a0001"
SESSION_ID = "0d4c3a9e-2b1f-4c7e-9a55-3f1e2d4c5b6a"


def _data() -> etree._Element:
    app = etree.Element("{urn:app}application", nsmap={"app": "urn:app"})
    etree.SubElement(app, "{urn:app}bin").text = "940140000385"
    etree.SubElement(app, "plain", attr="1").text = "x < y & z"
    return app


def _zeep_request(**kw: Any) -> bytes:
    """The old way: zeep ``create_message``, the data put in, then what the signer adds first
    (the wsu declaration, an empty soap:Header/wsse:Security)."""
    client = _zeep_client(SYNC_WSDL)
    request = {
        "requestInfo": {
            "messageId": kw["message_id"], "correlationId": kw["correlation_id"], "serviceId": kw["service_id"],
            "messageDate": kw["message_date"], "routeId": kw["route_id"],
            "sender": {"senderId": kw["sender_id"], "password": kw["password"]},
            "properties": [{"key": k, "value": v} for k, v in (kw["properties"] or {}).items()],
        },
        "requestData": {"data": ""},
    }
    envelope = client.create_message(client.service, "SendMessage", request=request)
    holder = envelope.find(".//requestData/data")
    holder.text = None
    if kw["data"] is not None:
        holder.append(_data())
    prepared = declare_wsu(parse_xml(etree.tostring(envelope)))
    ensure_security(prepared)
    return bytes(etree.tostring(prepared))


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


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("when", DATES)
def test_template_renders_what_zeep_renders(case: dict[str, Any], when: dt.datetime) -> None:
    kw = {**case, "message_id": MESSAGE_ID, "service_id": "svc", "sender_id": "ministry", "message_date": when}
    template = _send_message_template(SYNC_WSDL)
    built = template.build(**{**kw, "data": _data() if case["data"] else None})
    assert etree.tostring(built) == _zeep_request(**kw)
    # the template itself is untouched by a build
    assert template.build(**{**kw, "data": None}) is not built


def test_template_refuses_what_lxml_refuses() -> None:
    template = _send_message_template(SYNC_WSDL)
    with pytest.raises(ValueError):
        template.build(message_id="\x01", correlation_id=None, service_id="svc", message_date=DATES[0],
                       route_id=None, sender_id="s", password=None, properties=None, data=None)


# --------------------------------------------------------------------------- the answer

_client = offline_client


def _processed(envelope: bytes) -> ProcessedResponse:
    return processed_answer(envelope, SYNC_INTERFACES_XSD)


def _zeep_fields(client: GatewayClient, processed: ProcessedResponse) -> tuple[Any, ...]:
    """What the old ``_sync_response`` read with zeep."""
    info = client._deserialize(client._sync, "SendMessage", processed).responseInfo
    return (str(info.messageId), _text(info.correlationId), _as_utc(info.responseDate), str(info.status.code),
            str(info.status.message or ""), _text(info.sessionId))


def _answer(**overrides: Any) -> bytes:
    kw: dict[str, Any] = {"message_id": MESSAGE_ID, "correlation_id": None, "session_id": SESSION_ID,
                          "status_code": "SCSS001", "status_message": "OK", "data": _data(),
                          "now": dt.datetime(2024, 5, 1, 10, 0, 0, 250000, tzinfo=dt.UTC)}
    kw.update(overrides)
    return sync_response(**kw)


ANSWERS = [
    _answer(),
    _answer(correlation_id="corr-1", session_id=None, data=None),
    _answer(status_code="SCE009", status_message=""),
    _answer(status_message="  spaces kept  "),
    _answer().replace(b"2024-05-01T10:00:00.250Z", b"2024-05-01T15:00:00+05:00"),
    _answer().replace(b"2024-05-01T10:00:00.250Z", b"2024-05-01T10:00:00.1234567Z"),
    _answer().replace(b"2024-05-01T10:00:00.250Z", b"2024-05-01T10:00:00"),
    _answer().replace(b"<message>OK</message>", b"<message/>"),
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_answer_read_with_lxml_is_what_zeep_reads(answer: bytes) -> None:
    client = _client()
    processed = _processed(answer)
    fast = read_sync_answer(processed.payload, _zeep_datetime())
    assert fast is not None
    assert (fast.message_id, fast.correlation_id, _as_utc(fast.response_date), fast.status_code,
            fast.status_message, fast.session_id) == _zeep_fields(client, processed)
    response = client._sync_response(processed, 2)
    assert response.attempts == 2
    assert response.response_date.tzinfo is not None


def test_unusual_answers_go_to_zeep() -> None:
    client = _client()
    typed = _answer().replace(b"<code>", b'<code xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                                         b'xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:type="xs:string">')
    processed = _processed(typed)
    assert read_sync_answer(processed.payload, _zeep_datetime()) is None
    assert client._sync_response(processed, 1).status.code == "SCSS001"


def test_another_element_is_refused_as_zeep_refused_it() -> None:
    client = _client()
    request = etree.fromstring(_zeep_request(
        message_id=MESSAGE_ID, correlation_id=None, service_id="svc", message_date=DATES[0], route_id=None,
        sender_id="s", password=None, properties=None, data=None))
    payload = request.find(f".//{{{SYNC_NS}}}SendMessage")
    assert payload is not None and schema_errors(SYNC_INTERFACES_XSD, payload) == []
    processed = ProcessedResponse(envelope=request, payload=payload)
    assert read_sync_answer(payload, _zeep_datetime()) is None
    with pytest.raises(InvalidResponseError, match="SendMessage answer cannot be read"):
        client._sync_response(processed, 1)


# --------------------------------------------------------------------------- the signed request, old and new

def _ids(monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid as uuid_module

    from adapters.core.xmlsig import wsse

    counter = iter(range(1, 1000))
    monkeypatch.setattr(wsse.uuid, "uuid4", lambda: uuid_module.UUID(int=next(counter)))


def _data_with_comment_and_cdata() -> etree._Element:
    app = _data()
    app.append(etree.Comment(" a note "))
    etree.SubElement(app, "raw").text = etree.CDATA("<not markup> & more")
    return app


@pytest.mark.parametrize("make_data", [_data, _data_with_comment_and_cdata, lambda: None])
def test_signed_request_is_what_the_old_way_signed(make_data: Any, pki: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.core.clock import FrozenClock
    from adapters.core.xmlsig import SigningService

    key = pki.issue(iin="871008401427", bin="940140000385")
    clock = FrozenClock(dt.datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=dt.UTC))
    signing = SigningService(key.key_material, clock=clock)
    recorder = RecordingTransport()
    client = GatewayClient("http://127.0.0.1:9/bip-sync-wss-gost/", signing=signing, verification=object(),
                           sender_id="ministry", sender_password="pw", transport=recorder,  # type: ignore[arg-type]
                           clock=clock)
    data = make_data()
    _ids(monkeypatch)
    with pytest.raises(StopCall):
        client.send_message("svc", data, message_id=MESSAGE_ID, correlation_id="c-1", properties={"k": "v"})

    # the old way: zeep's create_message, the data appended, serialised, then signed from the bytes
    zeep = _zeep_client(SYNC_WSDL)
    envelope = zeep.create_message(zeep.service, "SendMessage", request={
        "requestInfo": {"messageId": MESSAGE_ID, "correlationId": "c-1", "serviceId": "svc",
                        "messageDate": clock.now(), "routeId": None,
                        "sender": {"senderId": "ministry", "password": "pw"},
                        "properties": [{"key": "k", "value": "v"}]},
        "requestData": {"data": ""}})
    holder = envelope.find(".//requestData/data")
    holder.text = None
    if data is not None:
        holder.append(make_data())
    _ids(monkeypatch)
    assert recorder.bodies == [signing.sign_envelope(etree.tostring(envelope))]
    if data is not None and len(data) > 2:
        assert b"<!--" not in recorder.bodies[0] and b"CDATA" not in recorder.bodies[0]
