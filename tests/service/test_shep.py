"""The ShEP proxy over HTTP: the ministry system posts the gateway's unsigned SOAP message; the
service signs it, sends it with the retry policy (one messageId on every attempt), verifies the
answer, journals every attempt, and answers SOAP — the gateway's codes as ``docs/codes.md`` says."""

from __future__ import annotations

import uuid

import requests
from lxml import etree

from adapters.core.xmlparse import NS
from harness.landscape import SENDER_ID, Landscape
from tests.fixtures.control import control_session
from tests.service.conftest import Running

SOAP = {"Content-Type": "text/xml; charset=utf-8"}
SYNC = "http://bip.bee.kz/SyncChannel/v10/Interfaces"
ASYNC = "http://bip.bee.kz/AsyncChannel/v10/Interfaces"


def send_message(message_id: str, service_id: str = "ECHO", sender: str = SENDER_ID) -> bytes:
    return f"""<soap:Envelope xmlns:soap="{NS['soap']}"><soap:Body>
<ns2:SendMessage xmlns:ns2="{SYNC}"><request><requestInfo>
<messageId>{message_id}</messageId><serviceId>{service_id}</serviceId>
<messageDate>2024-05-01T10:00:00Z</messageDate><sender><senderId>{sender}</senderId></sender>
<properties><key>purpose</key><value>test</value></properties>
</requestInfo><requestData><data><ping xmlns="urn:egov-adapters:test">Сәлем</ping></data></requestData>
</request></ns2:SendMessage></soap:Body></soap:Envelope>""".encode()


def async_send(message_id: str, service_id: str = "ECHO") -> bytes:
    return f"""<soap:Envelope xmlns:soap="{NS['soap']}"><soap:Body>
<ns2:sendMessage xmlns:ns2="{ASYNC}"><request><message><messageInfo>
<messageId>{message_id}</messageId><serviceId>{service_id}</serviceId><messageType>REQUEST</messageType>
<messageDate>2024-05-01T10:00:00Z</messageDate><sender><senderId>{SENDER_ID}</senderId></sender>
</messageInfo><messageData><data><ping xmlns="urn:egov-adapters:test">1</ping></data></messageData>
</message></request></ns2:sendMessage></soap:Body></soap:Envelope>""".encode()


def status_request(message_id: str) -> bytes:
    return f"""<soap:Envelope xmlns:soap="{NS['soap']}"><soap:Body>
<ns2:getMessageStatus xmlns:ns2="{ASYNC}"><request><sender><senderId>{SENDER_ID}</senderId></sender>
<messageId>{message_id}</messageId></request></ns2:getMessageStatus></soap:Body></soap:Envelope>""".encode()


def _fault(answer: requests.Response, status: int, code: str, actor: str) -> etree._Element:
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("text/xml")
    assert "Traceback" not in answer.text
    fault = etree.fromstring(answer.content).find(f"{{{NS['soap']}}}Body/{{{NS['soap']}}}Fault")
    assert fault is not None, answer.text
    assert fault.findtext("detail/*/errorCode") == code
    assert fault.findtext("faultactor") == actor
    assert f"request_id={answer.headers['X-Request-ID']}" in (fault.findtext("detail/*/errorData") or "")
    return fault


def _response_info(answer: requests.Response) -> etree._Element:
    assert answer.status_code == 200, answer.text
    info = etree.fromstring(answer.content).find(f".//{{{SYNC}}}SendMessageResponse/response/responseInfo")
    assert info is not None, answer.text
    return info


def _control(landscape: Landscape, method: str, path: str, **kwargs: object) -> requests.Response:
    answer = control_session(landscape.endpoints.control_token).request(
        method, f"{landscape.endpoints.gateway_control_url}{path}", timeout=10, **kwargs)  # type: ignore[arg-type]
    answer.raise_for_status()
    return answer


def test_a_message_is_signed_sent_verified_and_answered(service: Running) -> None:
    message_id = str(uuid.uuid4())
    answer = service.post("/shep/sync", data=send_message(message_id), headers=SOAP, caller="echo")
    info = _response_info(answer)
    assert info.findtext("messageId") == message_id and info.findtext("status/code") == "SCSS001"
    echoed = etree.fromstring(answer.content).find(".//responseData/data/{urn:egov-adapters:test:echo}echo")
    assert echoed is not None and echoed.findtext("{urn:egov-adapters:test}ping") == "Сәлем"
    assert answer.headers["X-Egov-Message-ID"] == message_id and answer.headers["X-Egov-Attempts"] == "1"
    assert "BIN" in answer.headers["X-Egov-Signer"]  # who signed the gateway's answer (verified)


def test_a_reset_is_retried_with_the_same_message_id(service: Running, landscape: Landscape) -> None:
    _control(landscape, "POST", "faults", json={"kind": "reset", "times": 1, "service": "ECHO"})
    message_id = str(uuid.uuid4())
    answer = service.post("/shep/sync", data=send_message(message_id), headers=SOAP, caller="echo")
    assert _response_info(answer).findtext("status/code") == "SCSS001"
    assert answer.headers["X-Egov-Attempts"] == "2"
    seen = _control(landscape, "GET", "journal", params={"message_id": message_id}).json()["entries"]
    assert [(e["message_id"], e["outcome"]) for e in seen] == [(message_id, "injected:reset"), (message_id, "ok")]
    journal = service.runtime.clients.journal
    assert journal is not None
    rows = journal.for_message(message_id)
    assert [(r.attempt, r.outcome, r.service, r.error_code) for r in rows] == [
        (1, "retry", "ECHO", "EGOV401"), (2, "ok", "ECHO", None)]


def test_a_gateway_fault_is_a_soap_fault_with_the_gateway_code(service: Running) -> None:
    fault = _fault(service.post("/shep/sync", data=send_message(str(uuid.uuid4()), "NO_SUCH_SERVICE"),
                                headers=SOAP), 500, "SCE004", "gateway")
    assert fault.findtext("faultcode") == "soap:Client"
    assert "retryable=false" in (fault.findtext("detail/*/errorData") or "")


def test_a_gateway_status_code_is_handed_on_as_a_status(service: Running, landscape: Landscape) -> None:
    _control(landscape, "POST", "faults", json={"kind": "status_code", "code": "SCE013", "times": 1,
                                                "service": "ECHO"})
    message_id = str(uuid.uuid4())
    info = _response_info(service.post("/shep/sync", data=send_message(message_id), headers=SOAP))
    assert (info.findtext("messageId"), info.findtext("status/code")) == (message_id, "SCE013")


def test_what_the_gateway_would_refuse_is_refused_before_sending(service: Running) -> None:
    _fault(service.post("/shep/sync", data=b"<not-soap/>", headers=SOAP), 500, "SCE001", "egov-service")
    _fault(service.post("/shep/sync", data=send_message("not-a-guid"), headers=SOAP), 500, "SCE001", "egov-service")
    _fault(service.post("/shep/sync", data=b"<<<", headers=SOAP), 500, "SCE001", "egov-service")
    _fault(service.post("/shep/sync", data=send_message(str(uuid.uuid4()), sender="SOMEONE_ELSE"), headers=SOAP),
           500, "SCE002", "egov-service")
    _fault(service.post("/shep/sync", data=async_send(str(uuid.uuid4())), headers=SOAP), 500, "SCE001",
           "egov-service")


def test_callers_are_authenticated_and_authorised_by_service_id(service: Running) -> None:
    _fault(service.post("/shep/sync", data=send_message(str(uuid.uuid4())), headers=SOAP, caller=None),
           401, "EGOV601", "egov-service")
    _fault(service.post("/shep/sync", data=send_message(str(uuid.uuid4()), "GbdulInfoByBin_v2"), headers=SOAP,
                        caller="echo"), 403, "EGOV602", "egov-service")
    _fault(service.post("/shep/sync", data=send_message(str(uuid.uuid4())), headers=SOAP, caller="lookup"),
           403, "EGOV602", "egov-service")


def test_the_async_channel_send_and_status(service: Running) -> None:
    message_id = str(uuid.uuid4())
    sent = service.post("/shep/async", data=async_send(message_id), headers=SOAP, caller="full")
    assert sent.status_code == 200, sent.text
    assert etree.fromstring(sent.content).findtext(f".//{{{ASYNC}}}sendMessageResponse/response/messageId") \
        == message_id
    status = service.post("/shep/async", data=status_request(message_id), headers=SOAP, caller="full")
    assert status.status_code == 200, status.text
    response = etree.fromstring(status.content).find(f".//{{{ASYNC}}}getMessageStatusResponse/response")
    assert response is not None and response.findtext("messageId") == message_id
    assert response.findtext("messageState") in ("ON_DELIVERY", "DELIVERED")


def test_the_async_channel_refusals(service: Running) -> None:
    fault = _fault(service.post("/shep/async", data=status_request(str(uuid.uuid4())), headers=SOAP), 500,
                   "SCE020", "gateway")
    assert fault.find("detail/*").tag == f"{{{ASYNC}}}getMessageStatusFault"  # the operation's own ErrorInfo
    _fault(service.post("/shep/async", data=status_request(str(uuid.uuid4())), headers=SOAP, caller="echo"),
           403, "EGOV602", "egov-service")
    _fault(service.post("/shep/async", data=send_message(str(uuid.uuid4())), headers=SOAP), 500, "SCE001",
           "egov-service")


def test_the_proxy_is_counted_under_its_routes_and_other_methods_refused(service: Running) -> None:
    """``POST /shep/*`` is answered in front of the router (service.routes.shep.ShepEndpoints): the
    request context still echoes the request id and counts it under the route's template."""
    def counted() -> float:
        for line in requests.get(f"{service.url}/metrics", timeout=30).text.splitlines():
            if line.startswith('egov_service_requests_total{method="POST",route="/shep/sync",status="200"}'):
                return float(line.split()[-1])
        return 0.0

    before = counted()
    answer = service.post("/shep/sync", data=send_message(str(uuid.uuid4())), headers={**SOAP, "X-Request-ID": "r-1"})
    assert answer.status_code == 200 and answer.headers["X-Request-ID"] == "r-1"
    assert counted() == before + 1
    assert service.get("/shep/sync").status_code == 405
