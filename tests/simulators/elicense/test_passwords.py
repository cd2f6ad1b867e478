"""E-licensing remembers proven passwords and runs its transactions on one kept connection.

A repeat login with the proven password skips PBKDF2; a wrong password, a changed password or a
re-registration is judged by PBKDF2 exactly as before. The kept connection gives every transaction
the same answers (commit, rollback on error) as a pooled connection per transaction did.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from adapters.core.clock import FrozenClock
from adapters.core.db import make_engine
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlsig import VerificationService
from simulators.elicense import errors as E
from simulators.elicense import passwords
from simulators.elicense import tables as T
from simulators.elicense.backend import ElicenseBackend
from simulators.elicense.passwords import ProvenPasswords, check_password, hash_password
from simulators.elicense.payments import NO_PAYMENT_GATEWAY
from tests.fixtures.elicense import ElicenseKeys, signed_challenge

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class _CountingPbkdf2:
    """Counts the full password proofs (PBKDF2 runs) made through ``passwords.check_password``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        monkeypatch.setattr(passwords, "check_password", self)

    def __call__(self, password: str, stored: str) -> bool:
        self.calls += 1
        return check_password(password, stored)


@pytest.fixture
def pbkdf2(monkeypatch: pytest.MonkeyPatch) -> _CountingPbkdf2:
    return _CountingPbkdf2(monkeypatch)


def test_proven_password_skips_pbkdf2_and_a_wrong_one_never_does(pbkdf2: _CountingPbkdf2) -> None:
    proven = ProvenPasswords()
    stored = hash_password("right")
    assert proven.check("right", stored) is True and pbkdf2.calls == 1
    assert proven.check("right", stored) is True and pbkdf2.calls == 1  # from the tag
    for attempt in range(3):
        assert proven.check("wrong", stored) is False
        assert pbkdf2.calls == 2 + attempt  # every wrong guess pays the full PBKDF2
    assert proven.check("right", stored) is True and pbkdf2.calls == 4


def test_a_tag_proves_only_its_stored_hash(pbkdf2: _CountingPbkdf2) -> None:
    proven = ProvenPasswords()
    old = proven.hash("old-pass")
    new = proven.hash("new-pass")
    assert pbkdf2.calls == 0
    assert proven.check("old-pass", new) is False
    assert proven.check("new-pass", old) is False
    assert pbkdf2.calls == 2
    same_password_new_salt = hash_password("old-pass")
    assert same_password_new_salt != old
    assert proven.check("old-pass", same_password_new_salt) is True and pbkdf2.calls == 3
    assert proven.check("old-pass", "not-a-stored-hash") is False


def test_tags_are_keyed_never_the_password_or_its_plain_digest() -> None:
    proven = ProvenPasswords()
    stored = proven.hash("secret-pass")
    tag = proven._tags[stored]
    assert b"secret-pass" not in tag
    assert tag != hashlib.sha256(b"secret-pass").digest()
    assert ProvenPasswords()._tag("secret-pass") != tag  # another process, another key


def test_cache_is_bounded_oldest_first(pbkdf2: _CountingPbkdf2) -> None:
    proven = ProvenPasswords(capacity=2)
    stored = [proven.hash(f"pass-{i}") for i in range(3)]
    assert list(proven._tags) == stored[1:]
    assert proven.check("pass-0", stored[0]) is True and pbkdf2.calls == 1  # evicted: proven again
    assert list(proven._tags) == [stored[2], stored[0]]
    proven.clear()
    assert proven._tags == {}


@pytest.fixture
def backend(pki: Any, elicense_keys: ElicenseKeys) -> Iterator[ElicenseBackend]:
    engine = make_engine("sqlite://")
    verifier = VerificationService(CertificateValidator([pki.root_certificate], [pki.issuing_certificate]))
    yield ElicenseBackend(engine, verifier=verifier, head_key=elicense_keys.head,
                          system_key=elicense_keys.system.key_material, payments=NO_PAYMENT_GATEWAY,
                          clock=FrozenClock(NOW))
    engine.dispose()


def test_backend_logins_with_the_proven_password_skip_pbkdf2(backend: ElicenseBackend,
                                                             pbkdf2: _CountingPbkdf2) -> None:
    for _ in range(3):
        assert backend.authorize_employee("kkson.officer", "employee-pass").kind == "employee"
    assert pbkdf2.calls == 0  # the seeded password was hashed here: proven from the start
    with pytest.raises(E.ElicenseFault) as caught:
        backend.authorize_employee("kkson.officer", "employee-pas")
    assert caught.value.code == E.AUTH_DENIED and pbkdf2.calls == 1


def test_changed_password_refuses_the_old_one(backend: ElicenseBackend, pbkdf2: _CountingPbkdf2) -> None:
    backend.add_employee("second.officer", "first-pass", "KKSON")  # hashed here: proven
    backend.add_employee("second.officer", "changed-pass", "KKSON")
    with pytest.raises(E.ElicenseFault) as caught:
        backend.authorize_employee("second.officer", "first-pass")
    assert caught.value.code == E.AUTH_DENIED and pbkdf2.calls == 1
    assert backend.authorize_employee("second.officer", "changed-pass").subject == "second.officer"
    assert pbkdf2.calls == 1


def test_registering_again_never_replaces_the_password_a_change_refuses_the_old_one(backend: ElicenseBackend,
                                                                                     pki: Any) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    key = pki.issue(iin="871008401427", surname="АХМЕТОВ", common_name="АХМЕТОВ АЛИ", usage="auth").key_material
    der = key.certificate.public_bytes(Encoding.DER)
    backend.register_applicant(der, "pw-1")
    assert backend.authorize_applicant("871008401427", signed_challenge(backend, key), "pw-1").subject == \
        "871008401427"
    with pytest.raises(E.ElicenseFault) as again:
        backend.register_applicant(der, "pw-2")
    assert again.value.code == E.CONFLICT
    backend.change_password("871008401427", "pw-2", old_password="pw-1")
    with pytest.raises(E.ElicenseFault) as caught:
        backend.authorize_applicant("871008401427", signed_challenge(backend, key), "pw-1")
    assert caught.value.code == E.AUTH_DENIED
    assert backend.authorize_applicant("871008401427", signed_challenge(backend, key), "pw-2").subject == \
        "871008401427"


def test_transactions_share_one_connection_and_roll_back_on_error(backend: ElicenseBackend) -> None:
    with backend._tx() as first:
        pass
    with backend._tx() as second:
        assert second is first
    seq = T.sequences
    with pytest.raises(RuntimeError), backend._tx() as conn:
        conn.execute(seq.insert().values(name="probe", value=1))
        raise RuntimeError("abandon")
    with backend._tx() as conn:
        assert conn.execute(select(seq.c.value).where(seq.c.name == "probe")).first() is None
        conn.execute(seq.insert().values(name="probe", value=2))
    with backend.engine.connect() as other:  # committed: another connection sees it
        assert other.execute(select(seq.c.value).where(seq.c.name == "probe")).scalar_one() == 2


def test_a_transaction_inside_another_gets_its_own_connection(tmp_path: Any, pki: Any,
                                                             elicense_keys: ElicenseKeys) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'elicense.db'}")
    verifier = VerificationService(CertificateValidator([pki.root_certificate], [pki.issuing_certificate]))
    backend = ElicenseBackend(engine, verifier=verifier, head_key=elicense_keys.head,
                              system_key=elicense_keys.system.key_material, payments=NO_PAYMENT_GATEWAY,
                              clock=FrozenClock(NOW))
    try:
        seq = T.sequences
        with backend._tx() as outer:
            with backend._tx() as inner:
                assert inner is not outer
                inner.execute(seq.insert().values(name="inner", value=1))
            outer.execute(seq.insert().values(name="outer", value=2))
        with backend._tx() as conn:
            rows = {r.name: r.value for r in conn.execute(select(seq.c.name, seq.c.value))}
        assert rows == {"inner": 1, "outer": 2}
    finally:
        engine.dispose()
