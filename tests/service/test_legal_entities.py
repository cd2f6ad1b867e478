"""``GET /api/v1/legal-entities/{bin}``: the register's typed outcomes over the service, and its refusals."""

from __future__ import annotations

import uuid

from adapters.core.identifiers import make_bin
from harness.landscape import MINISTRY_BIN, Landscape
from simulators.legal_entities import LegalEntitiesState
from tests.fixtures.control import control_session
from tests.service.conftest import Running, error_of


def _bin_with(status: str) -> str:
    return next(o.bin for o in LegalEntitiesState() if o.reg_status.code == status and o.parent_bin is None)


def test_a_registered_organisation_is_found_with_the_register_signer(service: Running) -> None:
    answer = service.get(f"/api/v1/legal-entities/{MINISTRY_BIN}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["outcome"]["kind"] == "found" and body["present"] and body["eligible"]
    assert body["outcome"]["organisation"]["bin"] == MINISTRY_BIN
    assert body["outcome"]["signer"]["bin"]  # the register's signature was verified: its signer is named


def test_every_typed_outcome(service: Running) -> None:
    kinds = {}
    absent = make_bin(1999, 1, 4, 0, 98765)
    for number in (_bin_with("LIQUIDATED"), _bin_with("INACTIVE"), absent, "123456789012"):
        answer = service.get(f"/api/v1/legal-entities/{number}")
        assert answer.status_code == 200, answer.text
        kinds[number] = (answer.json()["outcome"]["kind"], answer.json()["present"], answer.json()["eligible"])
    assert list(kinds.values()) == [("liquidated", True, False), ("inactive", True, False),
                                    ("not-found", False, False), ("invalid-bin", False, False)]


def test_a_number_that_is_too_long_is_bad_input(service: Running) -> None:
    error = error_of(service.get("/api/v1/legal-entities/" + "1" * 40), 422, "EGOV100")
    assert error["field"] == "bin"


def test_a_gateway_fault_reaches_the_caller_with_the_gateway_code(service: Running, landscape: Landscape) -> None:
    control = landscape.endpoints.gateway_control_url
    control_session(landscape.endpoints.control_token).post(
        f"{control}faults", json={"kind": "soap_fault", "code": "SCE003", "times": 1,
                                  "service": "GbdulInfoByBin_v2"}, timeout=5).raise_for_status()
    error = error_of(service.get(f"/api/v1/legal-entities/{MINISTRY_BIN}"), 502, "SCE003")
    assert error["retryable"] is False


def test_retries_used_up_name_the_last_gateway_code(service: Running, landscape: Landscape) -> None:
    control = landscape.endpoints.gateway_control_url
    control_session(landscape.endpoints.control_token).post(
        f"{control}faults", json={"kind": "status_code", "code": "SCE009", "times": 3,
                                  "service": "GbdulInfoByBin_v2"}, timeout=5).raise_for_status()
    error = error_of(service.get(f"/api/v1/legal-entities/{MINISTRY_BIN}",
                                 headers={"X-Request-ID": f"le-{uuid.uuid4().hex}"}), 502, "EGOV406")
    assert error["cause"] == {"code": "SCE009", "message": error["cause"]["message"], "retryable": True}
