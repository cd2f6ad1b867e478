"""The seeded actors of a scenario: an applicant (a legal entity and its director) and a licensor's
officer, with the test data a real caller would keep to itself (their passwords).

An actor turns into the procedure's input the way a person would: it types its password (kept
as a secret file, 0600, handed to the flow by reference) and presents its keys (PKCS#12 files
whose passwords are secret files too). Typing the password wrong is how a scenario plays
``not-authorised``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from procedure.application import ApplicantIdentity, Officer
from procedure.credentials import KeyRef, SecretRef, write_secret

__all__ = ["MISTYPED", "ApplicantActor", "OfficerActor"]

MISTYPED = "-mistyped"
"""What a mistyped password has after the right one."""


def _typed(secrets_dir: str, name: str, password: str, mistyped: bool) -> SecretRef:
    suffix = MISTYPED if mistyped else ""
    return write_secret(Path(secrets_dir) / f"{name}{suffix}.typed", password + suffix)


class ApplicantActor(BaseModel):
    """A legal entity seeded in the Legal Entities register, its director and the director's two NCA keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    identity: ApplicantIdentity
    leader_iin: str
    leader_name: str
    """Surname and name of the director (the keys' holder)."""
    portal_password: str
    """The password of its portal account (test data)."""
    auth_key: KeyRef
    """AUTH_RSA256: logs in to the portal."""
    sign_key: KeyRef
    """RSA256: signs the application."""
    secrets_dir: str
    """Where the passwords it types are written."""

    @property
    def bin(self) -> str:
        return self.identity.bin

    @property
    def city_kato(self) -> str:
        return self.identity.city_kato

    @property
    def name_ru(self) -> str:
        return self.identity.name_ru

    def typed_password(self, *, mistyped: bool = False) -> SecretRef:
        """The portal password as the applicant types it: right, or mistyped."""
        return _typed(self.secrets_dir, f"applicant-{self.bin}", self.portal_password, mistyped)

    def secrets(self) -> set[str]:
        """Every secret of this actor (for tests that look for leaks)."""
        return {self.portal_password, self.portal_password + MISTYPED, self.auth_key.password.resolve(),
                self.sign_key.password.resolve()}


class OfficerActor(BaseModel):
    """An employee of the licensor in E-licensing (seeded login) and the employee's EDS."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    login: str
    password: str
    """The employee's E-licensing password (test data)."""
    licensor_code: str
    key: KeyRef
    """Carries the licensor's BIN: signs applications entered in Diagram 2."""
    secrets_dir: str

    def typed_password(self, *, mistyped: bool = False) -> SecretRef:
        """The password as the employee types it: right, or mistyped."""
        return _typed(self.secrets_dir, f"employee-{self.login}", self.password, mistyped)

    def officer(self, *, mistyped: bool = False) -> Officer:
        """The officer as the procedure's request names it."""
        return Officer(login=self.login, password=self.typed_password(mistyped=mistyped),
                       licensor_code=self.licensor_code, key=self.key)

    def secrets(self) -> set[str]:
        return {self.password, self.password + MISTYPED, self.key.password.resolve()}
