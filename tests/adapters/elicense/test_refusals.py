"""Every refusal of the E-licensing simulator arrives as a typed error naming its subject."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

import pytest

from adapters.core.errors import ConflictError, NotFoundError, RefusalReason, SignatureRefused
from adapters.elicense import (
    ATTACHMENTS_MAX_TOTAL_BYTES,
    AttachmentDigestMismatch,
    AttachmentMissing,
    AttachmentsTooLarge,
    AuthorisationDenied,
    ElicenseValidationError,
    PaymentMissing,
)
from adapters.elicense.models import AttachmentRef
from tests.fixtures.elicense import ElicenseEnv


def test_condition_1_refuses_wrong_password_and_unknown_accounts(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    person = elicense_env.applicant()
    with pytest.raises(AuthorisationDenied) as wrong:
        client.authorize_applicant(person.auth, "not-the-password")
    assert wrong.value.code == "ELC101"
    stranger = elicense_env.applicant(register=False)
    with pytest.raises(AuthorisationDenied, match="not registered or the password is wrong"):
        client.authorize_applicant(stranger.auth, stranger.password)
    with pytest.raises(AuthorisationDenied):
        client.authorize_employee("kkson.officer", "bad")
    # first-time portal registration, then authorisation works
    registered = client.register_applicant(stranger.auth, "new-pass")
    assert registered.iin_bin == stranger.iin_bin
    session = client.authorize_applicant(stranger.auth, "new-pass")
    assert session.role == "applicant" and session.subject == stranger.iin_bin


def test_expired_or_unknown_session_is_refused(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    person = elicense_env.applicant()
    session = client.authorize_applicant(person.auth, person.password)
    forged = session.model_copy(update={"token": "no-such-token"})
    with pytest.raises(AuthorisationDenied) as exc:
        client.upload_attachment(forged, "a.pdf", b"x")
    assert exc.value.code == "ELC102" and exc.value.context["session_expired"] is True


def _register(env: ElicenseEnv, person: object, form: object, key: str = "k") -> object:
    client = env.client()
    session = client.authorize_applicant(person.auth, person.password)  # type: ignore[attr-defined]
    return client.submit_application(session, form, person.signing, idempotency_key=key)  # type: ignore[arg-type, attr-defined]


def test_condition_2_refuses_unpaid_and_underpaid(elicense_env: ElicenseEnv) -> None:
    person = elicense_env.applicant()
    with pytest.raises(PaymentMissing, match="no payment for the service"):
        _register(elicense_env, person, elicense_env.form(person, payment=False), "unpaid")
    with pytest.raises(PaymentMissing, match=r"1618\.00 KZT paid, the state fee is 16180\.00 KZT"):
        _register(elicense_env, person, elicense_env.form(person, paid=Decimal("1618.00")), "underpaid")
    assert elicense_env.backend.list_applications(None) == []


def test_condition_3_revoked_certificate(elicense_env: ElicenseEnv) -> None:
    person = elicense_env.applicant()
    elicense_env.keys.pki.revoke(person.key)
    with pytest.raises(SignatureRefused) as exc:
        _register(elicense_env, person, elicense_env.form(person))
    assert exc.value.reason is RefusalReason.REVOKED
    assert exc.value.code == "ELC302"


def test_condition_3_expired_certificate(elicense_env: ElicenseEnv) -> None:
    person = elicense_env.applicant(expired=True)
    with pytest.raises(SignatureRefused) as exc:
        _register(elicense_env, person, elicense_env.form(person))
    assert exc.value.reason is RefusalReason.CERT_EXPIRED
    assert exc.value.code == "ELC301"


def test_condition_3_bin_in_certificate_must_match_application(elicense_env: ElicenseEnv) -> None:
    person = elicense_env.applicant()
    other = elicense_env.applicant(register=False)
    # the applicant's session, but the document is signed with another organisation's key
    client = elicense_env.client()
    session = client.authorize_applicant(person.auth, person.password)
    signed = client.sign_application(elicense_env.form(person), other.signing)
    with pytest.raises(SignatureRefused) as exc:
        client.register_application(session, signed, idempotency_key="bin")
    assert exc.value.reason is RefusalReason.BIN_MISMATCH
    assert exc.value.code == "ELC303"
    assert person.iin_bin in str(exc.value)


def test_tampered_application_is_refused(elicense_env: ElicenseEnv) -> None:
    person = elicense_env.applicant()
    client = elicense_env.client()
    session = client.authorize_applicant(person.auth, person.password)
    signed = client.sign_application(elicense_env.form(person), person.signing)
    tampered = signed.replace(b"<House>12</House>", b"<House>13</House>")
    assert tampered != signed
    with pytest.raises(SignatureRefused) as exc:
        client.register_application(session, tampered, idempotency_key="tamper")
    assert exc.value.reason is RefusalReason.DIGEST_MISMATCH
    assert exc.value.code == "ELC305"


def test_attachment_never_uploaded_is_named(elicense_env: ElicenseEnv) -> None:
    person = elicense_env.applicant()
    client = elicense_env.client()
    session = client.authorize_applicant(person.auth, person.password)
    refs = client.attachment_refs({"licence-fee.pdf": b"receipt"})
    signed = client.sign_application(elicense_env.form(person).model_copy(update={"attachments": refs}),
                                     person.signing)
    with pytest.raises(AttachmentMissing) as exc:
        client.register_application(session, signed, idempotency_key="missing")
    assert exc.value.field == "licence-fee.pdf"
    assert exc.value.code == "ELC401"


def test_attachment_digest_mismatch_is_refused(elicense_env: ElicenseEnv) -> None:
    person = elicense_env.applicant()
    client = elicense_env.client()
    session = client.authorize_applicant(person.auth, person.password)
    client.upload_attachment(session, "staff.pdf", b"the real list of teaching staff")
    refs = client.attachment_refs({"staff.pdf": b"another list of teaching staff!"})
    signed = client.sign_application(elicense_env.form(person).model_copy(update={"attachments": refs}),
                                     person.signing)
    with pytest.raises(AttachmentDigestMismatch) as exc:
        client.register_application(session, signed, idempotency_key="digest")
    assert exc.value.field == "staff.pdf"
    assert refs[0].sha256 in str(exc.value)


def test_attachments_over_30_mb_in_total_are_refused(elicense_env: ElicenseEnv) -> None:
    person = elicense_env.applicant()
    client = elicense_env.client()
    session = client.authorize_applicant(person.auth, person.password)
    half = ATTACHMENTS_MAX_TOTAL_BYTES // 2 + 1
    refs = (AttachmentRef(file_name="a.pdf", sha256=hashlib.sha256(b"a").hexdigest(), size=half),
            AttachmentRef(file_name="b.pdf", sha256=hashlib.sha256(b"b").hexdigest(), size=half))
    signed = client.sign_application(elicense_env.form(person).model_copy(update={"attachments": refs}),
                                     person.signing)
    with pytest.raises(AttachmentsTooLarge) as exc:
        client.register_application(session, signed, idempotency_key="big")
    assert exc.value.code == "ELC403"
    assert str(ATTACHMENTS_MAX_TOTAL_BYTES) in str(exc.value)
    with pytest.raises(AttachmentsTooLarge):
        client.attachment_refs({"a.pdf": b"x" * half, "b.pdf": b"y" * half})


def test_large_upload_is_parsed_as_a_huge_tree(elicense_env: ElicenseEnv) -> None:
    """11 MB in base64 is one text node over libxml2's 10 MB default: accepted on the upload operation."""
    person = elicense_env.applicant()
    client = elicense_env.client()
    session = client.authorize_applicant(person.auth, person.password)
    content = bytes(range(256)) * (9 * 4096)  # 9 MiB -> 12 MiB of base64
    assert len(base64.b64encode(content)) > 10 * 1024 * 1024
    uploaded = client.upload_attachment(session, "scans.pdf", content)
    assert uploaded.sha256 == hashlib.sha256(content).hexdigest()
    info = client.submit_application(session, elicense_env.form(person), person.signing,
                                     files={"scans.pdf": content}, idempotency_key="huge")
    assert info.attachments[0].size == len(content)


def test_idempotent_registration_and_decision(elicense_env: ElicenseEnv) -> None:
    person = elicense_env.applicant()
    client = elicense_env.client()
    session = client.authorize_applicant(person.auth, person.password)
    signed = client.sign_application(elicense_env.form(person), person.signing)
    first = client.register_application(session, signed, idempotency_key="same-key")
    again = client.register_application(session, signed, idempotency_key="same-key")
    assert again.number == first.number
    assert len(elicense_env.backend.list_applications(None)) == 1
    other = client.sign_application(elicense_env.form(person, sub_types=("ED010300",)), person.signing)
    with pytest.raises(ConflictError) as exc:
        client.register_application(session, other, idempotency_key="same-key")
    assert exc.value.code == "ELC503"

    officer = elicense_env.employee(client)
    client.start_processing(officer, first.number)
    one = client.issue(officer, first.number, idempotency_key="decide-once")
    two = client.issue(officer, first.number, idempotency_key="decide-once")
    assert one.application.licence_number == two.application.licence_number
    assert client.search(iin_bin=person.iin_bin).total_count == 1
    with pytest.raises(ConflictError):
        client.issue(officer, first.number, idempotency_key="another-decision")


def test_unknown_references_are_typed(elicense_env: ElicenseEnv) -> None:
    client = elicense_env.client()
    with pytest.raises(NotFoundError):
        client.get_licence("KZ00LAA99999999")
    person = elicense_env.applicant()
    with pytest.raises(ElicenseValidationError) as exc:
        _register(elicense_env, person, elicense_env.form(person, sub_types=("ED040100",)), "wrong-subtype")
    assert exc.value.field == "SubTypes"
    officer = elicense_env.employee(client)
    with pytest.raises(ConflictError):
        # deciding before taking into work
        info = _register(elicense_env, person, elicense_env.form(person), "not-in-work")
        client.issue(officer, info.number, idempotency_key="early")  # type: ignore[attr-defined]
