"""Sync channel end to end over real HTTP: signed request, signed answer, echo backend."""

from __future__ import annotations

import uuid

import pytest
from lxml import etree

from adapters.core.errors import ValidationError
from adapters.egov_gateway import GatewayFaultError, StatusCodeError
from tests.fixtures.gateway import ECHO_SERVICE, GATEWAY_BIN, GatewayEnv

PAYLOAD_NS = "urn:test:payload"


def payload(text: str = "hello") -> etree._Element:
    el = etree.Element(f"{{{PAYLOAD_NS}}}query", nsmap={"p": PAYLOAD_NS})
    etree.SubElement(el, f"{{{PAYLOAD_NS}}}value").text = text
    return el


def test_send_message_round_trip_signed_both_ways(gateway_env: GatewayEnv) -> None:
    client = gateway_env.client(expect_bin=GATEWAY_BIN)
    mid = str(uuid.uuid4())
    resp = client.send_message(ECHO_SERVICE, payload("привет"), message_id=mid, correlation_id="corr-1",
                               properties={"lang": "kk"})
    assert resp.message_id == mid
    assert resp.correlation_id == "corr-1"
    assert resp.status.code == "SCSS001"
    assert resp.data is not None
    assert resp.data.get("messageId") == mid
    assert resp.data.findtext(f"{{{PAYLOAD_NS}}}query/{{{PAYLOAD_NS}}}value") == "привет"
    assert resp.signer is not None and resp.signer.bin == GATEWAY_BIN
    assert gateway_env.echo.count(mid) == 1
    call = gateway_env.echo.calls[0]
    assert call.properties == {"lang": "kk"}
    assert call.sender_id == "MINISTRY_EDU"
    entries = gateway_env.journal.entries(message_id=mid)
    assert [e.outcome for e in entries] == ["ok"]
    assert entries[0].backend_called


def test_unknown_service_is_final_sce004(gateway_env: GatewayEnv) -> None:
    client = gateway_env.client()
    with pytest.raises(GatewayFaultError) as info:
        client.send_message("NO_SUCH_SERVICE", payload())
    assert info.value.error_code == "SCE004"
    assert not info.value.retryable


def test_wrong_password_is_final_sce002(gateway_env: GatewayEnv) -> None:
    client = gateway_env.client(sender_password="wrong")
    with pytest.raises(GatewayFaultError) as info:
        client.send_message(ECHO_SERVICE, payload())
    assert info.value.error_code == "SCE002"
    assert "wrong password" in info.value.message
    assert gateway_env.echo.count() == 0


def test_backend_business_error_becomes_status_code(gateway_env: GatewayEnv) -> None:
    from adapters.core.errors import NotFoundError
    from simulators.egov_gateway import BackendRequest, BackendResponse

    class Missing:
        def handle(self, request: BackendRequest) -> BackendResponse:
            raise NotFoundError(f"no organisation for message {request.message_id}")

    gateway_env.sim.register_backend("MISSING", Missing())
    with pytest.raises(StatusCodeError) as info:
        gateway_env.client().send_message("MISSING", payload())
    assert info.value.status_code == "SCE013"
    assert not info.value.retryable


def test_service_id_required(gateway_env: GatewayEnv) -> None:
    with pytest.raises(ValidationError):
        gateway_env.client().send_message("", payload())
