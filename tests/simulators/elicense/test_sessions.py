"""E-licensing keeps sessions in memory by token; the answers are those of the database.

A cached session still expires, a password change ends the account's sessions at once (registering
again changes nothing), a reset forgets every session, and a token nobody issued is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from cachetools import LRUCache

from adapters.core.clock import FrozenClock
from adapters.core.db import make_engine
from adapters.core.trust.validator import CertificateValidator
from adapters.core.xmlsig import VerificationService
from simulators.elicense import errors as E
from simulators.elicense.backend import ElicenseBackend
from simulators.elicense.models import BackendConfig
from simulators.elicense.payments import NO_PAYMENT_GATEWAY
from tests.fixtures.elicense import ElicenseKeys, signed_challenge

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
APPLICANT_IIN = "871008401427"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def backend(pki: Any, elicense_keys: ElicenseKeys, clock: FrozenClock) -> Iterator[ElicenseBackend]:
    engine = make_engine("sqlite://")
    verifier = VerificationService(CertificateValidator([pki.root_certificate], [pki.issuing_certificate]))
    yield ElicenseBackend(engine, verifier=verifier, head_key=elicense_keys.head,
                          system_key=elicense_keys.system.key_material, payments=NO_PAYMENT_GATEWAY, clock=clock,
                          config=BackendConfig(session_ttl=dt.timedelta(minutes=30)))
    engine.dispose()


def _refused(backend: ElicenseBackend, token: str) -> E.ElicenseFault:
    with pytest.raises(E.ElicenseFault) as caught:
        backend.session(token)
    assert caught.value.code == E.SESSION_INVALID
    return caught.value


def test_session_is_answered_again_without_the_database_and_still_expires(backend: ElicenseBackend,
                                                                          clock: FrozenClock) -> None:
    created = backend.authorize_employee("kkson.officer", "employee-pass")
    assert created.kind == "employee" and created.licensor_code == "KKSON"
    backend.engine.dispose()  # a cached session needs no connection; the lookup below must not fail
    assert backend.session(created.token, kind="employee") == created
    with pytest.raises(E.ElicenseFault) as caught:
        backend.session(created.token, kind="applicant")
    assert caught.value.code == E.FORBIDDEN
    clock.advance(dt.timedelta(minutes=29, seconds=59))
    assert backend.session(created.token) == created
    clock.advance(dt.timedelta(seconds=1))
    _refused(backend, created.token)


def test_a_session_read_from_the_database_is_the_one_created(backend: ElicenseBackend) -> None:
    created = backend.authorize_employee("kkson.officer", "employee-pass")
    backend._sessions.clear()  # as after a restart of the cache: the row is read
    read = backend.session(created.token)
    assert read == created
    assert backend._sessions[created.token] == read


def test_unknown_token_is_refused(backend: ElicenseBackend) -> None:
    _refused(backend, "no-such-token")
    assert "no-such-token" not in backend._sessions


def test_a_password_change_ends_the_open_sessions_registering_again_changes_nothing(backend: ElicenseBackend,
                                                                                    pki: Any) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    first = pki.issue(iin=APPLICANT_IIN, surname="АХМЕТОВ", common_name="АХМЕТОВ АЛИ", usage="auth").key_material
    subject, name = backend.register_applicant(first.certificate.public_bytes(Encoding.DER), "pw-1")
    assert (subject, name) == (APPLICANT_IIN, "АХМЕТОВ АЛИ")
    session = backend.authorize_applicant(APPLICANT_IIN, signed_challenge(backend, first), "pw-1")
    assert backend.session(session.token).name == "АХМЕТОВ АЛИ"
    second = pki.issue(iin=APPLICANT_IIN, surname="АХМЕТОВ", common_name="АХМЕТОВ АЛИХАН", usage="auth").key_material
    # registering again with its password answers the account as it is
    assert backend.register_applicant(second.certificate.public_bytes(Encoding.DER), "pw-1") == (
        APPLICANT_IIN, "АХМЕТОВ АЛИ")
    assert backend.session(session.token).name == "АХМЕТОВ АЛИ"
    # a change proven by another AUTH key of the same subject: the open session ends, from cache and database
    backend.change_password(APPLICANT_IIN, "pw-2", signed_challenge=signed_challenge(backend, second))
    _refused(backend, session.token)
    backend._sessions.clear()
    _refused(backend, session.token)


def test_reset_forgets_every_session(backend: ElicenseBackend) -> None:
    token = backend.authorize_employee("kkson.officer", "employee-pass").token
    backend.reset()
    _refused(backend, token)


def test_cache_is_bounded_and_evicted_sessions_are_read_again(backend: ElicenseBackend) -> None:
    backend._sessions = LRUCache(maxsize=2)  # SESSION_CACHE_SIZE is 4096
    tokens = [backend.authorize_employee("kkson.officer", "employee-pass").token for _ in range(3)]
    assert list(backend._sessions) == tokens[1:]
    assert backend.session(tokens[0]).token == tokens[0]  # from the database
    assert list(backend._sessions) == [tokens[2], tokens[0]]
