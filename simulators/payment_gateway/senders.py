"""Who may call the payment gateway simulator: its registered senders.

A sender is an organisation's system: its id (``requestInfo/senderId``), its password
(``requestInfo/password``) and the BIN its transport-signing certificate must carry. A request is
accepted only from a registered sender whose password matches and, when the simulator verifies
transport signatures, whose signature comes from a certificate of that BIN.

Every failure is the same refusal (PSE008, the same message): the answer does not tell an unknown
sender from a wrong password or another organisation's certificate. Passwords are kept as SHA-256
digests and compared in constant time; an unknown sender is compared against a dummy digest, so it
costs what a wrong password costs.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass

from simulators.payment_gateway.errors import PaymentRefusal

SENDER_REFUSED = "PSE008"
_DUMMY = hashlib.sha256(b"no such sender").digest()


def _digest(password: str) -> bytes:
    return hashlib.sha256(password.encode()).digest()


@dataclass(frozen=True)
class SenderAccount:
    """A registered sender: its id, its password's digest and the BIN of its signing certificate."""

    sender_id: str
    password_digest: bytes
    bin: str


def sender_refused(sender_id: str) -> PaymentRefusal:
    """The one refusal of a caller that is not a registered sender proving itself."""
    return PaymentRefusal(SENDER_REFUSED, f"sender {sender_id!r} is not authorised: unknown sender, wrong "
                                          "password or a signing certificate of another organisation",
                          sender=sender_id)


class SenderRegistry:
    """Registered senders by id. Thread-safe; registration is explicit (the factory, the tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, SenderAccount] = {}

    def add(self, sender_id: str, password: str, *, bin: str) -> SenderAccount:
        """Register (or re-register) ``sender_id`` with ``password``, signing with a certificate of ``bin``."""
        if not sender_id or not password or not bin:
            raise ValueError("a sender needs an id, a password and a BIN")
        account = SenderAccount(sender_id, _digest(password), bin)
        with self._lock:
            self._accounts[sender_id] = account
        return account

    def authenticate(self, sender_id: str, password: str) -> SenderAccount:
        """The account of ``sender_id`` when ``password`` is its password; PSE008 otherwise."""
        with self._lock:
            account = self._accounts.get(sender_id)
        expected = account.password_digest if account is not None else _DUMMY
        if not hmac.compare_digest(expected, _digest(password)) or account is None:
            raise sender_refused(sender_id)
        return account

    def ids(self) -> list[str]:
        with self._lock:
            return sorted(self._accounts)
