"""Async channel over real HTTP: send, poll the answer, status, notifications, acknowledgement."""

from __future__ import annotations

import uuid

import pytest
from lxml import etree

from adapters.egov_gateway import GatewayFaultError
from tests.fixtures.gateway import ECHO_SERVICE, SENDER_ID, GatewayEnv


def payload(text: str) -> etree._Element:
    el = etree.Element("{urn:test:async}ask")
    el.text = text
    return el


def test_request_answer_is_queued_and_pulled(gateway_env: GatewayEnv) -> None:
    client = gateway_env.client()
    mid = str(uuid.uuid4())
    receipt = client.send_async(ECHO_SERVICE, payload("async hello"), message_id=mid)
    assert receipt.message_id == mid
    messages = client.poll_messages(correlation_id=mid, deadline=10, initial=0.02, max_interval=0.1)
    assert len(messages) == 1
    answer = messages[0]
    assert answer.message_type == "RESPONSE"
    assert answer.correlation_id == mid
    assert answer.service_id == ECHO_SERVICE
    assert answer.data is not None and answer.data.findtext("{urn:test:async}ask") == "async hello"
    status = client.get_message_status(mid)
    assert status.state == "DELIVERED" and status.status_code == "SCSS001"
    # acknowledged by poll_messages: not delivered again, and marked delivered
    assert client.get_messages(correlation_id=mid) == []
    assert client.get_message_status(answer.message_id).state == "DELIVERED"
    assert gateway_env.echo.count(mid) == 1


def test_async_send_retry_with_same_message_id_is_not_duplicated(gateway_env: GatewayEnv) -> None:
    client = gateway_env.client()
    mid = str(uuid.uuid4())
    client.send_async(ECHO_SERVICE, payload("once"), message_id=mid)
    client.send_async(ECHO_SERVICE, payload("once"), message_id=mid)
    client.poll_messages(correlation_id=mid, deadline=10, initial=0.02, max_interval=0.1)
    assert gateway_env.echo.count(mid) == 1
    assert [e.outcome for e in gateway_env.journal.entries(message_id=mid, operation="sendMessage")] == [
        "ok", "dedup"]


def test_published_notification_is_pulled_and_acknowledged(gateway_env: GatewayEnv) -> None:
    client = gateway_env.client()
    note = etree.Element("{urn:test:async}licenceIssued")
    note.text = "KZ-LIC-0001"
    published = gateway_env.sim.publish(SENDER_ID, "ELICENSE", "NOTIFICATION", note)
    messages = client.get_messages(message_type="NOTIFICATION")
    assert [m.message_id for m in messages] == [published]
    assert messages[0].data is not None and messages[0].data.text == "KZ-LIC-0001"
    assert client.get_message_status(published).state == "ON_DELIVERY"
    ack = client.send_delivery_notification(published)
    assert ack.status_code == "SCSS001"
    assert client.get_messages(message_type="NOTIFICATION") == []
    assert client.get_message_status(published).state == "DELIVERED"


def test_unknown_async_message_is_sce020(gateway_env: GatewayEnv) -> None:
    with pytest.raises(GatewayFaultError) as info:
        gateway_env.client().get_message_status(str(uuid.uuid4()))
    assert info.value.error_code == "SCE020" and not info.value.retryable


def test_async_send_to_unknown_service_is_sce004(gateway_env: GatewayEnv) -> None:
    with pytest.raises(GatewayFaultError) as info:
        gateway_env.client().send_async("NOPE", payload("x"))
    assert info.value.error_code == "SCE004"
