"""The head's decision on the desk: accepted only as the very document the desk made, signed by a
first head of the employee's licensor; a refusal names its missing documents."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.core.errors import SignatureRefused, ValidationError
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.elicense import MissingDocument
from simulators.pki import TestPKI
from simulators.portal.decision import accept_signed, decision_document, decision_key, read_decision

LICENSOR_BIN = "120940001946"
OTHER_BIN = "130840491668"
HEAD_IIN = "800101330018"
WHEN = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
ROWS = [MissingDocument(document="Штат кестесі", comment="Біліктілік расталмаған")]


def _made(kind: str = "refuse") -> bytes:
    return decision_document(number="12000001", kind=kind, licensor_bin=LICENSOR_BIN, decided_at=WHEN,
                             special_conditions=None, missing=ROWS if kind == "refuse" else [])


def _signed(pki: TestPKI, made: bytes, *, bin_: str = LICENSOR_BIN, roles: list[str] | None = None) -> bytes:
    key = pki.issue(iin=HEAD_IIN, bin=bin_, org="Комитет", roles=roles or ["legal-entity", "first-head"])
    return SigningService(key.key_material).sign_document(made)


def test_a_decision_signed_by_the_licensors_head_is_accepted(pki: TestPKI, pki_validator: CertificateValidator) -> None:
    made = _made()
    verified = accept_signed(_signed(pki, made), made, licensor_bin=LICENSOR_BIN,
                             verification=VerificationService(pki_validator))
    assert verified.signer.bin == LICENSOR_BIN and "first-head" in verified.signer.roles
    assert read_decision(made) == ("refuse", None, ROWS)
    assert decision_key("12000001", made) == decision_key("12000001", made) != decision_key("12000001", _made("issue"))


def test_another_licensors_head_is_refused(pki: TestPKI, pki_validator: CertificateValidator) -> None:
    made = _made()
    with pytest.raises(SignatureRefused) as refused:
        accept_signed(_signed(pki, made, bin_=OTHER_BIN), made, licensor_bin=LICENSOR_BIN,
                      verification=VerificationService(pki_validator))
    assert refused.value.reason.value == "bin-mismatch"


def test_an_employee_who_is_not_the_head_is_refused(pki: TestPKI, pki_validator: CertificateValidator) -> None:
    made = _made()
    with pytest.raises(SignatureRefused) as refused:
        accept_signed(_signed(pki, made, roles=["legal-entity", "employee"]), made, licensor_bin=LICENSOR_BIN,
                      verification=VerificationService(pki_validator))
    assert "first-head" in str(refused.value)


def test_a_signed_document_other_than_the_one_made_is_refused(pki: TestPKI,
                                                              pki_validator: CertificateValidator) -> None:
    signed_issue = _signed(pki, _made("issue"))
    with pytest.raises(ValidationError) as refused:
        accept_signed(signed_issue, _made("refuse"), licensor_bin=LICENSOR_BIN,
                      verification=VerificationService(pki_validator))
    assert refused.value.field == "signed_xml"


def test_a_refusal_names_its_missing_documents() -> None:
    with pytest.raises(ValidationError) as refused:
        decision_document(number="1", kind="refuse", licensor_bin=LICENSOR_BIN, decided_at=WHEN,
                          special_conditions=None, missing=[])
    assert refused.value.field == "missing"
    with pytest.raises(ValidationError):
        decision_document(number="1", kind="suspend", licensor_bin=LICENSOR_BIN, decided_at=WHEN,
                          special_conditions=None, missing=[])
