"""Password hashing of the E-licensing simulator's accounts, with a cache of proven passwords.

Accounts store ``pbkdf2-sha256$<iterations>$<salt hex>$<digest hex>``. Proving a password costs the
full PBKDF2 (20,000 iterations) once per login. :class:`ProvenPasswords` remembers, per stored hash, a keyed tag of
the password that matched it, so the next login with the same password is checked in microseconds:

- the key is the stored hash string itself (it carries a random salt): a new password or a
  re-registration gives a new stored hash, which the old tag never matches;
- the tag is HMAC-SHA256 of the password under a random per-process key, never the password or an
  unkeyed digest of it, and lives only in memory;
- a wrong password never matches a tag and pays the full PBKDF2, exactly as before, so guessing is
  no cheaper than it was.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from cachetools import LRUCache

PASSWORD_ITERATIONS = 20_000
PROVEN_CACHE_SIZE = 4096
"""Stored hashes whose proven password is remembered (the oldest is dropped first)."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PASSWORD_ITERATIONS)
    return f"pbkdf2-sha256${PASSWORD_ITERATIONS}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    got = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(got.hex(), digest)


class ProvenPasswords:
    """Which password last proved each stored hash (as a keyed tag). Thread-safe."""

    def __init__(self, capacity: int = PROVEN_CACHE_SIZE) -> None:
        self._key = secrets.token_bytes(32)
        self._tags: LRUCache[str, bytes] = LRUCache(maxsize=capacity)
        self._lock = threading.Lock()

    def _tag(self, password: str) -> bytes:
        return hmac.new(self._key, password.encode(), hashlib.sha256).digest()

    def remember(self, stored: str, password: str) -> None:
        """Record that ``password`` matches ``stored`` (just hashed or just proven by PBKDF2)."""
        tag = self._tag(password)
        with self._lock:
            self._tags[stored] = tag

    def hash(self, password: str) -> str:
        """Hash a new password (PBKDF2, random salt) and remember it as proven."""
        stored = hash_password(password)
        self.remember(stored, password)
        return stored

    def check(self, password: str, stored: str) -> bool:
        """True when ``password`` matches ``stored``: from the tag when it was proven before, else PBKDF2."""
        with self._lock:
            known = self._tags.get(stored)
        if known is not None and hmac.compare_digest(known, self._tag(password)):
            return True
        if not check_password(password, stored):
            return False
        self.remember(stored, password)
        return True

    def clear(self) -> None:
        with self._lock:
            self._tags.clear()
