"""The contract: served at ?wsdl with reachable imports, readable by suds (an independent SOAP
client), and the codes table in docs/codes.md matches the code."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from lxml import etree

from adapters.contracts import ASYNC_WSDL, SYNC_WSDL
from adapters.contracts.gateway_codes import CODES
from tests.adapters.contracts import zeep_oracle
from tests.fixtures.gateway import ECHO_SERVICE, SENDER_ID, SENDER_PASSWORD, GatewayEnv
from tests.paths import ROOT


def test_served_wsdl_points_at_the_simulator_and_imports_resolve(gateway_env: GatewayEnv) -> None:
    for path in (gateway_env.sim.sync_url, gateway_env.sim.async_url):
        wsdl = requests.get(path + "?wsdl", timeout=10)
        assert wsdl.status_code == 200
        root = etree.fromstring(wsdl.content)
        address = root.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location")
        assert address == path
        pending = [el.get("schemaLocation") for el in root.iter("{http://www.w3.org/2001/XMLSchema}import")]
        seen: set[str] = set()
        while pending:
            loc = pending.pop()
            if loc in seen:
                continue
            seen.add(loc)
            assert loc.startswith(path + "?xsd=")
            xsd = requests.get(loc, timeout=10)
            assert xsd.status_code == 200, loc
            pending += [el.get("schemaLocation")
                        for el in etree.fromstring(xsd.content).iter("{http://www.w3.org/2001/XMLSchema}import")]
        assert len(seen) >= 3
    assert requests.get(gateway_env.sim.sync_url + "?xsd=../../etc/passwd", timeout=10).status_code == 404


def test_packaged_wsdls_load_in_zeep_without_network() -> None:
    """The WSDL interpreter of the tests (``zeep_oracle``) reads local files only; its SOAPActions
    are the operation names, which is what the gateway client sends."""
    for wsdl, ops in ((SYNC_WSDL, {"SendMessage"}),
                      (ASYNC_WSDL, {"sendMessage", "getMessageStatus", "getMessages", "sendDeliveryNotification"})):
        assert zeep_oracle.operations(wsdl) == {op: op for op in ops}


def test_the_wsdl_interpreter_never_reaches_the_network() -> None:
    client = zeep_oracle.wsdl(SYNC_WSDL)
    with pytest.raises(AssertionError, match="does not fetch"):
        client.transport.load("http://127.0.0.1:9/SyncChannel.wsdl")
    with pytest.raises(AssertionError, match="does not send"):
        client.service.SendMessage(request={
            "requestInfo": {"messageId": str(uuid.uuid4()), "serviceId": "ECHO", "messageDate": "2024-05-01T10:00:00Z",
                            "sender": {"senderId": SENDER_ID}},
            "requestData": {"data": ""}})


def test_suds_client_from_served_wsdl_calls_the_simulator(gateway_env: GatewayEnv) -> None:
    from suds.client import Client
    from suds.plugin import MessagePlugin

    class QualifyWrapper(MessagePlugin):  # type: ignore[misc]
        """suds writes the wrapper with a default namespace, which would capture the unqualified
        children; give it a prefix instead (a known suds quirk with elementFormDefault=unqualified)."""

        def marshalled(self, context: object) -> None:
            body = context.envelope.getChild("Body")  # type: ignore[attr-defined]
            wrapper = body.children[0]
            wrapper.setPrefix("sync", "http://bip.bee.kz/SyncChannel/v10/Interfaces")

    suds = Client(gateway_env.sim.sync_url + "?wsdl", cache=None, nosend=True, plugins=[QualifyWrapper()])
    request = suds.factory.create("{http://bip.bee.kz/SyncChannel/v10/Types/Request}SyncSendMessageRequest")
    mid = str(uuid.uuid4())
    request.requestInfo.messageId = mid
    request.requestInfo.serviceId = ECHO_SERVICE
    request.requestInfo.messageDate = "2024-05-01T10:00:00Z"
    request.requestInfo.sender.senderId = SENDER_ID
    request.requestInfo.sender.password = SENDER_PASSWORD
    request.requestData.data = "plain text payload"
    ctx = suds.service.SendMessage(request)
    envelope = ctx.envelope if isinstance(ctx.envelope, bytes) else ctx.envelope.encode()
    signed = gateway_env.signing().sign_envelope(envelope)
    resp = requests.post(gateway_env.url, data=signed, headers={"Content-Type": "text/xml; charset=utf-8",
                                                                "SOAPAction": '"SendMessage"'}, timeout=10)
    assert resp.status_code == 200, resp.text + envelope.decode()
    reply = ctx.process_reply(resp.content)
    assert reply.responseInfo.messageId == mid
    assert reply.responseInfo.status.code == "SCSS001"
    assert gateway_env.echo.count(mid) == 1


def test_codes_table_in_docs_matches_code() -> None:
    text = (ROOT / "docs" / "codes.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2).strip() for m in
            re.finditer(r"^\|\s*`?(SC[A-Z]+\d+)`?\s*\|[^|]*\|\s*([a-z]+)\s*\|", text, re.MULTILINE)}
    assert set(rows) == set(CODES)
    for code, entry in CODES.items():
        assert rows[code] == ("retryable" if entry.retryable else "final"), code
