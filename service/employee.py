"""The E-licensing employee session the service reads applications through.

E-licensing shows an application's status and decision only to an authorised employee of its
licensor. The service logs in once with ``EGOV_ELICENSE_EMPLOYEE_LOGIN`` /
``EGOV_ELICENSE_EMPLOYEE_PASSWORD``, keeps the session until shortly before it expires, and logs in
again once when E-licensing says the session has expired (ELC102). A login E-licensing refuses is a
:class:`~adapters.core.errors.ConfigurationError` (the service's account, not the caller's request).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TypeVar

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError
from adapters.elicense import AuthorisationDenied, ElicenseClient, Session

T = TypeVar("T")

RENEW_BEFORE = dt.timedelta(seconds=30)
"""A session this close to its expiry is renewed before use."""


class EmployeeSession:
    """One employee's session, shared by every request. Thread-safe."""

    def __init__(self, client: ElicenseClient, login: str | None, password: str | None, *,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self._client = client
        self._login = login
        self._password = password
        self._clock = clock
        self._lock = threading.Lock()
        self._session: Session | None = None

    @property
    def configured(self) -> bool:
        return bool(self._login and self._password)

    def _fresh(self, *, renew: bool) -> Session:
        if not self._login or not self._password:
            raise ConfigurationError("reading applications needs an E-licensing employee: set "
                                     "EGOV_ELICENSE_EMPLOYEE_LOGIN and EGOV_ELICENSE_EMPLOYEE_PASSWORD",
                                     setting="elicense_employee_login")
        with self._lock:
            current = self._session
            if renew or current is None or current.expires_at - self._clock.now() < RENEW_BEFORE:
                try:
                    current = self._session = self._client.authorize_employee(self._login, self._password)
                except AuthorisationDenied as exc:  # the service's own account: a setting, not the caller's fault
                    raise ConfigurationError(f"E-licensing refuses the employee {self._login!r}: {exc.message}",
                                             setting="elicense_employee_login") from exc
            return current

    def run(self, call: Callable[[Session], T]) -> T:
        """``call(session)``; once more with a new session if E-licensing says it expired."""
        session = self._fresh(renew=False)
        try:
            return call(session)
        except AuthorisationDenied as exc:
            if not exc.context.get("session_expired"):
                raise
        return call(self._fresh(renew=True))
