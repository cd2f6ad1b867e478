"""E-licensing sessions and loaded keys, held in this process's memory only.

Secrets are resolved from their references when a login or a key needs them and are not kept:
a key is cached as loaded key material (by its file), a login as the session it opened. Nothing
here is written to the flow's data, so a flow resumed in another process logs in again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from adapters.core.trust.keystore import KeyMaterial
from adapters.elicense import Session
from procedure.application import Application, Officer
from procedure.credentials import KeyRef
from procedure.ports import Elicensing

__all__ = ["Logins"]

SESSION_MARGIN = dt.timedelta(minutes=1)
"""A cached session is used only while it stays good for at least this long."""


class Logins:
    """Sessions of applicants (by BIN) and employees (by login), and keys (by file)."""

    def __init__(self, elicense: Elicensing) -> None:
        self._elicense = elicense
        self._sessions: dict[tuple[str, str], Session] = {}
        self._keys: dict[str, KeyMaterial] = {}

    def key(self, ref: KeyRef) -> KeyMaterial:
        """The key of ``ref``, loaded once per process."""
        key = self._keys.get(ref.path)
        if key is None:
            key = self._keys[ref.path] = ref.load()
        return key

    def remember(self, kind: str, who: str, session: Session) -> None:
        self._sessions[(kind, who)] = session

    def open_session(self, kind: str, who: str, now: dt.datetime) -> Session | None:
        """A session of ``who`` opened in this process that is still good for a minute, if any."""
        cached = self._sessions.get((kind, who))
        return cached if cached is not None and cached.expires_at > now + SESSION_MARGIN else None

    def applicant(self, application: Application, now: dt.datetime) -> Session:
        """The applicant's session (Diagram 1): the open one, or a login with the portal credentials."""
        portal = application.on_portal()

        def login() -> Session:
            return self._elicense.authorize_applicant(self.key(portal.auth_key), portal.password.resolve(),
                                                      iin_bin=application.applicant.bin)

        return self._session("applicant", application.applicant.bin, login, now)

    def officer(self, officer: Officer, now: dt.datetime) -> Session:
        """The employee's session: the open one, or a login with the employee's password."""
        return self._session("employee", officer.login,
                             lambda: self._elicense.authorize_employee(officer.login, officer.password.resolve()),
                             now)

    def _session(self, kind: str, who: str, login: Callable[[], Session], now: dt.datetime) -> Session:
        session = self.open_session(kind, who, now)
        if session is None:
            session = login()
            self.remember(kind, who, session)
        return session
