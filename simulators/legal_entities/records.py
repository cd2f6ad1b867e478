"""The simulator's state model: one Legal Entities register record, as stored in the fixtures file.

Field names follow the GBD UL wire elements in snake_case so that the fixtures file reads like the
register itself and QA can edit it by hand. Names in Kazakh, Russian and English are kept side by
side; reference-book values (status, legal form, department) are ``Code`` + names.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RefName(_Record):
    """A reference-book value: a code and its names."""

    code: str
    name_ru: str
    name_kz: str


class Leader(_Record):
    iin: str
    surname: str
    name: str
    middle_name: str | None = None
    position_ru: str
    position_kz: str


class ActivityRecord(_Record):
    main: bool
    oked: str
    name_kz: str
    name_ru: str


class AddressRecord(_Record):
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


class LegalFounder(_Record):
    bin: str
    name_ru: str
    name_kz: str


class NaturalFounder(_Record):
    iin: str
    surname: str
    name: str
    middle_name: str | None = None


class LiquidationRecord(_Record):
    decision_date: dt.date
    reason_ru: str
    reason_kz: str


class OrganisationRecord(_Record):
    """One register entry. ``bin`` is a BIN, or an IIN for a sole proprietor registered under it."""

    bin: str
    reg_status: RefName
    registration_department: RefName
    full_name_ru: str
    full_name_kz: str
    full_name_en: str | None = None
    short_name_ru: str
    short_name_kz: str
    short_name_en: str | None = None
    registration_date: dt.date
    registration_last_date: dt.date | None = None
    liquidation_date: dt.date | None = None
    org_form: RefName
    form_of_law: RefName
    private_enterprise_type: RefName | None = None
    tax_org_status: RefName | None = None
    liquidation: LiquidationRecord | None = None
    parent_bin: str | None = None
    leader: Leader
    activities: tuple[ActivityRecord, ...] = Field(min_length=1)
    address: AddressRecord
    auth_capital: Decimal | None = None
    legal_founders: tuple[LegalFounder, ...] = ()
    natural_founders: tuple[NaturalFounder, ...] = ()


class FixturesFile(_Record):
    """The whole fixtures file: a format version and the organisations."""

    format: Literal["gbdul-fixtures/1"] = "gbdul-fixtures/1"
    seed: int | None = None
    organisations: tuple[OrganisationRecord, ...]
