"""The Legal Entities register's answer document, read with lxml into the adapter's models.

Each reader takes the ``Response`` whose signature was verified and whose signed content matches
``schemas/gbdul/gbdul.xsd``. Contract, for every reader: texts are stripped, an empty element is no
value; a required value missing, a date or number that does not convert and a value the model
refuses are an :class:`InvalidResponseError` naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

import pydantic
from lxml import etree

from adapters.core.errors import InvalidResponseError
from adapters.core.soap import require_match
from adapters.legal_entities.messages import q
from adapters.legal_entities.models import (
    Activity,
    Address,
    Leader,
    LegalFounder,
    Liquidation,
    NaturalFounder,
    Organisation,
    RefValue,
)

GBDUL_XSD = "schemas/gbdul/gbdul.xsd"
"""The schema every answer is checked against (after its signature) before it is read."""


def read_status(root: etree._Element) -> tuple[str, str, str]:
    """(code, name in Russian, name in Kazakh) of a ``Response``."""
    status = root.find(q("Status"))
    if status is None:
        raise InvalidResponseError("GBD UL response has no Status", field="Status")
    return (_req(status, "Code"), _req(status, "NameRu"), _req(status, "NameKz"))


def _opt(parent: etree._Element, name: str) -> str | None:
    el = parent.find(q(name))
    return el.text.strip() if el is not None and el.text is not None else None


def _req(parent: etree._Element, name: str) -> str:
    value = _opt(parent, name)
    if value is None:
        raise InvalidResponseError(f"GBD UL response: {etree.QName(parent).localname}/{name} is missing",
                                   field=name)
    return value


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidResponseError(f"GBD UL response: {field} {value!r} is not a date", field=field) from exc


def _opt_date(value: str | None, field: str) -> dt.date | None:
    return _date(value, field) if value else None


def _ref(parent: etree._Element, name: str) -> RefValue | None:
    el = parent.find(q(name))
    if el is None:
        return None
    return RefValue(code=_req(el, "Code"), name_ru=_req(el, "NameRu"), name_kz=_req(el, "NameKz"))


def _ref_req(parent: etree._Element, name: str) -> RefValue:
    value = _ref(parent, name)
    if value is None:
        raise InvalidResponseError(f"GBD UL response: Organization/{name} is missing", field=name)
    return value


def _fields(el: etree._Element, names: dict[str, str]) -> dict[str, Any]:
    return {attr: _opt(el, name) for attr, name in names.items()}


def read_organisation(root: etree._Element) -> Organisation | None:
    """The ``Organization`` of a schema-valid ``Response``, or None when there is none."""
    org = root.find(q("Organization"))
    if org is None:
        return None
    lead = org.find(q("OrganizationLeader"))
    addr = org.find(q("Address"))
    if lead is None or addr is None:
        raise InvalidResponseError("GBD UL response: Organization without leader or address", field="Organization")
    liq = org.find(q("Liquidation"))
    capital = _opt(org, "AuthCapital")
    try:
        auth_capital = Decimal(capital) if capital is not None else None
    except InvalidOperation as exc:
        raise InvalidResponseError(f"AuthCapital {capital!r} is not a number", field="AuthCapital") from exc
    founders = org.find(q("Founders"))
    registered = _date(_req(org, "RegistrationDate"), "RegistrationDate")
    last_registered = _opt_date(_opt(org, "RegistrationLastDate"), "RegistrationLastDate")
    liquidated = _opt_date(_opt(org, "LiquidationDate"), "LiquidationDate")
    with _model():
        return Organisation(
            bin=_req(org, "BIN"), reg_status=_ref_req(org, "RegStatus"),
            registration_department=_ref_req(org, "RegistrationDepartment"),
            full_name_ru=_req(org, "FullNameRu"), full_name_kz=_req(org, "FullNameKz"),
            full_name_en=_opt(org, "FullNameEn"), short_name_ru=_req(org, "ShortNameRu"),
            short_name_kz=_req(org, "ShortNameKz"), short_name_en=_opt(org, "ShortNameEn"),
            registration_date=registered, registration_last_date=last_registered,
            liquidation_date=liquidated, org_form=_ref_req(org, "OrgForm"),
            form_of_law=_ref_req(org, "FormOfLaw"), private_enterprise_type=_ref(org, "PrivateEnterpriseType"),
            tax_org_status=_ref(org, "TaxOrgStatus"),
            liquidation=Liquidation(decision_date=_date(_req(liq, "DecisionDate"), "DecisionDate"),
                                    reason_ru=_req(liq, "ReasonRu"), reason_kz=_req(liq, "ReasonKz"))
            if liq is not None else None,
            parent_bin=_opt(org, "ParentBIN"),
            leader=Leader(iin=_req(lead, "IIN"), surname=_req(lead, "SurName"), name=_req(lead, "Name"),
                          middle_name=_opt(lead, "MiddleName"), position_ru=_req(lead, "PositionRu"),
                          position_kz=_req(lead, "PositionKz")),
            activities=tuple(Activity(main=_req(a, "Main") in ("true", "1"), oked=_req(a, "OKED"),
                                      name_kz=_req(a, "ActivityNameKz"), name_ru=_req(a, "ActivityNameRu"))
                             for a in org.findall(q("Activity"))),
            address=Address(zip_code=_req(addr, "ZIPCode"), kato=_req(addr, "KATO"),
                            region_ru=_req(addr, "RegionRu"), region_kz=_req(addr, "RegionKz"),
                            city_ru=_req(addr, "CityRu"), city_kz=_req(addr, "CityKz"),
                            street_ru=_req(addr, "StreetRu"), street_kz=_req(addr, "StreetKz"),
                            building=_req(addr, "Building"),
                            **_fields(addr, {"district_ru": "DistrictRu", "district_kz": "DistrictKz", "flat": "Flat",
                                             "office": "Office"})),
            auth_capital=auth_capital,
            legal_founders=tuple(LegalFounder(bin=_req(f, "BIN"), name_ru=_req(f, "NameRu"), name_kz=_req(f, "NameKz"))
                                 for f in (founders.findall(q("FounderUL")) if founders is not None else [])),
            natural_founders=tuple(NaturalFounder(iin=_req(f, "IIN"), surname=_req(f, "SurName"), name=_req(f, "Name"),
                                                  middle_name=_opt(f, "MiddleName"))
                                   for f in (founders.findall(q("FounderFL")) if founders is not None else [])),
        )


def require_answers(organisation: Organisation, number: str, *, by: str) -> None:
    """The organisation is the one asked for: its BIN is ``number`` (``by`` ``"BIN"``), or, for a
    sole proprietor looked up by the individual's IIN (``by`` ``"IIN"``), its BIN or its leader's
    IIN is; else :class:`~adapters.core.errors.MismatchedAnswerError` naming the field."""
    if by == "IIN" and organisation.bin != number:
        require_match("GBD UL answer", "OrganizationLeader/IIN", number, organisation.leader.iin)
    else:
        require_match("GBD UL answer", "Organization/BIN", number, organisation.bin)


@contextmanager
def _model() -> Iterator[None]:
    """A value the model refuses is an :class:`InvalidResponseError` naming the field."""
    try:
        yield
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidResponseError(f"GBD UL response: {field}: {first['msg']}", field=field) from exc
