"""Browser sessions of the portal: language, the E-licensing session of the applicant or employee
logged in, the application being filled (the wizard's draft), and one message for the next page.

Kept in memory, by a random cookie (``portal_sid``, HttpOnly, SameSite=Lax); a portal restarted is
a portal logged out of. Each session has its own CSRF token, which every form and every script's POST
of the portal carries back (:mod:`portal.csrf`).
At most ``capacity`` sessions are kept (the least recently used goes first).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from cachetools import LRUCache

from adapters.elicense import Session
from simulators.portal.decision import Pending
from simulators.portal.draft import Draft
from simulators.portal.i18n import DEFAULT_LANG

COOKIE = "portal_sid"


@dataclass
class BrowserSession:
    sid: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    """The token a state-changing request of this session must carry (hidden field or header)."""
    lang: str = DEFAULT_LANG
    applicant: Session | None = None
    employee: Session | None = None
    draft: Draft | None = None
    flash: str | None = None
    """A message shown once, on the next page."""
    pending: dict[str, Pending] = field(default_factory=dict)
    """Documents handed to the browser for the head to sign, by application number, to compare with
    what comes back signed."""

    def take_flash(self) -> str | None:
        message, self.flash = self.flash, None
        return message


class SessionBook:
    """The browser sessions, by cookie value. Thread-safe."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._sessions: LRUCache[str, BrowserSession] = LRUCache(maxsize=capacity)
        self._lock = threading.Lock()

    def get_or_new(self, sid: str | None) -> tuple[BrowserSession, bool]:
        """The session of ``sid``, or a new one (and True)."""
        with self._lock:
            if sid is not None:
                found = self._sessions.get(sid)
                if found is not None:
                    return found, False
            made = BrowserSession(secrets.token_urlsafe(24))
            self._sessions[made.sid] = made
            return made, True

    def rotate(self, bs: BrowserSession) -> None:
        """A new session id and CSRF token for ``bs`` (its data kept), the old id forgotten: called when
        someone logs in, so that an id known before the login (planted, or seen on a shared machine)
        never carries the logged-in session (session fixation)."""
        with self._lock:
            self._sessions.pop(bs.sid, None)
            bs.sid = secrets.token_urlsafe(24)
            bs.csrf = secrets.token_urlsafe(32)
            self._sessions[bs.sid] = bs
