"""GetAttachment: an application's attached file read back by its applicant and by an employee of its
licensor (the bytes the applicant uploaded, digest checked), refused to others; the registration
profile's email and phone, given back on every applicant authorisation."""

from __future__ import annotations

import hashlib
import os

import pytest

from adapters.core.errors import NotFoundError, SchemaValidationError
from adapters.elicense import ElicenseClient
from adapters.elicense.errors import AuthorisationDenied
from adapters.elicense.models import AttachmentRef
from simulators.elicense import catalogue as cat
from tests.fixtures.elicense import ElicenseEnv


def _registered_with(env: ElicenseEnv, client: ElicenseClient, files: dict[str, bytes]) -> tuple[str, object]:
    person = env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    refs = []
    for name, content in files.items():
        up = client.upload_attachment(session, name, content)
        refs.append(AttachmentRef(file_name=name, sha256=up.sha256, size=up.size))
    form = env.form(person).model_copy(update={"attachments": tuple(refs)})
    info = client.register_application(session, client.sign_application(form, person.signing),
                                       idempotency_key=f"att-{person.iin_bin}")
    return info.number, session


def test_the_applicant_and_the_licensors_employee_read_the_bytes_uploaded(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    charter = b"%PDF-1.4\n" + os.urandom(300_001)
    number, session = _registered_with(elicense_env, client, {"Жарғы.pdf": charter, "staff.pdf": b"staff"})
    for who in (session, elicense_env.employee(client)):
        got = client.get_attachment(who, number, "Жарғы.pdf")  # type: ignore[arg-type]
        assert got.content == charter
        assert (got.file_name, got.sha256, got.size) == ("Жарғы.pdf", hashlib.sha256(charter).hexdigest(),
                                                         len(charter))
    assert client.get_attachment(session, number, "staff.pdf").content == b"staff"  # type: ignore[arg-type]


def test_others_and_unknown_files_are_refused(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    number, session = _registered_with(elicense_env, client, {"charter.pdf": b"%PDF charter"})
    stranger = elicense_env.applicant()
    other = client.authorize_applicant(stranger.auth, stranger.password)
    region = next(lic.code for lic in cat.licensors() if lic.code != cat.COMMITTEE_CODE)
    for who in (other, elicense_env.employee(client, region)):
        with pytest.raises(AuthorisationDenied, match=number):
            client.get_attachment(who, number, "charter.pdf")
    with pytest.raises(NotFoundError, match=r"no attachment 'missing\.pdf'"):
        client.get_attachment(session, number, "missing.pdf")  # type: ignore[arg-type]


def test_the_profile_typed_at_registration_comes_back_on_login(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    person = elicense_env.applicant(register=False)
    client.register_applicant(person.auth, "prof-pass-1", email="info@bolashak.kz", phone="+7 701 123 45 67")
    session = client.authorize_applicant(person.auth, "prof-pass-1")
    assert (session.email, session.phone) == ("info@bolashak.kz", "+7 701 123 45 67")
    # registering again (a retry) keeps the account and its first profile
    client.register_applicant(person.auth, "prof-pass-1", email="other@bolashak.kz")
    assert client.authorize_applicant(person.auth, "prof-pass-1").email == "info@bolashak.kz"
    # without a profile, the session has none; an employee's never has one
    plain = elicense_env.applicant()
    assert client.authorize_applicant(plain.auth, plain.password).email is None
    assert elicense_env.employee(client).phone is None


def test_a_malformed_email_is_refused_before_sending(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    person = elicense_env.applicant(register=False)
    with pytest.raises(SchemaValidationError, match="Email"):
        client.register_applicant(person.auth, "prof-pass-1", email="not an email")


def test_the_patterns_pages_check_are_the_schemas() -> None:
    from lxml import etree

    from adapters.contracts import contract_path
    from adapters.contracts.elicense import ELICENSE_XSD, EMAIL_PATTERN, PHONE_PATTERN

    xsd = etree.parse(str(contract_path(ELICENSE_XSD)))
    ns = {"xsd": "http://www.w3.org/2001/XMLSchema"}
    for name, pattern in (("Email", EMAIL_PATTERN), ("Phone", PHONE_PATTERN)):
        assert xsd.xpath(f"//xsd:simpleType[@name='{name}']//xsd:pattern/@value", namespaces=ns) == [pattern]
