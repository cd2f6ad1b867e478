"""Licensors' head keys issued ahead of the first Decide (``simulators.elicense.head_keys.HeadKeys``).

The pre-issuing thread must give every licensor exactly one key, never make a caller wait for
another licensor's key, stop with the landscape, and leave a failed pre-issue to the caller.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from adapters.core.errors import ConfigurationError
from adapters.core.trust import roles as nca
from simulators.elicense import catalogue as cat
from simulators.elicense.head_keys import HeadKeys
from simulators.pki import TestPKI

WAIT = 30.0
"""Generous bound on waits for the other thread (a hang fails instead of blocking the suite)."""


@dataclass
class _Issued:
    key_material: Any


class _FakePki:
    """Stands for TestPKI.issue: records calls; can hold one licensor's issuance until released."""

    def __init__(self, *, hold_iin: str | None = None, fail_first: bool = False) -> None:
        self.calls: list[str] = []
        self.hold_iin = hold_iin
        self.fail_first = fail_first
        self.holding = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def issue(self, *, iin: str, **_: Any) -> _Issued:
        with self._lock:
            self.calls.append(iin)
            fail = self.fail_first and len(self.calls) == 1
        if iin == self.hold_iin:
            self.holding.set()
            assert self.release.wait(WAIT)
        if fail:
            raise ConfigurationError("test PKI unavailable")
        return _Issued(key_material=f"key-of-{iin}")


def _licensors(n: int) -> tuple[cat.Licensor, ...]:
    return cat.licensors()[:n]


def test_preissue_gives_each_licensor_one_key_with_its_head_in_the_certificate(tmp_path: Any) -> None:
    pki = TestPKI.create(tmp_path / "pki")
    keys = HeadKeys(pki)
    wanted = _licensors(2)
    keys.preissue(wanted)
    assert keys._thread is not None
    keys._thread.join(WAIT)
    assert keys.issued() == {lic.code for lic in wanted}
    for lic in wanted:
        key = keys(lic)
        assert keys(lic) is key  # issued once, handed out again
        cert = key.certificate
        assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == f"IIN{lic.head_iin}"
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == lic.head_name
        assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == f"BIN{lic.bin}"
        eku = list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
        assert nca.FIRST_HEAD in eku
        assert pki.status(key.certificate) == "good"


def test_preissue_runs_to_the_end_and_later_calls_issue_nothing() -> None:
    fake = _FakePki()
    keys = HeadKeys(fake)  # type: ignore[arg-type]
    wanted = _licensors(4)
    keys.preissue(wanted)
    assert keys._thread is not None
    keys._thread.join(WAIT)
    assert keys.issued() == {lic.code for lic in wanted}
    assert fake.calls == [lic.head_iin for lic in wanted]
    for lic in wanted:
        assert keys(lic) == f"key-of-{lic.head_iin}"
    assert len(fake.calls) == len(wanted)  # no second key for anyone


def test_a_caller_waits_only_for_its_own_licensors_key() -> None:
    first, second = _licensors(2)
    fake = _FakePki(hold_iin=first.head_iin)
    keys = HeadKeys(fake)  # type: ignore[arg-type]
    keys.preissue([first, second])
    assert fake.holding.wait(WAIT)  # the thread is inside the first licensor's issuance
    # another licensor's key is issued at once, while the first one is still held
    assert keys(second) == f"key-of-{second.head_iin}"
    assert first.code not in keys.issued()

    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(keys(first)))
    waiter.start()
    fake.release.set()
    waiter.join(WAIT)
    keys.stop(timeout=WAIT)
    # the caller of the held licensor waited for the thread's key instead of issuing a second one
    assert got == [f"key-of-{first.head_iin}"]
    assert fake.calls.count(first.head_iin) == 1
    assert fake.calls.count(second.head_iin) == 1


def test_stop_ends_preissuing_after_the_current_key() -> None:
    first, *rest = _licensors(5)
    fake = _FakePki(hold_iin=first.head_iin)
    keys = HeadKeys(fake)  # type: ignore[arg-type]
    keys.preissue([first, *rest])
    assert fake.holding.wait(WAIT)
    stopper = threading.Thread(target=keys.stop, kwargs={"timeout": WAIT})
    stopper.start()
    keys._stopping.wait(WAIT)
    fake.release.set()
    stopper.join(WAIT)
    assert keys._thread is not None and not keys._thread.is_alive()
    assert fake.calls == [first.head_iin]
    assert keys.issued() == {first.code}


def test_failed_preissue_is_left_to_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    first, second = _licensors(2)
    fake = _FakePki(fail_first=True)
    keys = HeadKeys(fake)  # type: ignore[arg-type]
    keys.preissue([first, second])
    assert keys._thread is not None
    keys._thread.join(WAIT)
    assert keys.issued() == set()  # gave up after the failure
    assert any(first.code in r.getMessage() for r in caplog.records)
    assert keys(first) == f"key-of-{first.head_iin}"  # the caller issues it (and would see the error)


def test_preissue_twice_starts_one_thread() -> None:
    fake = _FakePki()
    keys = HeadKeys(fake)  # type: ignore[arg-type]
    keys.preissue(_licensors(1))
    thread = keys._thread
    keys.preissue(_licensors(3))
    assert keys._thread is thread
    keys.stop(timeout=WAIT)
    assert len(fake.calls) == 1
