"""Legal Entities register (GBD UL): seed data, and look-ups through the gateway over real HTTP."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from adapters.core.errors import ConfigurationError, RefusalReason, SignatureRefused
from adapters.core.identifiers import make_bin, parse_bin, parse_identifier, parse_iin
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.egov_gateway import StatusCodeError
from adapters.legal_entities import (
    Found,
    Inactive,
    InvalidBin,
    LegalEntitiesClient,
    Liquidated,
    LookupOutcome,
    NotFound,
    RegistrationStatus,
)
from simulators.legal_entities import DEFAULT_FIXTURES, LegalEntitiesBackend, LegalEntitiesState, OrganisationRecord
from simulators.legal_entities.seed import dump, generate
from tests.fixtures.backends import GBDUL_BIN, MINISTRY_BIN, PSHEP_BIN, BackendKeys

STATE = LegalEntitiesState()


def first(predicate: object) -> OrganisationRecord:
    return next(o for o in STATE if predicate(o))  # type: ignore[operator]


def unknown_bin() -> str:
    for serial in range(99999, 99900, -1):
        try:
            value = make_bin(2015, 6, 4, 0, serial)
        except ValueError:
            continue
        if STATE.get(value) is None:
            return value
    raise AssertionError("no free BIN")


# --------------------------------------------------------------------------- seed data

def test_committed_fixtures_are_what_the_seed_generates() -> None:
    assert DEFAULT_FIXTURES.read_text(encoding="utf-8") == dump(generate())


def test_seed_covers_forms_statuses_regions_and_valid_numbers() -> None:
    orgs = list(STATE)
    assert len(orgs) >= 50
    for o in orgs:
        info = parse_identifier(o.bin, "bin")
        if info.kind == "BIN":
            assert parse_bin(o.bin).attribute_code == (1 if o.parent_bin else 0)
        else:
            assert o.org_form.code == "IP"
        parse_iin(o.leader.iin, "leader.iin")
        for f in o.natural_founders:
            parse_iin(f.iin)
        assert len(o.address.kato) == 9 and len(o.address.zip_code) == 6
        assert o.full_name_ru and o.full_name_kz
    statuses = Counter(o.reg_status.code for o in orgs)
    assert statuses["LIQUIDATED"] >= 3 and statuses["INACTIVE"] >= 2
    forms = {o.org_form.code for o in orgs}
    assert {"TOO", "AO", "IP", "RGU", "GKKP", "FIL"} <= forms
    assert len({o.address.kato for o in orgs}) >= 10
    branches = [o for o in orgs if o.parent_bin]
    assert len(branches) >= 5 and all(STATE.get(b.parent_bin) is not None for b in branches)  # type: ignore[arg-type]
    assert sum(1 for o in orgs if any(a.oked.startswith("85") for a in o.activities)) >= 50
    sole = [o for o in orgs if o.org_form.code == "IP"]
    assert any(o.bin == o.leader.iin for o in sole) and any(o.bin[4] == "6" for o in sole)


def test_qa_can_replace_the_fixtures_file(tmp_path: Path) -> None:
    record = first(lambda o: o.reg_status.code == "REGISTERED")
    path = tmp_path / "organisations.json"
    path.write_text(json.dumps({"format": "gbdul-fixtures/1",
                                "organisations": [record.model_dump(mode="json")]}), encoding="utf-8")
    state = LegalEntitiesState(path)
    assert len(state) == 1 and state.get(record.bin) == record
    state.remove(record.bin)
    assert state.get(record.bin) is None
    state.reset()
    assert state.get(record.bin) == record


def test_broken_fixtures_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"organisations": [{"bin": "1"}]}', encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"broken\.json"):
        LegalEntitiesState(path)


# --------------------------------------------------------------------------- look-ups over HTTP

def test_found(legal_entities_client: LegalEntitiesClient) -> None:
    record = first(lambda o: o.org_form.code == "TOO" and o.reg_status.code == "REGISTERED"
                   and o.natural_founders)
    outcome = legal_entities_client.lookup_bin(record.bin)
    assert isinstance(outcome, Found)
    assert outcome.present and outcome.eligible
    org = outcome.organisation
    assert org.status is RegistrationStatus.REGISTERED
    assert (org.bin, org.full_name_ru, org.full_name_kz, org.full_name_en) == (
        record.bin, record.full_name_ru, record.full_name_kz, record.full_name_en)
    assert org.address.kato == record.address.kato and org.address.zip_code == record.address.zip_code
    assert org.leader.iin == record.leader.iin
    assert [a.oked for a in org.activities] == [a.oked for a in record.activities]
    assert org.main_activity is not None and org.main_activity.oked.startswith("85")
    assert [f.iin for f in org.natural_founders] == [f.iin for f in record.natural_founders]
    assert outcome.signer is not None and outcome.signer.bin == GBDUL_BIN


def test_not_found(legal_entities_client: LegalEntitiesClient,
                   legal_entities_backend: LegalEntitiesBackend) -> None:
    number = unknown_bin()
    outcome = legal_entities_client.lookup_bin(number)
    assert isinstance(outcome, NotFound)
    assert not outcome.present and outcome.number == number
    assert legal_entities_backend.requests[-1].number == number  # the register was asked


def test_invalid_bin_refused_by_the_register(legal_entities_gateway: object, legal_entities_client: LegalEntitiesClient,
                                             legal_entities_backend: LegalEntitiesBackend) -> None:
    # the same client, without the local pre-check: the register answers status 02
    remote = LegalEntitiesClient(legal_entities_client._gateway, signer=legal_entities_client._signer,
                                 verifier=legal_entities_client._verifier, requestor_bin=MINISTRY_BIN,
                                 expect_register_bin=GBDUL_BIN, validate_locally=False)
    outcome = remote.lookup_bin("940140000386")
    assert isinstance(outcome, InvalidBin)
    assert "check digit" in outcome.reason and outcome.signer is not None
    assert legal_entities_backend.requests[-1].number == "940140000386"


def test_invalid_bin_caught_before_sending(legal_entities_client: LegalEntitiesClient,
                                           legal_entities_backend: LegalEntitiesBackend) -> None:
    outcome = legal_entities_client.lookup_bin("12345")
    assert isinstance(outcome, InvalidBin) and "12 digits" in outcome.reason
    assert outcome.signer is None and legal_entities_backend.requests == []


def test_liquidated(legal_entities_client: LegalEntitiesClient) -> None:
    record = first(lambda o: o.reg_status.code == "LIQUIDATED" and o.org_form.code != "IP")
    outcome = legal_entities_client.lookup_bin(record.bin)
    assert isinstance(outcome, Liquidated)
    assert outcome.present and not outcome.eligible
    assert outcome.organisation.liquidation_date == record.liquidation_date is not None
    assert outcome.organisation.liquidation is not None


def test_inactive(legal_entities_client: LegalEntitiesClient) -> None:
    record = first(lambda o: o.reg_status.code == "INACTIVE")
    outcome = legal_entities_client.lookup_bin(record.bin)
    assert isinstance(outcome, Inactive) and outcome.present and not outcome.eligible


def test_branch_names_its_head_office(legal_entities_client: LegalEntitiesClient) -> None:
    outcome = legal_entities_client.lookup_bin("950341000052")
    assert isinstance(outcome, Found)
    assert outcome.organisation.is_branch
    assert outcome.organisation.parent_bin == STATE.get("950341000052").parent_bin  # type: ignore[union-attr]


def test_sole_proprietor_by_iin(legal_entities_client: LegalEntitiesClient) -> None:
    under_iin = first(lambda o: o.org_form.code == "IP" and o.bin == o.leader.iin
                      and o.reg_status.code == "REGISTERED")
    under_bin = first(lambda o: o.org_form.code == "IP" and o.bin != o.leader.iin
                      and o.reg_status.code == "REGISTERED")
    for record in (under_iin, under_bin):
        outcome = legal_entities_client.lookup_iin(record.leader.iin)
        assert isinstance(outcome, Found)
        assert outcome.organisation.is_sole_proprietor and outcome.organisation.bin == record.bin
    nobody = legal_entities_client.lookup_iin("871008401427")
    assert isinstance(nobody, NotFound)


def test_outcome_is_a_discriminated_union(legal_entities_client: LegalEntitiesClient) -> None:
    record = first(lambda o: o.reg_status.code == "LIQUIDATED")
    outcome = legal_entities_client.lookup_bin(record.bin)
    again = TypeAdapter(LookupOutcome).validate_python(outcome.model_dump())
    assert type(again) is Liquidated and again == outcome


def test_request_signed_by_another_organisation_is_refused(
        legal_entities_gateway: object, legal_entities_client: LegalEntitiesClient, backend_keys: BackendKeys,
        backend_verifier: VerificationService) -> None:
    # the business-data signature is checked against RequestorBIN: the gateway answers SCE016
    impostor = LegalEntitiesClient(legal_entities_client._gateway,
                                   signer=SigningService(backend_keys.payment_gateway), verifier=backend_verifier,
                                   requestor_bin=MINISTRY_BIN)
    with pytest.raises(StatusCodeError) as err:
        impostor.lookup_bin(MINISTRY_BIN)
    assert err.value.status_code == "SCE016"


def test_answer_from_an_unexpected_signer_is_refused(legal_entities_client: LegalEntitiesClient,
                                                     backend_verifier: VerificationService) -> None:
    wary = LegalEntitiesClient(legal_entities_client._gateway, signer=legal_entities_client._signer,
                               verifier=backend_verifier, requestor_bin=MINISTRY_BIN, expect_register_bin=PSHEP_BIN)
    with pytest.raises(SignatureRefused) as err:
        wary.lookup_bin(MINISTRY_BIN)
    assert err.value.reason is RefusalReason.BIN_MISMATCH


def test_gateway_fault_injection_is_retried(legal_entities_gateway: object,
                                            legal_entities_client: LegalEntitiesClient,
                                            legal_entities_backend: LegalEntitiesBackend) -> None:
    injector = legal_entities_gateway.injector  # type: ignore[attr-defined]
    injector.set({"kind": "reset", "service": "GbdulInfoByBin_v2", "times": 1})
    outcome = legal_entities_client.lookup_bin(MINISTRY_BIN)
    assert isinstance(outcome, Found)
    assert outcome.organisation.org_form.code == "RGU"
    assert len(legal_entities_backend.requests) == 1


def test_register_control_api_changes_what_the_gateway_answers(legal_entities_gateway: object,
                                                                legal_entities_client: LegalEntitiesClient) -> None:
    from tests.fixtures.control import control_session

    control = control_session(legal_entities_gateway.control_token)  # type: ignore[attr-defined]
    base = f"{legal_entities_gateway.url}/_control/legal-entities"  # type: ignore[attr-defined]
    listing = control.get(base, params={"status": "LIQUIDATED"}, timeout=5).json()
    assert listing["count"] >= 3 and all(o["status"] == "LIQUIDATED" for o in listing["organisations"])
    record = control.get(f"{base}/{MINISTRY_BIN}", timeout=5).json()
    record["reg_status"] = {"code": "INACTIVE", "name_ru": "Бездействующий", "name_kz": "Әрекетсіз"}
    assert control.put(f"{base}/{MINISTRY_BIN}", json=record, timeout=5).status_code == 200
    assert isinstance(legal_entities_client.lookup_bin(MINISTRY_BIN), Inactive)
    assert control.delete(f"{base}/{MINISTRY_BIN}", timeout=5).status_code == 200
    assert isinstance(legal_entities_client.lookup_bin(MINISTRY_BIN), NotFound)
    control.post(f"{base}/reset", timeout=5)
    assert isinstance(legal_entities_client.lookup_bin(MINISTRY_BIN), Found)
