"""The e-Government gateway's contract (``docs/gateway.md``, ``docs/codes.md``): its WSDL, signed and
schema-valid answers in the signing profile, its status and error codes, messageId deduplication,
and the async channel's semantics. The sync checks send the Legal Entities register's look-up (the
one service every ministry system is allowed to call)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from lxml import etree

from adapters.contracts import ASYNC_WSDL, SYNC_WSDL
from adapters.core.errors import EgovError
from adapters.core.soap import build_envelope, find_fault, serialize
from adapters.core.xmlparse import parse_xml
from adapters.egov_gateway import messages as gateway_messages
from adapters.egov_gateway.errors import map_fault
from adapters.legal_entities import messages as register_messages
from conformance.contract import check_signing_profile, check_wsdl
from conformance.probe import Probe
from conformance.report import expect

__all__ = ["GATEWAY_CHECKS"]

REGISTER_SERVICE = register_messages.SERVICE_ID_BY_BIN
OTHER_SERVICE = register_messages.SERVICE_ID_BY_IIN
UNKNOWN_SERVICE = "EgovConformanceNoSuchService"
ASYNC_STATES = {"ON_DELIVERY", "DELIVERED", "NOT_DELIVERED", "DELIVERY_STOPPED"}


def _lookup_request(probe: Probe) -> etree._Element:
    request = register_messages.lookup_request(probe.endpoints.requestor_bin, probe.look_up_bin, by="BIN")
    return parse_xml(probe.signing.sign_document(request), what="signed register request")


def _code_of(call: Callable[[], object]) -> str:
    """The gateway's error or status code the call ends with ("none" when it succeeds)."""
    try:
        call()
    except EgovError as exc:
        return str(getattr(exc, "error_code", None) or getattr(exc, "status_code", None) or exc.code)
    return "none (answered SCSS001)"


def wsdl_sync(probe: Probe) -> str:
    return check_wsdl(probe, probe.gateway.endpoint_url, SYNC_WSDL)


def wsdl_async(probe: Probe) -> str:
    return check_wsdl(probe, probe.gateway.async_endpoint_url, ASYNC_WSDL)


def sync_answer(probe: Probe) -> str:
    """SendMessage answered SCSS001, its transport signature by a trusted certificate (of the
    gateway's BIN when one is configured), schema-valid, with our messageId and correlationId."""
    mid, corr = str(uuid.uuid4()), str(uuid.uuid4())
    answer = probe.gateway.send_message(REGISTER_SERVICE, _lookup_request(probe), message_id=mid,
                                        correlation_id=corr)
    expect(answer.message_id == mid, f"messageId {mid}", answer.message_id)
    expect(answer.data is not None, "responseData/data with the register's answer", "no data")
    signer = getattr(answer.signer, "bin", None) or getattr(answer.signer, "iin", None)
    return f"SCSS001, signed by {signer}, messageId and correlationId echoed"


def signing_profile(probe: Probe) -> str:
    """The raw SendMessage answer's signature, judged even when the adapter refused the answer (the
    profile check then says what is wrong with it, the adapter's refusal follows)."""
    before = len(probe.recorder.seen)
    refused: EgovError | None = None
    try:
        probe.gateway.send_message(REGISTER_SERVICE, _lookup_request(probe))
    except EgovError as exc:
        refused = exc
    if len(probe.recorder.seen) == before:  # no answer came back at all
        raise refused or AssertionError("no exchange recorded")
    detail = check_signing_profile(probe.recorder.last().result.body, what="SendMessage answer")
    if refused is not None:
        raise refused
    return detail


def unknown_service(probe: Probe) -> str:
    code = _code_of(lambda: probe.gateway.send_message(UNKNOWN_SERVICE, _lookup_request(probe)))
    expect(code == "SCE004", "SCE004 (service does not exist)", code)
    return "SCE004"


def wrong_sender_password(probe: Probe) -> str:
    client = probe.gateway_client(sender_password="not-the-password-" + uuid.uuid4().hex[:8])
    code = _code_of(lambda: client.send_message(REGISTER_SERVICE, _lookup_request(probe)))
    expect(code == "SCE002", "SCE002 (unknown sender or wrong password)", code)
    return "SCE002"


def unsigned_request(probe: Probe) -> str:
    """A SendMessage without a transport signature is refused with SCE007 in a SOAP Fault."""
    envelope = gateway_messages.send_message(
        sender=gateway_messages.Sender(probe.endpoints.sender_id, probe.sender_password),
        message_id=str(uuid.uuid4()), service_id=REGISTER_SERVICE, message_date=probe.clock.now(),
        data=_lookup_request(probe))
    result = probe.soap.post(probe.gateway.endpoint_url, serialize(envelope), soap_action="SendMessage")
    fault = find_fault(parse_xml(result.body, what="answer to an unsigned SendMessage"))
    expect(fault is not None, "a SOAP Fault", f"HTTP {result.status} without a Fault")
    assert fault is not None
    code = str(getattr(map_fault(fault, result), "error_code", "?"))
    expect(code == "SCE007", "SCE007 (transport signature missing)", code)
    expect(result.status == 500, "HTTP 500 with the Fault", f"HTTP {result.status}")
    return "SCE007 in a SOAP Fault, HTTP 500"


def dedup_same_message(probe: Probe) -> str:
    """The same messageId sent twice gets the same answer: the gateway processed it once."""
    mid = str(uuid.uuid4())
    first = probe.gateway.send_message(REGISTER_SERVICE, _lookup_request(probe), message_id=mid)
    second = probe.gateway.send_message(REGISTER_SERVICE, _lookup_request(probe), message_id=mid)
    expect(second.message_id == first.message_id == mid, f"messageId {mid} twice",
           f"{first.message_id}, {second.message_id}")
    same = (first.data is not None and second.data is not None
            and etree.tostring(first.data, method="c14n") == etree.tostring(second.data, method="c14n"))
    expect(same, "the stored answer again (canonically equal responseData)", "a different answer")
    expect(first.response_date == second.response_date, f"the first answer's responseDate {first.response_date}",
           second.response_date)
    return "the repeated messageId got the stored answer"


def dedup_other_service(probe: Probe) -> str:
    """A messageId already used for one service is refused for another (SCE008)."""
    mid = str(uuid.uuid4())
    probe.gateway.send_message(REGISTER_SERVICE, _lookup_request(probe), message_id=mid)
    code = _code_of(lambda: probe.gateway.send_message(OTHER_SERVICE, _lookup_request(probe), message_id=mid))
    expect(code == "SCE008", "SCE008 (messageId already used for another service)", code)
    return "SCE008"


def async_round_trip(probe: Probe) -> str:
    """sendMessage queues under our messageId (twice: one message); getMessageStatus follows it to
    DELIVERED; the answer arrives with getMessages correlated to it and, acknowledged, is not
    delivered again."""
    mid = str(uuid.uuid4())
    receipt = probe.gateway.send_async(REGISTER_SERVICE, _lookup_request(probe), message_id=mid)
    expect(receipt.message_id == mid, f"the receipt under messageId {mid}", receipt.message_id)
    again = probe.gateway.send_async(REGISTER_SERVICE, _lookup_request(probe), message_id=mid)
    expect(again.message_id == mid, f"the same messageId {mid} for the repeated send", again.message_id)
    states: list[str] = []
    deadline = time.monotonic() + 30
    while True:
        status = probe.gateway.get_message_status(mid)
        states.append(str(status.state))
        expect(status.state in ASYNC_STATES, f"a state among {sorted(ASYNC_STATES)}", status.state)
        if status.state != "ON_DELIVERY" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    expect(status.state == "DELIVERED", "DELIVERED", f"{status.state} ({status.status_code} {status.status_message})")
    arrived = probe.gateway.poll_messages(correlation_id=mid, deadline=30, acknowledge=True)
    expect(len(arrived) == 1, "one answer correlated to the message", f"{len(arrived)}")
    answer = arrived[0]
    expect(answer.message_type == "RESPONSE" and answer.correlation_id == mid,
           f"a RESPONSE with correlationId {mid}", f"{answer.message_type} correlated to {answer.correlation_id}")
    left = probe.gateway.get_messages(correlation_id=mid)
    expect(left == [], "nothing left once acknowledged", f"{len(left)} message(s) delivered again")
    return f"states {' > '.join(dict.fromkeys(states))}; the RESPONSE arrived once"


def async_unknown_message(probe: Probe) -> str:
    code = _code_of(lambda: probe.gateway.get_message_status(str(uuid.uuid4())))
    expect(code == "SCE020", "SCE020 (async message not found)", code)
    return "SCE020"


def malformed_request(probe: Probe) -> str:
    """A signed message that does not match the schema is refused with SCE001."""
    envelope = build_envelope(etree.Element("{urn:egov:conformance}NotAGatewayRequest"))
    signed = probe.signing.sign_envelope(envelope)
    result = probe.soap.post(probe.gateway.endpoint_url, signed, soap_action="SendMessage")
    fault = find_fault(parse_xml(result.body, what="answer to a malformed SendMessage"))
    expect(fault is not None, "a SOAP Fault", f"HTTP {result.status} without a Fault")
    assert fault is not None
    code = str(getattr(map_fault(fault, result), "error_code", "?"))
    expect(code == "SCE001", "SCE001 (message does not match the format)", code)
    return "SCE001"


GATEWAY_CHECKS: tuple[tuple[str, Callable[[Probe], str]], ...] = (
    ("gateway.wsdl.sync", wsdl_sync),
    ("gateway.wsdl.async", wsdl_async),
    ("gateway.sync.answer", sync_answer),
    ("gateway.signing.profile", signing_profile),
    ("gateway.status.unknown-service", unknown_service),
    ("gateway.status.wrong-sender-password", wrong_sender_password),
    ("gateway.status.unsigned-request", unsigned_request),
    ("gateway.status.malformed-request", malformed_request),
    ("gateway.dedup.same-message", dedup_same_message),
    ("gateway.dedup.other-service", dedup_other_service),
    ("gateway.async.round-trip", async_round_trip),
    ("gateway.async.unknown-message", async_unknown_message),
)
