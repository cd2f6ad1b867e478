"""Reference data of the E-licensing simulator: services, licensors, territories, sub-types.

The five services and their licensors follow Order No. 467 (REGULATION.md, "The five services").
Territories are the 17 regions and 3 cities of republican significance with KATO-like codes (the
real two-digit region prefixes, padded to nine digits), plus the country itself.

Codes that no public source fixes are ours and documented in ``docs/elicense.md``:
licensor codes (``KKSON`` for the Committee, ``DKSO<region prefix>`` for a territorial
department), sub-type codes (``ED<service><group><item>``, e.g. ``ED010100``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from adapters.contracts.elicense import SERVICE_NAMES
from adapters.core.errors import IdentifierError
from adapters.core.identifiers import make_bin, make_iin

COUNTRY_CODE = "000000000"
ACTIVITY_CODE = "M65"
ACTIVITY_NAMES = {
    "ru": "Образовательная деятельность",
    "kz": "Білім беру саласындағы қызмет",  # as the regulation's application information names it
    "en": "Educational activity",
}
COMMITTEE_CODE = "KKSON"


@dataclass(frozen=True)
class Territory:
    """An entry of the territory directory (KATO-like code)."""

    code: str
    kind: str  # "country" | "region" | "city"
    name_ru: str
    name_kz: str
    name_en: str

    @property
    def prefix(self) -> str:
        return self.code[:2]


@dataclass(frozen=True)
class SubType:
    code: str
    name_ru: str
    name_kz: str
    name_en: str


@dataclass(frozen=True)
class Service:
    """One of the five state services (each: issue, re-issue, duplicate, appendix)."""

    code: str
    name_ru: str
    name_kz: str
    name_en: str
    licensor_level: str  # "committee" | "territorial"
    sub_types: tuple[SubType, ...] = field(default=())


@dataclass(frozen=True)
class Licensor:
    code: str
    bin: str
    name_ru: str
    name_kz: str
    name_en: str
    territory_code: str
    head_iin: str
    head_name: str
    seat_kz: str = ""
    """The city of the licensor's seat (the licence's place of issue), e.g. "Астана қ."."""
    seat_ru: str = ""
    address_kz: str = ""
    """The state body's address, as its letters give it."""
    address_ru: str = ""


SEATS: dict[str, tuple[str, str]] = {
    "10": ("Семей", "Семей"), "11": ("Көкшетау", "Кокшетау"), "15": ("Ақтөбе", "Актобе"),
    "19": ("Қонаев", "Конаев"), "23": ("Атырау", "Атырау"), "27": ("Орал", "Уральск"), "31": ("Тараз", "Тараз"),
    "33": ("Талдықорған", "Талдыкорган"), "35": ("Қарағанды", "Караганда"), "39": ("Қостанай", "Костанай"),
    "43": ("Қызылорда", "Кызылорда"), "47": ("Ақтау", "Актау"), "55": ("Павлодар", "Павлодар"),
    "59": ("Петропавл", "Петропавловск"), "61": ("Түркістан", "Туркестан"), "62": ("Жезқазған", "Жезказган"),
    "63": ("Өскемен", "Усть-Каменогорск"), "71": ("Астана", "Астана"), "75": ("Алматы", "Алматы"),
    "79": ("Шымкент", "Шымкент"),
}
"""Region prefix → the city where its territorial department sits (the regional centre), kk and ru."""
COMMITTEE_ADDRESS = ("Астана қ., Мәңгілік Ел даңғылы, 8, Министрліктер үйі, 11-кіреберіс",
                     "г. Астана, проспект Мангилик Ел, 8, Дом министерств, 11 подъезд")
"""The Committee's address (the Ministry's building). A department's street address is not in the
seeds: its letters give its city and the department's name only (an assumption, docs/regulation-conformance.md)."""


TERRITORIES: tuple[Territory, ...] = (
    Territory(COUNTRY_CODE, "country", "Республика Казахстан", "Қазақстан Республикасы", "Republic of Kazakhstan"),
    Territory("100000000", "region", "Абайская область", "Абай облысы", "Abai Region"),
    Territory("110000000", "region", "Акмолинская область", "Ақмола облысы", "Akmola Region"),
    Territory("150000000", "region", "Актюбинская область", "Ақтөбе облысы", "Aktobe Region"),
    Territory("190000000", "region", "Алматинская область", "Алматы облысы", "Almaty Region"),
    Territory("230000000", "region", "Атырауская область", "Атырау облысы", "Atyrau Region"),
    Territory("270000000", "region", "Западно-Казахстанская область", "Батыс Қазақстан облысы",
              "West Kazakhstan Region"),
    Territory("310000000", "region", "Жамбылская область", "Жамбыл облысы", "Zhambyl Region"),
    Territory("330000000", "region", "Область Жетісу", "Жетісу облысы", "Zhetisu Region"),
    Territory("350000000", "region", "Карагандинская область", "Қарағанды облысы", "Karaganda Region"),
    Territory("390000000", "region", "Костанайская область", "Қостанай облысы", "Kostanay Region"),
    Territory("430000000", "region", "Кызылординская область", "Қызылорда облысы", "Kyzylorda Region"),
    Territory("470000000", "region", "Мангистауская область", "Маңғыстау облысы", "Mangystau Region"),
    Territory("550000000", "region", "Павлодарская область", "Павлодар облысы", "Pavlodar Region"),
    Territory("590000000", "region", "Северо-Казахстанская область", "Солтүстік Қазақстан облысы",
              "North Kazakhstan Region"),
    Territory("610000000", "region", "Туркестанская область", "Түркістан облысы", "Turkistan Region"),
    Territory("620000000", "region", "Область Ұлытау", "Ұлытау облысы", "Ulytau Region"),
    Territory("630000000", "region", "Восточно-Казахстанская область", "Шығыс Қазақстан облысы",
              "East Kazakhstan Region"),
    Territory("710000000", "city", "город Астана", "Астана қаласы", "Astana"),
    Territory("750000000", "city", "город Алматы", "Алматы қаласы", "Almaty"),
    Territory("790000000", "city", "город Шымкент", "Шымкент қаласы", "Shymkent"),
)


def _names(code: str) -> tuple[str, str]:
    """(ru, kz) of a service, from the contract's table (the order of :class:`Service`'s fields)."""
    kk, ru = SERVICE_NAMES[code]
    return ru, kk


def _st(code: str, ru: str, kz: str, en: str) -> SubType:
    return SubType(code, ru, kz, en)


SERVICES: tuple[Service, ...] = (
    Service("S1", *_names("S1"), "Higher and postgraduate education", "committee", (
                _st("ED010100", "Высшее образование (бакалавриат)", "Жоғары білім (бакалавриат)",
                    "Higher education (bachelor)"),
                _st("ED010200", "Магистратура", "Магистратура", "Master's programmes"),
                _st("ED010300", "Докторантура", "Докторантура", "Doctoral programmes"),
                _st("ED010400", "Резидентура", "Резидентура", "Residency"),
            )),
    Service("S2", *_names("S2"), "Organisations giving religious education", "committee", (
                _st("ED020100", "Религиозное образование (высшее)", "Діни білім (жоғары)",
                    "Religious education (higher)"),
                _st("ED020200", "Религиозное образование (среднее)", "Діни білім (орта)",
                    "Religious education (secondary)"),
            )),
    Service("S3", *_names("S3"), "Technical and vocational education programmes", "territorial", (
                _st("ED030100", "Техническое и профессиональное образование",
                    "Техникалық және кәсіптік білім", "Technical and vocational education"),
                _st("ED030200", "Послесреднее образование", "Орта білімнен кейінгі білім",
                    "Post-secondary education"),
            )),
    Service("S4", *_names("S4"), "Primary, basic secondary and general secondary education programmes", "territorial", (
                _st("ED040100", "Начальное образование", "Бастауыш білім", "Primary education"),
                _st("ED040200", "Основное среднее образование", "Негізгі орта білім",
                    "Basic secondary education"),
                _st("ED040300", "Общее среднее образование", "Жалпы орта білім",
                    "General secondary education"),
            )),
    Service("S5", *_names("S5"), "Educational organisations funded from the republican budget", "committee", (
                _st("ED050100", "Высшее образование (республиканский бюджет)",
                    "Жоғары білім (республикалық бюджет)", "Higher education (republican budget)"),
                _st("ED050200", "Техническое и профессиональное образование (республиканский бюджет)",
                    "Техникалық және кәсіптік білім (республикалық бюджет)",
                    "Technical and vocational education (republican budget)"),
                _st("ED050300", "Среднее образование (республиканский бюджет)",
                    "Орта білім (республикалық бюджет)", "Secondary education (republican budget)"),
            )),
)

_HEAD_NAMES = ("ЖАКУПОВ АСЕТ", "ИСКАКОВА ГУЛЬНАРА", "ОМАРОВ ЕРЛАН", "САДЫКОВА АЙГУЛЬ", "ТУЛЕГЕНОВ БАУЫРЖАН")


def _valid_bin(serial: int) -> str:
    """A state body's BIN (registered 2012, resident, head office), trying serials until one is valid."""
    while True:
        try:
            return make_bin(2012, 10, 4, 0, serial)
        except IdentifierError:
            serial += 1


def _valid_iin(day: int, serial: int, name: str) -> str:
    sex: Literal["male", "female"] = "female" if name.split()[0].endswith("А") else "male"
    while True:
        try:
            return make_iin(dt.date(1970, 1, 1 + day % 28), sex, serial)
        except IdentifierError:
            serial += 1


@cache
def licensors() -> tuple[Licensor, ...]:
    """The Committee, then one territorial department per region and city (deterministic BINs/IINs)."""
    out = [Licensor(COMMITTEE_CODE, _valid_bin(100),
                    "Комитет по контролю в сфере образования и науки МОН РК",
                    "ҚР БҒМ Білім және ғылым саласындағы бақылау комитеті",
                    "Committee for Control in Education and Science (MES)", COUNTRY_CODE,
                    _valid_iin(0, 100, _HEAD_NAMES[0]), _HEAD_NAMES[0], seat_kz="Астана қ.", seat_ru="г. Астана",
                    address_kz=COMMITTEE_ADDRESS[0], address_ru=COMMITTEE_ADDRESS[1])]
    for i, t in enumerate(TERRITORIES[1:], start=1):
        city_kz, city_ru = SEATS[t.prefix]
        out.append(Licensor(f"DKSO{t.prefix}", _valid_bin(200 + 10 * i),
                            f"Департамент по контролю в сфере образования ({t.name_ru})",
                            f"{t.name_kz} білім саласындағы бақылау департаменті",
                            f"Department of Control in Education ({t.name_en})", t.code,
                            _valid_iin(i, 200 + 10 * i, _HEAD_NAMES[i % len(_HEAD_NAMES)]),
                            _HEAD_NAMES[i % len(_HEAD_NAMES)], seat_kz=f"{city_kz} қ.", seat_ru=f"г. {city_ru}",
                            address_kz=f"{city_kz} қ., {t.name_kz} білім саласындағы бақылау департаменті",
                            address_ru=f"г. {city_ru}, Департамент по контролю в сфере образования "
                                       f"({t.name_ru})"))
    return tuple(out)


def territory(code: str) -> Territory | None:
    return next((t for t in TERRITORIES if t.code == code), None)


def region_of(kato: str) -> Territory | None:
    """The region or city whose two-digit prefix the KATO code carries (None for the country or unknown)."""
    if len(kato) != 9 or not kato.isdigit():
        return None
    return next((t for t in TERRITORIES[1:] if t.prefix == kato[:2]), None)


def service(code: str) -> Service | None:
    return next((s for s in SERVICES if s.code == code), None)


def licensor(code: str) -> Licensor | None:
    return next((lic for lic in licensors() if lic.code == code), None)


def licensor_for(svc: Service, applicant_kato: str) -> Licensor | None:
    """Services 1, 2, 5: the Committee; services 3, 4: the department of the applicant's region."""
    if svc.licensor_level == "committee":
        return licensor(COMMITTEE_CODE)
    region = region_of(applicant_kato)
    return None if region is None else licensor(f"DKSO{region.prefix}")
