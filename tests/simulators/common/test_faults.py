"""``perform``: each transport-level fault kind becomes a value (a Response or a WireFault); it
touches no socket and does not sleep; protocol kinds are refused."""

from __future__ import annotations

import pytest

from adapters.core.errors import ConfigurationError
from simulators.common.faults import TRANSPORT_KINDS, FaultSpec, perform
from simulators.common.messages import Response
from simulators.common.wire_fault import GARBAGE, WireFault

BODY = b"<answer>0123456789</answer>"


def _spec(kind: str, **fields: object) -> FaultSpec:
    return FaultSpec.model_validate({"kind": kind, **fields})


def test_http_kinds_are_responses() -> None:
    assert perform(_spec("latency", latency_ms=10_000), BODY) == Response(
        200, BODY, {"Content-Type": "text/xml; charset=utf-8"})
    assert perform(_spec("http_status", http_status=503), BODY) == Response.text("injected HTTP 503", 503)
    assert perform(_spec("empty_body"), BODY, content_type="application/json") == Response(
        200, b"", {"Content-Type": "application/json"})
    malformed = perform(_spec("malformed_xml"), BODY)
    assert isinstance(malformed, Response) and malformed.body == BODY[: len(BODY) // 2] + b"<<not-xml"


def test_wire_kinds_are_wire_faults() -> None:
    assert perform(_spec("reset"), BODY) == WireFault("reset")
    assert perform(_spec("empty"), BODY) == WireFault("empty")
    assert perform(_spec("garbage"), BODY) == WireFault("garbage", GARBAGE)
    truncated = perform(_spec("truncated"), BODY, content_type="text/plain")
    assert truncated == WireFault("truncated", BODY, "text/plain")
    assert isinstance(truncated, WireFault) and truncated.sent_body == BODY[: len(BODY) // 2]
    drip = perform(_spec("drip", drip_chunk=10, drip_interval_ms=250), BODY)
    assert drip == WireFault("drip", BODY, chunk=10, interval=0.25)
    assert isinstance(drip, WireFault) and drip.chunks() == [BODY[:10], BODY[10:20], BODY[20:]]


def test_every_transport_kind_is_performed_and_protocol_kinds_are_refused() -> None:
    for kind in TRANSPORT_KINDS:
        assert isinstance(perform(_spec(kind), BODY), Response | WireFault)
    with pytest.raises(ConfigurationError, match="protocol-specific"):
        perform(_spec("soap_fault"), BODY)


def test_a_wire_fault_refuses_what_it_cannot_play() -> None:
    with pytest.raises(ValueError, match="unknown wire fault kind"):
        WireFault("latency")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk >= 1"):
        WireFault.drip(BODY, chunk=0, interval=0.1)
    with pytest.raises(ValueError, match="interval >= 0"):
        WireFault.drip(BODY, chunk=1, interval=-1)
