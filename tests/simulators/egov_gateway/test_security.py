"""The simulator refuses badly signed requests (SCE005/SCE006/SCE007), a schema-invalid request
(SCE001), and the answers it signs are accepted by an independent verifier (xmlsec1)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from adapters.core.clock import FrozenClock
from adapters.core.xmlparse import NS
from adapters.core.xmlsig import SigningService
from tests.fixtures.gateway import ECHO_SERVICE, SENDER_ID, SENDER_PASSWORD, GatewayEnv

ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
                  xmlns:sync="http://bip.bee.kz/SyncChannel/v10/Interfaces">
  <soapenv:Body>
    <sync:SendMessage>
      <request>
        <requestInfo>
          <messageId>{mid}</messageId>
          <serviceId>{service}</serviceId>
          <messageDate>2024-05-01T10:00:00.000+06:00</messageDate>
          <sender><senderId>{sender}</senderId><password>{password}</password></sender>
        </requestInfo>
        <requestData><data><q xmlns="urn:hand:written">Hello from a hand-written envelope</q></data></requestData>
      </request>
    </sync:SendMessage>
  </soapenv:Body>
</soapenv:Envelope>
"""


def hand_written(mid: str | None = None, service: str = ECHO_SERVICE) -> bytes:
    return ENVELOPE.format(mid=mid or uuid.uuid4(), service=service, sender=SENDER_ID,
                           password=SENDER_PASSWORD).encode()


def post(env: GatewayEnv, body: bytes) -> requests.Response:
    return requests.post(env.url, data=body, headers={"Content-Type": "text/xml; charset=utf-8",
                                                      "SOAPAction": '"SendMessage"'}, timeout=10)


def fault_code(resp: requests.Response) -> str | None:
    root = etree.fromstring(resp.content)
    return root.findtext(".//{http://bip.bee.kz/SyncChannel/v10/Interfaces}"
                         "SendMessageFault1_SendMessageFault/errorCode")


def test_raw_post_of_signed_hand_written_envelope(gateway_env: GatewayEnv) -> None:
    mid = str(uuid.uuid4())
    signed = gateway_env.signing().sign_envelope(hand_written(mid))
    resp = post(gateway_env, signed)
    assert resp.status_code == 200
    root = etree.fromstring(resp.content)
    assert root.findtext(".//responseInfo/messageId") == mid
    assert root.findtext(".//responseInfo/status/code") == "SCSS001"
    assert root.findtext(".//{urn:hand:written}q") == "Hello from a hand-written envelope"
    assert gateway_env.echo.count(mid) == 1


def test_tampered_request_is_refused_sce006(gateway_env: GatewayEnv) -> None:
    signed = gateway_env.signing().sign_envelope(hand_written())
    tampered = signed.replace(b"Hello from a hand-written envelope", b"Hello from a man in the middle")
    resp = post(gateway_env, tampered)
    assert resp.status_code == 500
    assert fault_code(resp) == "SCE006"
    assert b"digest" in resp.content.lower()
    assert gateway_env.echo.count() == 0


def test_unsigned_request_is_refused_sce007(gateway_env: GatewayEnv) -> None:
    resp = post(gateway_env, hand_written())
    assert fault_code(resp) == "SCE007"
    assert gateway_env.echo.count() == 0


def test_expired_timestamp_is_refused_sce005(gateway_env: GatewayEnv) -> None:
    past = FrozenClock(dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    stale = SigningService(gateway_env.keys.client.key_material, clock=past)
    resp = post(gateway_env, stale.sign_envelope(hand_written()))
    assert fault_code(resp) == "SCE005"
    assert gateway_env.echo.count() == 0


def test_schema_invalid_request_is_refused_sce001(gateway_env: GatewayEnv) -> None:
    bad = hand_written(mid="not-a-guid")
    resp = post(gateway_env, gateway_env.signing().sign_envelope(bad))
    assert fault_code(resp) == "SCE001"
    assert b"messageId" in resp.content


def test_garbage_request_is_refused_sce001(gateway_env: GatewayEnv) -> None:
    resp = post(gateway_env, b"<not-closed>")
    assert resp.status_code == 500 and fault_code(resp) == "SCE001"


def test_answer_signature_accepted_by_xmlsec1(gateway_env: GatewayEnv, tmp_path: Path) -> None:
    if shutil.which("xmlsec1") is None:
        pytest.skip("xmlsec1 is not installed")
    resp = post(gateway_env, gateway_env.signing().sign_envelope(hand_written()))
    answer = tmp_path / "answer.xml"
    answer.write_bytes(resp.content)
    cert = tmp_path / "gateway.pem"
    cert.write_bytes(gateway_env.keys.gateway.key_material.certificate.public_bytes(Encoding.PEM))
    run = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", str(cert),
                          "--id-attr:Id", f"{NS['soap']}:Body", "--id-attr:Id", f"{NS['wsu']}:Timestamp",
                          str(answer)], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert "SignedInfo References (ok/all): 2/2" in run.stdout + run.stderr
