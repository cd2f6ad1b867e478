"""Wire format of the Legal Entities simulator: GBD UL request in, GBD UL response out.

Uses the same schema as the adapter (``schemas/gbdul/gbdul.xsd``). Only builds and reads
elements; signing and routing are the backend's job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lxml import etree

from adapters.contracts import load_schema, schema_errors
from simulators.legal_entities.records import OrganisationRecord, RefName

GBDUL_NS = "http://schemas.egov-adapters.kz/gbdul/v2"
GBDUL_XSD = "schemas/gbdul/gbdul.xsd"

STATUS_NAMES: dict[str, tuple[str, str]] = {
    "00": ("Сведения найдены", "Мәліметтер табылды"),
    "01": ("Сведения не найдены", "Мәліметтер табылмады"),
    "02": ("Неверный БИН/ИИН", "БСН/ЖСН қате"),
    "03": ("Неверный БИН запрашивающей организации", "Сұраушы ұйымның БСН қате"),
    "99": ("Внутренняя ошибка", "Ішкі қате"),
}


def schema() -> etree.XMLSchema:
    return load_schema(GBDUL_XSD)


@dataclass(frozen=True)
class LookupRequest:
    kind: str  # "BIN" or "IIN"
    requestor_bin: str
    number: str


def read_request(element: etree._Element) -> LookupRequest:
    """Read a ``Request`` (by BIN) or ``IinRequest``; raises ValueError naming what is wrong."""
    errors = schema_errors(GBDUL_XSD, element)
    if errors:
        raise ValueError(f"request does not match gbdul.xsd: {errors[0]}")
    q = etree.QName(element)
    kind = "BIN" if q.localname == "Request" else "IIN"
    return LookupRequest(kind=kind, requestor_bin=_text(element, "RequestorBIN"),
                         number=_text(element, kind))


def _text(parent: etree._Element, name: str) -> str:
    child = parent.find(f"{{{GBDUL_NS}}}{name}")
    return (child.text or "").strip() if child is not None else ""


def _sub(parent: etree._Element, name: str, value: object | None) -> etree._Element | None:
    if value is None:
        return None
    el = etree.SubElement(parent, f"{{{GBDUL_NS}}}{name}")
    if isinstance(value, bool):
        el.text = "true" if value else "false"
    elif isinstance(value, dt.date):
        el.text = value.isoformat()
    else:
        el.text = str(value)
    return el


def _ref(parent: etree._Element, name: str, ref: RefName | None) -> None:
    if ref is None:
        return
    el = etree.SubElement(parent, f"{{{GBDUL_NS}}}{name}")
    _sub(el, "Code", ref.code)
    _sub(el, "NameRu", ref.name_ru)
    _sub(el, "NameKz", ref.name_kz)


def build_response(code: str, organisation: OrganisationRecord | None = None, *,
                   detail: str | None = None) -> etree._Element:
    """A ``Response`` element (unsigned) with the status and, when found, the organisation."""
    root = etree.Element(f"{{{GBDUL_NS}}}Response", nsmap={None: GBDUL_NS})
    name_ru, name_kz = STATUS_NAMES[code]
    if detail:
        name_ru, name_kz = f"{name_ru}: {detail}", f"{name_kz}: {detail}"
    _ref(root, "Status", RefName(code=code, name_ru=name_ru, name_kz=name_kz))
    if organisation is not None:
        _organisation(root, organisation)
    return root


def _organisation(parent: etree._Element, o: OrganisationRecord) -> None:
    org = etree.SubElement(parent, f"{{{GBDUL_NS}}}Organization")
    _sub(org, "BIN", o.bin)
    _ref(org, "RegStatus", o.reg_status)
    _ref(org, "RegistrationDepartment", o.registration_department)
    for name in ("FullNameRu", "FullNameKz", "FullNameEn", "ShortNameRu", "ShortNameKz", "ShortNameEn"):
        attr = name.replace("FullName", "full_name_").replace("ShortName", "short_name_").lower()
        _sub(org, name, getattr(o, attr))
    _sub(org, "RegistrationDate", o.registration_date)
    _sub(org, "RegistrationLastDate", o.registration_last_date)
    _sub(org, "LiquidationDate", o.liquidation_date)
    _ref(org, "OrgForm", o.org_form)
    _ref(org, "FormOfLaw", o.form_of_law)
    _ref(org, "PrivateEnterpriseType", o.private_enterprise_type)
    _ref(org, "TaxOrgStatus", o.tax_org_status)
    if o.liquidation is not None:
        liq = etree.SubElement(org, f"{{{GBDUL_NS}}}Liquidation")
        _sub(liq, "DecisionDate", o.liquidation.decision_date)
        _sub(liq, "ReasonRu", o.liquidation.reason_ru)
        _sub(liq, "ReasonKz", o.liquidation.reason_kz)
    _sub(org, "ParentBIN", o.parent_bin)
    lead = etree.SubElement(org, f"{{{GBDUL_NS}}}OrganizationLeader")
    _sub(lead, "IIN", o.leader.iin)
    _sub(lead, "SurName", o.leader.surname)
    _sub(lead, "Name", o.leader.name)
    _sub(lead, "MiddleName", o.leader.middle_name)
    _sub(lead, "PositionRu", o.leader.position_ru)
    _sub(lead, "PositionKz", o.leader.position_kz)
    for a in o.activities:
        act = etree.SubElement(org, f"{{{GBDUL_NS}}}Activity")
        _sub(act, "Main", a.main)
        _sub(act, "OKED", a.oked)
        _sub(act, "ActivityNameKz", a.name_kz)
        _sub(act, "ActivityNameRu", a.name_ru)
    ad = o.address
    addr = etree.SubElement(org, f"{{{GBDUL_NS}}}Address")
    for name, value in (("ZIPCode", ad.zip_code), ("KATO", ad.kato), ("RegionRu", ad.region_ru),
                        ("RegionKz", ad.region_kz), ("DistrictRu", ad.district_ru),
                        ("DistrictKz", ad.district_kz), ("CityRu", ad.city_ru), ("CityKz", ad.city_kz),
                        ("StreetRu", ad.street_ru), ("StreetKz", ad.street_kz), ("Building", ad.building),
                        ("Flat", ad.flat), ("Office", ad.office)):
        _sub(addr, name, value)
    _sub(org, "AuthCapital", o.auth_capital)
    if o.legal_founders or o.natural_founders:
        founders = etree.SubElement(org, f"{{{GBDUL_NS}}}Founders")
        for lf in o.legal_founders:
            el = etree.SubElement(founders, f"{{{GBDUL_NS}}}FounderUL")
            _sub(el, "BIN", lf.bin)
            _sub(el, "NameRu", lf.name_ru)
            _sub(el, "NameKz", lf.name_kz)
        for nf in o.natural_founders:
            el = etree.SubElement(founders, f"{{{GBDUL_NS}}}FounderFL")
            _sub(el, "IIN", nf.iin)
            _sub(el, "SurName", nf.surname)
            _sub(el, "Name", nf.name)
            _sub(el, "MiddleName", nf.middle_name)
