"""Every simulator of a landscape serves its contract at ``?wsdl`` (schemas at ``?xsd=``, every import
reachable on the same server) and the index of its control API at ``/_control/`` (behind the
landscape's token)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from lxml import etree

from harness.landscape import Landscape
from simulators.common.control_guard import control_headers

SOAP_ADDRESS = "{http://schemas.xmlsoap.org/wsdl/soap/}address"
XSD_IMPORTS = ("{http://www.w3.org/2001/XMLSchema}import", "{http://www.w3.org/2001/XMLSchema}include")


@pytest.fixture(scope="module")
def landscape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landscape]:
    with Landscape.start(Path(tmp_path_factory.mktemp("contracts"))) as land:
        yield land


def _endpoints(land: Landscape) -> list[str]:
    e = land.endpoints
    assert e.gateway_async_url is not None
    return [e.gateway_url, e.gateway_async_url, e.payment_gateway_url, e.elicense_url,
            e.elicense_url.rstrip("/") + "/universal-license/"]


@pytest.mark.parametrize("which", range(5), ids=["gateway-sync", "gateway-async", "payment-gateway",
                                                 "elicense", "elicense-search"])
def test_the_wsdl_and_every_schema_it_imports_come_from_the_simulator(landscape: Landscape, which: int) -> None:
    endpoint = _endpoints(landscape)[which]
    base = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
    answer = requests.get(endpoint + "?wsdl", timeout=10)
    assert answer.status_code == 200, answer.text
    wsdl = etree.fromstring(answer.content)
    addresses = [el.get("location") or "" for el in wsdl.iter(SOAP_ADDRESS)]
    assert addresses and all(a.startswith(base + "/") for a in addresses)
    assert endpoint in addresses
    pending = [el.get("schemaLocation") for tag in XSD_IMPORTS for el in wsdl.iter(tag) if el.get("schemaLocation")]
    assert pending
    seen: set[str] = set()
    while pending:
        location = pending.pop()
        if location in seen:
            continue
        seen.add(location)
        assert location.startswith(endpoint + "?xsd=")
        schema = requests.get(location, timeout=10)
        assert schema.status_code == 200, location
        pending += [el.get("schemaLocation") for tag in XSD_IMPORTS
                    for el in etree.fromstring(schema.content).iter(tag) if el.get("schemaLocation")]
    assert requests.get(endpoint + "?xsd=../../etc/passwd", timeout=10).status_code == 404


def _control_bases(land: Landscape) -> dict[str, str]:
    e = land.endpoints
    urls = {"gateway": e.gateway_control_url, "payment_gateway": e.payment_control_url,
            "elicense": e.elicense_control_url, "pki": e.pki_control_url}
    return {name: "{0.scheme}://{0.netloc}".format(urlsplit(url)) for name, url in urls.items() if url}


def test_every_simulator_indexes_its_control_api_behind_the_token(landscape: Landscape) -> None:
    token = landscape.endpoints.control_token
    assert token is not None
    bases = _control_bases(landscape)
    assert set(bases) == {"gateway", "payment_gateway", "elicense", "pki"}
    for name, base in bases.items():
        assert requests.get(f"{base}/_control/", timeout=10).status_code in (401, 403), name
        answer = requests.get(f"{base}/_control/", headers=control_headers(token), timeout=10)
        assert answer.status_code == 200, (name, answer.text)
        routes = answer.json()["routes"]
        assert routes and all(r["path"].startswith("/_control") for r in routes), name
        # each route the index names is one the simulator answers (not a 404 of an unknown route)
        first = next(r for r in routes if r["method"] == "GET")
        assert requests.get(base + first["path"], headers=control_headers(token), timeout=10).status_code != 404
    paths = {r["path"] for r in requests.get(f"{bases['gateway']}/_control", headers=control_headers(token),
                                            timeout=10).json()["routes"]}
    assert "/_control/faults" in paths
