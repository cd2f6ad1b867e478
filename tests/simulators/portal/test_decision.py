"""What the head signs on the desk: accepted only as the very document handed out (the licence or
letter E-licensing prepared), signed by a first head of the employee's licensor; a refusal names its
missing documents."""

from __future__ import annotations

import pytest

from adapters.core.errors import SignatureRefused, ValidationError
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.elicense import MissingDocument
from simulators.pki import TestPKI
from simulators.portal.decision import Pending, accept_signed, decision_key

LICENSOR_BIN = "120940001946"
OTHER_BIN = "130840491668"
HEAD_IIN = "800101330018"
ROWS = (MissingDocument(document="Штат кестесі", comment="Біліктілік расталмаған"),)
EL = "http://elicense.kz/Elicense/v10/Types"


def _made(number: str = "KZ00LAA00000001") -> bytes:
    """A prepared document as E-licensing hands it out (its bytes, declaration and all)."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Licence xmlns="{EL}"><Number>{number}</Number>'
            f"<ApplicationNumber>12000001</ApplicationNumber></Licence>").encode()


def _signed(pki: TestPKI, made: bytes, *, bin_: str = LICENSOR_BIN, roles: list[str] | None = None) -> bytes:
    key = pki.issue(iin=HEAD_IIN, bin=bin_, org="Комитет", roles=roles or ["legal-entity", "first-head"])
    return SigningService(key.key_material).sign_document(made)


def test_a_document_signed_by_the_licensors_head_is_accepted(pki: TestPKI, pki_validator: CertificateValidator) -> None:
    made = _made()
    verified = accept_signed(_signed(pki, made), made, licensor_bin=LICENSOR_BIN,
                             verification=VerificationService(pki_validator))
    assert verified.signer.bin == LICENSOR_BIN and "first-head" in verified.signer.roles
    assert decision_key("12000001", made) == decision_key("12000001", made) != decision_key("12000001", _made("x"))


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


def test_a_signed_document_other_than_the_one_handed_out_is_refused(pki: TestPKI,
                                                                    pki_validator: CertificateValidator) -> None:
    signed_other = _signed(pki, _made("KZ00LAA00000002"))
    with pytest.raises(ValidationError) as refused:
        accept_signed(signed_other, _made(), licensor_bin=LICENSOR_BIN, verification=VerificationService(pki_validator))
    assert refused.value.field == "signed_xml"


def test_a_refusal_names_its_missing_documents() -> None:
    assert Pending("refuse", b"<RefusalLetter/>", missing=ROWS).missing == ROWS
    with pytest.raises(ValidationError) as refused:
        Pending("refuse", b"<RefusalLetter/>")
    assert refused.value.field == "missing"
    with pytest.raises(ValidationError):
        Pending("suspend", b"<Decision/>")
