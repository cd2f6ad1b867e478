"""A licence (and a refusal letter) signed by the licensor's first head with their own EDS (the
regulation: "formed with the EDS of the provider's authorised person"): PrepareLicence /
PrepareRefusal give the unsigned document, the head signs it (in the portal, through NCALayer),
Decide keeps exactly those bytes. Refused: another signer, another licensor's head, and a document
that is no longer the one the decision gives."""

from __future__ import annotations

import pytest

from adapters.core.errors import ConflictError, EgovError
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import SigningService
from adapters.elicense import ElicenseClient, MissingDocument, Session
from simulators.elicense import catalogue as cat
from tests.fixtures.elicense import ElicenseEnv


def _in_progress(env: ElicenseEnv, client: ElicenseClient, key: str) -> tuple[str, Session]:
    person = env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    number = client.register_application(session, client.sign_application(env.form(person), person.signing),
                                         idempotency_key=key).number
    officer = env.employee(client)
    client.start_processing(officer, number)
    return number, officer


def _signed_by(env: ElicenseEnv, unsigned: bytes, lic: cat.Licensor, roles: list[str]) -> bytes:
    key = env.keys.pki.issue(iin=lic.head_iin, bin=lic.bin, org=lic.name_ru, common_name=lic.head_name,
                             roles=roles).key_material
    return SigningService(key).sign_document(parse_xml(unsigned))


def _committee() -> cat.Licensor:
    lic = cat.licensor(cat.COMMITTEE_CODE)
    assert lic is not None
    return lic


def test_the_licence_is_the_one_the_head_signed(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    number, officer = _in_progress(elicense_env, client, "head-1")
    unsigned = client.prepare_licence(officer, number, special_conditions="Оқу корпусы: Абай 10")
    assert b"<Signature" not in unsigned and number.encode() in unsigned
    signed = _signed_by(elicense_env, unsigned, _committee(), ["legal-entity", "first-head"])
    details = client.issue(officer, number, idempotency_key="head-decide", special_conditions="Оқу корпусы: Абай 10",
                           signed_licence=signed)
    assert details.licence is not None
    assert details.licence.xml == signed  # kept byte for byte: the head's own signature
    assert details.licence.signer.common_name == _committee().head_name
    assert client.get_licence(details.licence.licence.number).xml == signed
    # a retry of the same decision answers the same licence
    assert client.issue(officer, number, idempotency_key="head-decide", special_conditions="Оқу корпусы: Абай 10",
                        signed_licence=signed).licence.xml == signed  # type: ignore[union-attr]


@pytest.mark.parametrize(("whose", "roles", "message"), [
    ("committee", ["legal-entity", "right-to-sign"], "first-head"),  # an employee, not the head
    ("region", ["legal-entity", "first-head"], "BIN"),  # another licensor's head
])
def test_a_licence_not_signed_by_the_licensors_head_is_refused(elicense_env: ElicenseEnv, whose: str,
                                                               roles: list[str], message: str) -> None:
    client = elicense_env.client()
    number, officer = _in_progress(elicense_env, client, f"head-{whose}")
    unsigned = client.prepare_licence(officer, number)
    lic = _committee() if whose == "committee" else next(x for x in cat.licensors() if x.code != cat.COMMITTEE_CODE)
    with pytest.raises(EgovError, match=message) as refused:
        client.issue(officer, number, idempotency_key=f"bad-{whose}",
                     signed_licence=_signed_by(elicense_env, unsigned, lic, roles))
    assert refused.value.code.startswith("ELC30")
    assert client.get_application(officer, number).application.status == "IN_PROGRESS"


def test_a_licence_that_is_no_longer_the_decisions_is_refused(elicense_env: ElicenseEnv) -> None:
    """Prepared, then another licence of the registry took its number (or other special conditions
    were sent): the signed licence is refused; prepared and signed again, it is issued."""
    client = elicense_env.client()
    number, officer = _in_progress(elicense_env, client, "stale-1")
    stale = _signed_by(elicense_env, client.prepare_licence(officer, number), _committee(),
                       ["legal-entity", "first-head"])
    with pytest.raises(ConflictError, match="prepare it and sign it again"):
        client.issue(officer, number, idempotency_key="other-conditions", special_conditions="other",
                     signed_licence=stale)
    other, _ = _in_progress(elicense_env, client, "stale-2")
    client.issue(officer, other, idempotency_key="takes-the-number")
    with pytest.raises(ConflictError, match="prepare it and sign it again"):
        client.issue(officer, number, idempotency_key="stale", signed_licence=stale)
    fresh = _signed_by(elicense_env, client.prepare_licence(officer, number), _committee(),
                       ["legal-entity", "first-head"])
    assert client.issue(officer, number, idempotency_key="fresh", signed_licence=fresh).licence is not None


def test_only_an_application_in_work_has_a_licence_prepared(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    person = elicense_env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    number = client.register_application(session, client.sign_application(elicense_env.form(person), person.signing),
                                         idempotency_key="not-yet").number
    with pytest.raises(ConflictError, match="in work"):
        client.prepare_licence(elicense_env.employee(client), number)
    with pytest.raises(EgovError, match="employee"):
        client.prepare_licence(session, number)


def test_the_refusal_letter_is_the_one_the_head_signed(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    number, officer = _in_progress(elicense_env, client, "refuse-1")
    rows = [MissingDocument(document="Штат кестесі", comment="Біліктілік расталмаған")]
    head = ["legal-entity", "first-head"]
    signed = _signed_by(elicense_env, client.prepare_refusal(officer, number, rows), _committee(), head)
    other_rows = [MissingDocument(document="Жарғы", comment="жоқ")]
    with pytest.raises(ConflictError, match="prepare it and sign it again"):  # other rows than those signed
        client.refuse(officer, number, other_rows, idempotency_key="other-rows", signed_refusal=signed)
    with pytest.raises(EgovError, match="first-head"):
        client.refuse(officer, number, rows, idempotency_key="not-head", signed_refusal=_signed_by(
            elicense_env, client.prepare_refusal(officer, number, rows), _committee(), ["legal-entity"]))
    details = client.refuse(officer, number, rows, idempotency_key="head-refuses", signed_refusal=signed)
    assert details.refusal is not None and details.refusal.xml == signed
    assert details.refusal.letter.missing_documents[0].document == "Штат кестесі"
