"""Keys of the licensors' first heads, issued by the test PKI (they sign licences and refusal letters)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from adapters.core.trust.keystore import KeyMaterial
from simulators.elicense import catalogue as cat

if TYPE_CHECKING:
    from simulators.pki import TestPKI

log = logging.getLogger(__name__)


class HeadKeys:
    """Keys of the licensors' first heads (sign licences and refusal letters); E-licensing's ``head_key``.

    A key is issued on first use, or ahead of it by :meth:`preissue` (a background thread started
    with the landscape), so that a licensor's first decision need not wait for its RSA key. Each
    licensor has its own lock, so a caller waits only while its own licensor's key is being issued,
    never for the others'.
    """

    def __init__(self, pki: TestPKI) -> None:
        self._pki = pki
        self._keys: dict[str, KeyMaterial] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, licensor: cat.Licensor) -> KeyMaterial:
        key = self._keys.get(licensor.code)
        if key is not None:
            return key
        with self._guard:
            lock = self._locks.setdefault(licensor.code, threading.Lock())
        with lock:
            key = self._keys.get(licensor.code)
            if key is None:
                surname = licensor.head_name.partition(" ")[0]
                key = self._pki.issue(iin=licensor.head_iin, bin=licensor.bin, org=licensor.name_ru,
                                      surname=surname, common_name=licensor.head_name,
                                      roles=["legal-entity", "first-head"]).key_material
                self._keys[licensor.code] = key
            return key

    def issued(self) -> set[str]:
        """Codes of the licensors whose head key exists."""
        return set(self._keys)

    def preissue(self, licensors: Sequence[cat.Licensor]) -> None:
        """Issue the keys of ``licensors`` in a daemon thread, in order, until done or :meth:`stop`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._preissue, args=(tuple(licensors),),
                                        name="head-keys", daemon=True)
        self._thread.start()

    def _preissue(self, licensors: tuple[cat.Licensor, ...]) -> None:
        for licensor in licensors:
            if self._stopping.is_set():
                return
            try:
                self(licensor)
            except Exception as exc:  # a Decide issues the key itself (and reports the failure)
                log.warning("head key of licensor %s not pre-issued: %s", licensor.code, exc)
                return

    def stop(self, timeout: float = 5.0) -> None:
        """Stop pre-issuing (the key being issued is finished first)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
