"""The gateway's served WSDL names the gateway's own address, never the caller's ``Host`` (issue 11, item 12).

Over real HTTP: a caller sending ``Host: evil.example`` gets a WSDL (and schemas) whose service
address and imports are the simulator's URL, or the configured public base URL when one is set
(as behind a proxy). An HTTP/1.1 request without ``Host`` is refused 400 before any handler runs
(RFC 9112 section 3.2; this test holds the server to that).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
from lxml import etree

from adapters.core.errors import ConfigurationError
from adapters.core.xmlsig import VerificationService
from simulators.egov_gateway import GatewaySimulator
from simulators.registry import default_registry
from tests.fixtures.gateway import GatewayEnv, GatewayKeys

SOAP_ADDRESS = "{http://schemas.xmlsoap.org/wsdl/soap/}address"
XSD_IMPORT = "{http://www.w3.org/2001/XMLSchema}import"
PUBLIC = "https://shep.example.kz:8443"


def _addresses(document: bytes) -> list[str]:
    root = etree.fromstring(document)
    return [el.get("location", "") for el in root.iter(SOAP_ADDRESS)] + \
        [el.get("schemaLocation", "") for el in root.iter(XSD_IMPORT)]


def _served(url: str, host: str) -> list[str]:
    wsdl = requests.get(url + "?wsdl", headers={"Host": host}, timeout=10)
    assert wsdl.status_code == 200
    found = _addresses(wsdl.content)
    schema = next(a for a in found if "?xsd=" in a)
    xsd = requests.get(url + "?xsd=" + schema.split("?xsd=", 1)[1], headers={"Host": host}, timeout=10)
    assert xsd.status_code == 200
    return found + _addresses(xsd.content)


def test_a_callers_host_does_not_become_the_service_address(gateway_env: GatewayEnv) -> None:
    for url in (gateway_env.sim.sync_url, gateway_env.sim.async_url):
        addresses = _served(url, "evil.example")
        assert len(addresses) >= 3
        assert all(a == url or a.startswith(url + "?xsd=") for a in addresses), addresses
        assert not any("evil" in a for a in addresses)


@pytest.fixture
def public_gateway(gateway_keys: GatewayKeys) -> Iterator[GatewaySimulator]:
    sim = GatewaySimulator(key=gateway_keys.gateway.key_material,
                           verification=VerificationService(gateway_keys.validator), public_url=PUBLIC + "/")
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


def test_the_configured_public_url_is_the_service_address(public_gateway: GatewaySimulator) -> None:
    assert public_gateway.sync_url == f"{PUBLIC}{GatewaySimulator.SYNC_PATH}"
    listening = public_gateway.server.listen_url if public_gateway.server else ""
    assert listening.startswith("http://127.0.0.1:")
    addresses = _served(listening + GatewaySimulator.SYNC_PATH, "evil.example")
    assert all(a.startswith(public_gateway.sync_url) for a in addresses), addresses


@pytest.mark.parametrize("bad", ["ftp://shep.example.kz", "https://shep.example.kz/path", "shep.example.kz",
                                 "https://user@shep.example.kz", "http://:80"])
def test_a_public_url_that_is_not_a_base_url_is_refused_before_start(bad: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        default_registry().validate({"gateway": {"public_url": bad}})
    assert caught.value.context["setting"] == "gateway.public_url"


def test_http_1_1_without_host_is_refused_before_any_handler(gateway_env: GatewayEnv) -> None:
    port = int(gateway_env.sim.url.rsplit(":", 1)[1])
    before = gateway_env.sim.journal.count()
    for request in (b"GET /bip-sync-wss-gost/?wsdl HTTP/1.1\r\n\r\n",
                    b"POST /bip-sync-wss-gost/ HTTP/1.1\r\nContent-Type: text/xml\r\nContent-Length: 2\r\n\r\n<a"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:80]
        assert b"Connection: close" in answer
    assert gateway_env.sim.journal.count() == before
