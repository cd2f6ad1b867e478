"""Gateway answers read offline: a client that never sends, and an answer envelope processed as
the response pipeline hands it over (parsed, payload found, schema-valid)."""

from __future__ import annotations

from adapters.contracts import schema_errors
from adapters.core.soap import ProcessedResponse, body_of, payload_of
from adapters.core.xmlparse import parse_xml
from adapters.egov_gateway import GatewayClient


def offline_client() -> GatewayClient:
    return GatewayClient("http://127.0.0.1:9/bip-sync-wss-gost/", signing=object(), verification=object(),
                         sender_id="ministry")


def processed_answer(envelope: bytes, xsd: str) -> ProcessedResponse:
    root = parse_xml(envelope, allow_huge=True)
    payload = payload_of(body_of(root))
    assert schema_errors(xsd, payload) == []
    return ProcessedResponse(envelope=root, payload=payload)
