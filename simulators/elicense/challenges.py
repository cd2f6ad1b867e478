"""Proof of possession of an applicant's AUTH key: one-time challenges and their signed answers.

The portal has the applicant sign a fresh server challenge with the AUTH key (through NCALayer's
``signXml``); E-licensing does the same. :class:`ChallengeBook` hands out ``AuthChallenge``
documents (a random nonce, issued and expiry times) and remembers the nonces it issued;
:func:`prove_possession` accepts a signed answer when, in this order:

1. it is a well-formed, schema-valid ``AuthChallenge`` (MALFORMED otherwise);
2. its nonce is one the book issued, not yet used and not expired (CHALLENGE_INVALID);
3. its enveloped signature verifies, with a certificate that chains to the trusted roots, is in
   its validity period, unrevoked (the verifier's revocation policy: OCSP, then CRL), an AUTH
   certificate (clientAuth) and carries the account's BIN, or the IIN of an individual
   (Condition 3's codes, ELC301-ELC305, with the refusal's reason);
4. the nonce is taken, atomically: of two requests carrying the same answer, one wins (CHALLENGE_INVALID
   for the other).

Bounds: a challenge lives ``ttl``; the book holds at most ``capacity`` outstanding challenges and
drops the oldest first, so a flood of GetChallenge costs memory up to the bound and no more.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

from lxml import etree

from adapters.contracts.elicense import EL_NS, el, validate
from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import EgovError, SignatureRefused, XmlError
from adapters.core.identifiers import parse_identifier
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import VerificationService, VerifiedDocument
from simulators.elicense import errors as E


@dataclass(frozen=True)
class Challenge:
    """An issued challenge: its nonce, its lifetime, and the ``AuthChallenge`` document to sign."""

    nonce: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    document: bytes


class ChallengeBook:
    """The challenges issued and not yet used. Thread-safe; time from the injected clock."""

    def __init__(self, *, ttl: dt.timedelta, capacity: int, clock: Clock = SYSTEM_CLOCK) -> None:
        if ttl <= dt.timedelta(0) or capacity < 1:
            raise ValueError("a challenge book needs a positive lifetime and capacity")
        self.ttl = ttl
        self.capacity = capacity
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: OrderedDict[str, dt.datetime] = OrderedDict()
        """Outstanding nonces, oldest first, with their expiry."""

    def issue(self) -> Challenge:
        """A new challenge (the oldest outstanding one is dropped when the book is full)."""
        now = self._clock.now()
        nonce = secrets.token_urlsafe(32)
        expires = now + self.ttl
        with self._lock:
            self._prune(now)
            while len(self._expiry) >= self.capacity:
                self._expiry.popitem(last=False)
            self._expiry[nonce] = expires
        return Challenge(nonce, now, expires, _document(nonce, now, expires))

    def outstanding(self, nonce: str) -> bool:
        """Whether ``nonce`` was issued, is not used and has not expired (nothing is taken)."""
        with self._lock:
            expires = self._expiry.get(nonce)
        return expires is not None and self._clock.now() < expires

    def take(self, nonce: str) -> bool:
        """Use ``nonce`` up: True once for an outstanding nonce, False ever after (and for any other)."""
        with self._lock:
            expires = self._expiry.pop(nonce, None)
        return expires is not None and self._clock.now() < expires

    def clear(self) -> None:
        with self._lock:
            self._expiry.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    def _prune(self, now: dt.datetime) -> None:
        """Drop expired nonces from the oldest on (under ``self._lock``; expiry follows issue order)."""
        while self._expiry:
            nonce, expires = next(iter(self._expiry.items()))
            if expires > now:
                return
            del self._expiry[nonce]


def _document(nonce: str, issued: dt.datetime, expires: dt.datetime) -> bytes:
    root = etree.Element(el("AuthChallenge"), nsmap={None: EL_NS})
    for name, value in (("Nonce", nonce), ("IssuedAt", issued.isoformat()), ("ExpiresAt", expires.isoformat())):
        etree.SubElement(root, el(name)).text = value
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))


def _refused(message: str) -> E.ElicenseFault:
    return E.ElicenseFault(E.CHALLENGE_INVALID, message, data="SignedChallenge")


def prove_possession(signed: bytes, iin_bin: str, *, book: ChallengeBook,
                     verifier: VerificationService) -> VerifiedDocument:
    """The signed ``AuthChallenge`` proves that the caller holds the AUTH key of a trusted, valid,
    unrevoked certificate carrying ``iin_bin``; the challenge is used up. See the module's order."""
    try:
        root = parse_xml(signed, what="signed challenge")
        if etree.QName(root).localname != "AuthChallenge":
            raise E.ElicenseFault(E.MALFORMED, f"SignedChallenge holds <{etree.QName(root).localname}>, expected "
                                               "<AuthChallenge>", data="SignedChallenge")
        validate(root, what="signed challenge")
    except XmlError as exc:
        raise E.ElicenseFault(E.MALFORMED, str(exc), data="SignedChallenge") from exc
    nonce = (root.findtext(el("Nonce")) or "").strip()
    if not book.outstanding(nonce):
        raise _refused("authorisation denied: the challenge is unknown, used or expired; ask GetChallenge for a "
                       "new one")
    try:
        kind = parse_identifier(iin_bin, "IinBin").kind
    except EgovError as exc:
        raise E.ElicenseFault(E.INVALID_DATA, str(exc), data="IinBin") from exc
    try:
        if kind == "BIN":
            verified = verifier.verify_document(root, usage="auth", expect_bin=iin_bin)
        else:
            verified = verifier.verify_document(root, usage="auth", expect_iin=iin_bin)
    except SignatureRefused as exc:
        raise E.ElicenseFault(E.signature_code(exc.reason), f"authorisation denied: the AUTH certificate is not "
                                                            f"accepted: {exc.detail}",
                              data=exc.reason.value) from exc
    if not book.take(nonce):
        raise _refused("authorisation denied: the challenge was used meanwhile; ask GetChallenge for a new one")
    return verified
