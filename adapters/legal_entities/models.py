"""Data of the Legal Entities register (GBD UL) and the typed outcomes of a look-up.

Diagram 2 of the regulation branches on the look-up (condition 2: "the applicant's data exist"),
and the licensing decision then on the entity's state. Each case is its own type, so a caller
matches on it instead of decoding status codes::

    match client.lookup_bin(bin):
        case Found(organisation=org): ...
        case Liquidated() | Inactive(): ...   # present, but cannot be licensed
        case NotFound() | InvalidBin(): ...   # step 5: the data cannot be obtained
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from adapters.core.trust.subject import SignerInfo


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RefValue(_Model):
    """A reference-book value of the register: code and names."""

    code: str
    name_ru: str
    name_kz: str


class RegistrationStatus(enum.StrEnum):
    REGISTERED = "REGISTERED"
    INACTIVE = "INACTIVE"
    """Registered but recognised as inactive (no activity, tax reporting stopped)."""
    LIQUIDATED = "LIQUIDATED"


class Leader(_Model):
    iin: str
    surname: str
    name: str
    middle_name: str | None = None
    position_ru: str
    position_kz: str

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.middle_name) if p)


class Activity(_Model):
    main: bool
    oked: str
    """National classifier of economic activities, 5 digits (85xxx: education)."""
    name_kz: str
    name_ru: str


class Address(_Model):
    zip_code: str
    kato: str
    region_ru: str
    region_kz: str
    district_ru: str | None = None
    district_kz: str | None = None
    city_ru: str
    city_kz: str
    street_ru: str
    street_kz: str
    building: str
    flat: str | None = None
    office: str | None = None


class Liquidation(_Model):
    decision_date: dt.date
    reason_ru: str
    reason_kz: str


class LegalFounder(_Model):
    bin: str
    name_ru: str
    name_kz: str


class NaturalFounder(_Model):
    iin: str
    surname: str
    name: str
    middle_name: str | None = None


class Organisation(_Model):
    """One register entry, as the register sent it (and signed it)."""

    bin: str
    """The BIN; for a sole proprietor registered under the IIN, the IIN."""
    reg_status: RefValue
    registration_department: RefValue
    full_name_ru: str
    full_name_kz: str
    full_name_en: str | None = None
    short_name_ru: str
    short_name_kz: str
    short_name_en: str | None = None
    registration_date: dt.date
    registration_last_date: dt.date | None = None
    liquidation_date: dt.date | None = None
    org_form: RefValue
    form_of_law: RefValue
    private_enterprise_type: RefValue | None = None
    tax_org_status: RefValue | None = None
    liquidation: Liquidation | None = None
    parent_bin: str | None = None
    leader: Leader
    activities: tuple[Activity, ...]
    address: Address
    auth_capital: Decimal | None = None
    legal_founders: tuple[LegalFounder, ...] = ()
    natural_founders: tuple[NaturalFounder, ...] = ()

    @property
    def status(self) -> RegistrationStatus:
        return RegistrationStatus(self.reg_status.code)

    @property
    def is_branch(self) -> bool:
        return self.parent_bin is not None

    @property
    def is_sole_proprietor(self) -> bool:
        return self.org_form.code == "IP"

    @property
    def main_activity(self) -> Activity | None:
        return next((a for a in self.activities if a.main), None)

    @property
    def education_activities(self) -> tuple[Activity, ...]:
        """Activities in OKED section 85 (education)."""
        return tuple(a for a in self.activities if a.oked.startswith("85"))


class _Outcome(_Model):
    number: str
    """The BIN or IIN that was looked up."""
    signer: SignerInfo | None = None
    """Who signed the register's answer (None when the outcome was decided locally)."""

    @property
    def present(self) -> bool:
        """Diagram 2, condition 2: the applicant's data exist in the register."""
        return False

    @property
    def eligible(self) -> bool:
        """The entity is registered and active: the licensing procedure may go on."""
        return False


class Found(_Outcome):
    kind: Literal["found"] = "found"
    organisation: Organisation

    @property
    def present(self) -> bool:
        return True

    @property
    def eligible(self) -> bool:
        return True


class Liquidated(_Outcome):
    kind: Literal["liquidated"] = "liquidated"
    organisation: Organisation

    @property
    def present(self) -> bool:
        return True


class Inactive(_Outcome):
    kind: Literal["inactive"] = "inactive"
    organisation: Organisation

    @property
    def present(self) -> bool:
        return True


class NotFound(_Outcome):
    kind: Literal["not-found"] = "not-found"
    message: str = "no organisation with this number in the register"


class InvalidBin(_Outcome):
    kind: Literal["invalid-bin"] = "invalid-bin"
    reason: str
    """Why the number is not valid (length, digits, check digit, type), from us or the register."""


LookupOutcome = Annotated[Found | Liquidated | Inactive | NotFound | InvalidBin, Field(discriminator="kind")]
"""The result of a look-up, one type per branch of Diagram 2."""
