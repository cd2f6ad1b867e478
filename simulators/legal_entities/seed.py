"""Deterministic seed data for the Legal Entities simulator.

``python -m simulators.legal_entities.seed [path]`` rewrites ``fixtures/organisations.json``.
Every BIN and IIN is built with :func:`adapters.core.identifiers.make_bin` / ``make_iin`` so the
check digits are valid; the random generator is seeded, so the file is reproducible and a diff
of the committed file shows real changes only.

The mix covers what the licensing procedure branches on: head offices of every legal form
(ТОО, АО, РГУ, ГККП, private institution), branches (attribute digit 1, with the parent BIN),
sole proprietors (some under their IIN, older ones under a type-6 BIN), and entities that are
liquidated or inactive, spread over the regions of Kazakhstan with their KATO codes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from adapters.core.errors import IdentifierError
from adapters.core.identifiers import make_bin, make_iin
from simulators.legal_entities.records import (
    ActivityRecord,
    AddressRecord,
    FixturesFile,
    Leader,
    LegalFounder,
    LiquidationRecord,
    NaturalFounder,
    OrganisationRecord,
    RefName,
)

SEED = 467  # the number of the Order: any fixed value would do
DEFAULT_PATH = Path(__file__).parent / "fixtures" / "organisations.json"

# Well-known valid BINs from the public examples: the licensor (our RequestorBIN by default) and a
# branch of a university.
FIXED_BINS = ("940140000385", "950341000052")
# Founder of the state institutions (the education ministry), a valid BIN outside the register.
MINISTRY_BIN = make_bin(1999, 2, 4, 0, 412)


@dataclass(frozen=True)
class Region:
    code: str  # registration department code
    ru: str
    kz: str
    city_ru: str
    city_kz: str
    kato: str
    zip_code: str
    republican_city: bool = False


REGIONS: tuple[Region, ...] = (
    Region("6201", "г. Астана", "Астана қ.", "Астана", "Астана", "711000000", "010000", True),
    Region("6001", "г. Алматы", "Алматы қ.", "Алматы", "Алматы", "751000000", "050000", True),
    Region("5901", "г. Шымкент", "Шымкент қ.", "Шымкент", "Шымкент", "791000000", "160000", True),
    Region("0301", "Акмолинская область", "Ақмола облысы", "Кокшетау", "Көкшетау", "111010000", "020000"),
    Region("0401", "Актюбинская область", "Ақтөбе облысы", "Актобе", "Ақтөбе", "151010000", "030000"),
    Region("1901", "Алматинская область", "Алматы облысы", "Конаев", "Қонаев", "191610000", "040800"),
    Region("1501", "Атырауская область", "Атырау облысы", "Атырау", "Атырау", "231010000", "060000"),
    Region("2701", "Западно-Казахстанская область", "Батыс Қазақстан облысы", "Уральск", "Орал",
           "271010000", "090000"),
    Region("3101", "Жамбылская область", "Жамбыл облысы", "Тараз", "Тараз", "311010000", "080000"),
    Region("3001", "Карагандинская область", "Қарағанды облысы", "Караганда", "Қарағанды",
           "351010000", "100000"),
    Region("3901", "Костанайская область", "Қостанай облысы", "Костанай", "Қостанай", "391010000", "110000"),
    Region("3301", "Кызылординская область", "Қызылорда облысы", "Кызылорда", "Қызылорда",
           "431010000", "120000"),
    Region("4301", "Мангистауская область", "Маңғыстау облысы", "Актау", "Ақтау", "471010000", "130000"),
    Region("4501", "Павлодарская область", "Павлодар облысы", "Павлодар", "Павлодар", "551010000", "140000"),
    Region("4801", "Северо-Казахстанская область", "Солтүстік Қазақстан облысы", "Петропавловск",
           "Петропавл", "591010000", "150000"),
    Region("5801", "Туркестанская область", "Түркістан облысы", "Туркестан", "Түркістан",
           "611010000", "161200"),
    Region("1801", "Восточно-Казахстанская область", "Шығыс Қазақстан облысы", "Усть-Каменогорск",
           "Өскемен", "631010000", "070000"),
)

# OKED 85.xx: education (5-digit national codes)
OKED: dict[str, tuple[str, str]] = {
    "85100": ("Дошкольное образование", "Мектепке дейінгі білім беру"),
    "85200": ("Начальное образование", "Бастауыш білім беру"),
    "85310": ("Основное среднее и общее среднее образование", "Негізгі орта және жалпы орта білім беру"),
    "85320": ("Техническое и профессиональное среднее образование", "Техникалық және кәсіптік орта білім беру"),
    "85410": ("Послесреднее образование", "Орта білімнен кейінгі білім беру"),
    "85420": ("Высшее образование", "Жоғары білім беру"),
    "85510": ("Образование в области спорта и отдыха", "Спорт және демалыс саласындағы білім беру"),
    "85520": ("Образование в области культуры", "Мәдениет саласындағы білім беру"),
    "85530": ("Деятельность школ подготовки водителей", "Жүргізушілерді даярлау мектептерінің қызметі"),
    "85590": ("Прочее образование, не включенное в другие группировки",
              "Басқа топтамаларға енгізілмеген өзге де білім беру"),
    "85600": ("Вспомогательная образовательная деятельность", "Көмекші білім беру қызметі"),
}


@dataclass(frozen=True)
class Form:
    code: str
    short_ru: str
    short_kz: str
    short_en: str
    full_ru: str
    full_kz: str
    full_en: str
    state: bool


FORMS: dict[str, Form] = {
    "TOO": Form("TOO", "ТОО", "ЖШС", "LLP", "Товарищество с ограниченной ответственностью",
                "жауапкершілігі шектеулі серіктестігі", "Limited Liability Partnership", False),
    "AO": Form("AO", "АО", "АҚ", "JSC", "Акционерное общество", "акционерлік қоғамы",
               "Joint-Stock Company", False),
    "RGU": Form("RGU", "РГУ", "РММ", "RSI", "Республиканское государственное учреждение",
                "республикалық мемлекеттік мекемесі", "Republican State Institution", True),
    "GKKP": Form("GKKP", "ГККП", "МКҚК", "SMSOE",
                 "Государственное коммунальное казённое предприятие",
                 "мемлекеттік коммуналдық қазыналық кәсіпорны",
                 "State Municipal State-Owned Enterprise", True),
    "CHU": Form("CHU", "ЧУ", "ЖМ", "PI", "Частное учреждение", "жеке мекемесі", "Private Institution", False),
    "FIL": Form("FIL", "Филиал", "Филиалы", "Branch", "Филиал", "филиалы", "Branch", False),
    "IP": Form("IP", "ИП", "ЖК", "IE", "Индивидуальный предприниматель", "жеке кәсіпкер",
               "Individual Entrepreneur", False),
}

# (kind ru, kind kz (after the brand), kind en, main OKED)
KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("Колледж", "колледжі", "College", "85320"),
    ("Высший колледж", "жоғары колледжі", "Higher College", "85410"),
    ("Университет", "университеті", "University", "85420"),
    ("Академия", "академиясы", "Academy", "85420"),
    ("Школа-гимназия", "мектеп-гимназиясы", "School-Gymnasium", "85310"),
    ("Лицей", "лицейі", "Lyceum", "85310"),
    ("Начальная школа", "бастауыш мектебі", "Primary School", "85200"),
    ("Детский сад", "балабақшасы", "Kindergarten", "85100"),
    ("Учебный центр", "оқу орталығы", "Training Centre", "85590"),
    ("Автошкола", "автомектебі", "Driving School", "85530"),
    ("Школа искусств", "өнер мектебі", "Art School", "85520"),
)

BRANDS: tuple[tuple[str, str, str], ...] = (
    ("Болашак", "Болашақ", "Bolashak"), ("Жулдыз", "Жұлдыз", "Zhuldyz"), ("Акбота", "Ақбота", "Akbota"),
    ("Нур", "Нұр", "Nur"), ("Сункар", "Сұңқар", "Sunkar"), ("Дарын", "Дарын", "Daryn"),
    ("Зерде", "Зерде", "Zerde"), ("Тулпар", "Тұлпар", "Tulpar"), ("Самгау", "Самғау", "Samgau"),
    ("Білім", "Білім", "Bilim"), ("Улагат", "Ұлағат", "Ulagat"), ("Кемел", "Кемел", "Kemel"),
    ("Арман", "Арман", "Arman"), ("Шапагат", "Шапағат", "Shapagat"), ("Мирас", "Мирас", "Miras"),
    ("Байтерек", "Бәйтерек", "Baiterek"), ("Кайнар", "Қайнар", "Kainar"), ("Алтын Орда", "Алтын Орда",
                                                                             "Altyn Orda"),
    ("Ак Жол", "Ақ Жол", "Ak Zhol"), ("Парасат", "Парасат", "Parasat"),
)

MALE = ("Ерлан", "Асхат", "Данияр", "Бауыржан", "Нурлан", "Серик", "Арман", "Тимур", "Марат", "Кайрат")
FEMALE = ("Айгуль", "Динара", "Гульнара", "Асель", "Жанар", "Салтанат", "Мадина", "Алия", "Сауле", "Камила")
SURNAMES = ("Ахметов", "Садыков", "Жумабаев", "Нурланов", "Касымов", "Омаров", "Сейткалиев", "Мусин",
            "Абенов", "Исабеков", "Тулегенов", "Каримов", "Байжанов", "Ибраев")
STREETS: tuple[tuple[str, str], ...] = (
    ("ул. Абая", "Абай к-сі"), ("пр. Республики", "Республика даңғ."), ("ул. Кенесары", "Кенесары к-сі"),
    ("ул. Сатпаева", "Сәтбаев к-сі"), ("ул. Толе би", "Төле би к-сі"), ("ул. Желтоксан", "Желтоқсан к-сі"),
    ("пр. Назарбаева", "Назарбаев даңғ."), ("ул. Ауэзова", "Әуезов к-сі"), ("ул. Габдуллина", "Ғабдуллин к-сі"),
)

STATUS = {
    "REGISTERED": RefName(code="REGISTERED", name_ru="Зарегистрирован", name_kz="Тіркелген"),
    "INACTIVE": RefName(code="INACTIVE", name_ru="Бездействующий", name_kz="Әрекетсіз"),
    "LIQUIDATED": RefName(code="LIQUIDATED", name_ru="Ликвидирован", name_kz="Таратылған"),
}
LAW_PRIVATE = RefName(code="PRIVATE", name_ru="Частная", name_kz="Жеке")
LAW_STATE = RefName(code="STATE", name_ru="Государственная", name_kz="Мемлекеттік")
SIZES = (
    RefName(code="SMALL", name_ru="Малое предприятие", name_kz="Шағын кәсіпорын"),
    RefName(code="MEDIUM", name_ru="Среднее предприятие", name_kz="Орта кәсіпорын"),
    RefName(code="LARGE", name_ru="Крупное предприятие", name_kz="Ірі кәсіпорын"),
)
TAX_ACTIVE = RefName(code="ACTIVE", name_ru="Действующий налогоплательщик", name_kz="Әрекет етуші салық төлеуші")
TAX_INACTIVE = RefName(code="INACTIVE", name_ru="Бездействующий налогоплательщик",
                       name_kz="Әрекетсіз салық төлеуші")


class _Gen:
    """Holds the random generator and the serial counters so every number is unique."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.bin_serial = 100
        self.iin_serial = 100
        self.used: set[str] = set(FIXED_BINS)

    def bin(self, year: int, month: int, type_code: int, attribute: int) -> str:
        while True:
            self.bin_serial += self.rnd.randint(1, 37)
            try:
                value = make_bin(year, month, type_code, attribute, self.bin_serial)
            except IdentifierError:
                continue
            if value not in self.used:
                self.used.add(value)
                return value

    def iin(self, birth: dt.date, sex: Literal["male", "female"]) -> str:
        while True:
            self.iin_serial += self.rnd.randint(1, 13)
            try:
                value = make_iin(birth, sex, self.iin_serial % 10000)
            except IdentifierError:
                continue
            if value not in self.used:
                self.used.add(value)
                return value

    def person(self) -> tuple[str, str, str, str]:
        """(iin, surname, name, middle name) of an adult."""
        sex: Literal["male", "female"] = self.rnd.choice(("male", "female"))
        birth = dt.date(self.rnd.randint(1955, 1995), self.rnd.randint(1, 12), self.rnd.randint(1, 28))
        father = self.rnd.choice(MALE)
        surname = self.rnd.choice(SURNAMES)
        if sex == "male":
            return self.iin(birth, sex), surname, self.rnd.choice(MALE), f"{father}ович"
        return self.iin(birth, sex), surname + "а", self.rnd.choice(FEMALE), f"{father}овна"

    def address(self, region: Region) -> AddressRecord:
        street_ru, street_kz = self.rnd.choice(STREETS)
        return AddressRecord(
            zip_code=region.zip_code, kato=region.kato, region_ru=region.ru, region_kz=region.kz,
            city_ru=region.city_ru, city_kz=region.city_kz, street_ru=street_ru, street_kz=street_kz,
            building=str(self.rnd.randint(1, 150)),
            office=str(self.rnd.randint(1, 40)) if self.rnd.random() < 0.4 else None,
        )

    def reg_date(self, year: int, month: int) -> dt.date:
        return dt.date(year, month, self.rnd.randint(1, 28))


def _activities(main: str, rnd: random.Random) -> tuple[ActivityRecord, ...]:
    extra = rnd.sample([c for c in OKED if c != main], k=rnd.randint(0, 2))
    return tuple(ActivityRecord(main=(code == main), oked=code, name_ru=OKED[code][0], name_kz=OKED[code][1])
                 for code in (main, *extra))


def _leader(g: _Gen, ru: str = "Директор", kz: str = "Директор") -> Leader:
    iin, surname, name, middle = g.person()
    return Leader(iin=iin, surname=surname, name=name, middle_name=middle, position_ru=ru, position_kz=kz)


def _department(region: Region) -> RefName:
    return RefName(code=region.code, name_ru=f"Департамент юстиции ({region.ru})",
                   name_kz=f"Әділет департаменті ({region.kz})")


def _names(form: Form, kind: tuple[str, str, str, str], brand: tuple[str, str, str],
           city: Region | None = None) -> dict[str, str]:
    kind_ru, kind_kz, kind_en, _ = kind
    brand_ru, brand_kz, brand_en = brand
    where_ru = f" города {city.city_ru}" if city else ""
    return {
        "full_name_ru": f'{form.full_ru} "{kind_ru} {brand_ru}"{where_ru}',
        "full_name_kz": f'"{brand_kz} {kind_kz}" {form.full_kz}',
        "full_name_en": f'"{brand_en} {kind_en}" {form.full_en}',
        "short_name_ru": f'{form.short_ru} "{kind_ru} {brand_ru}"',
        "short_name_kz": f'"{brand_kz} {kind_kz}" {form.short_kz}',
        "short_name_en": f'"{brand_en} {kind_en}" {form.short_en}',
    }


def _legal_entity(g: _Gen, form_key: str, status: str, bin_value: str | None = None,
                  region: Region | None = None) -> OrganisationRecord:
    rnd = g.rnd
    form = FORMS[form_key]
    region = region or rnd.choice(REGIONS)
    kind = rnd.choice(KINDS[:3] if form_key == "RGU" else KINDS)
    brand = rnd.choice(BRANDS)
    year, month = rnd.randint(1995, 2022), rnd.randint(1, 12)
    if bin_value is None:
        bin_value = g.bin(year, month, 4, 0)
    else:
        year, month = (2000 if int(bin_value[:2]) < 90 else 1900) + int(bin_value[:2]), int(bin_value[2:4])
    registered = g.reg_date(year, month)
    liquidation = None
    liquidation_date = None
    if status == "LIQUIDATED":
        liquidation_date = registered + dt.timedelta(days=rnd.randint(400, 4000))
        liquidation = LiquidationRecord(
            decision_date=liquidation_date - dt.timedelta(days=60),
            reason_ru="Решение участников (добровольная ликвидация)",
            reason_kz="Қатысушылардың шешімі (ерікті тарату)")
    legal_founders: tuple[LegalFounder, ...] = ()
    natural_founders: tuple[NaturalFounder, ...] = ()
    if form.state:
        legal_founders = (LegalFounder(bin=MINISTRY_BIN, name_ru="Министерство просвещения Республики Казахстан",
                                       name_kz="Қазақстан Республикасы Оқу-ағарту министрлігі"),)
    elif form_key in ("TOO", "CHU"):
        natural_founders = tuple(NaturalFounder(iin=p[0], surname=p[1], name=p[2], middle_name=p[3])
                                 for p in (g.person() for _ in range(rnd.randint(1, 3))))
    return OrganisationRecord(
        bin=bin_value, reg_status=STATUS[status], registration_department=_department(region),
        **_names(form, kind, brand),
        registration_date=registered,
        registration_last_date=registered + dt.timedelta(days=rnd.randint(0, 2500)) if rnd.random() < 0.5
        else None,
        liquidation_date=liquidation_date, org_form=RefName(code=form.code, name_ru=form.full_ru,
                                                            name_kz=form.full_kz),
        form_of_law=LAW_STATE if form.state else LAW_PRIVATE,
        private_enterprise_type=None if form.state else rnd.choice(SIZES),
        tax_org_status=TAX_INACTIVE if status != "REGISTERED" else TAX_ACTIVE,
        liquidation=liquidation,
        leader=_leader(g, "Ректор" if kind[3] == "85420" else "Директор",
                       "Ректор" if kind[3] == "85420" else "Директор"),
        activities=_activities(kind[3], rnd), address=g.address(region),
        auth_capital=None if form.state else Decimal(rnd.choice((100000, 500000, 1000000, 25000000))),
        legal_founders=legal_founders, natural_founders=natural_founders,
    )


def _branch(g: _Gen, parent: OrganisationRecord, status: str, bin_value: str | None = None) -> OrganisationRecord:
    rnd = g.rnd
    region = rnd.choice([r for r in REGIONS if r.kato != parent.address.kato])
    year = max(parent.registration_date.year + 1, 2000)
    month = rnd.randint(1, 12)
    bin_value = bin_value or g.bin(min(year + rnd.randint(0, 5), 2023), month, 4, 1)
    registered = g.reg_date((2000 if int(bin_value[:2]) < 90 else 1900) + int(bin_value[:2]), int(bin_value[2:4]))
    form = FORMS["FIL"]
    return OrganisationRecord(
        bin=bin_value, reg_status=STATUS[status], registration_department=_department(region),
        full_name_ru=f"Филиал {parent.short_name_ru} в городе {region.city_ru}",
        full_name_kz=f"{parent.short_name_kz} {region.city_kz} қаласындағы филиалы",
        full_name_en=f"{parent.short_name_en} branch in {region.city_ru}" if parent.short_name_en else None,
        short_name_ru=f"Филиал {parent.short_name_ru} ({region.city_ru})",
        short_name_kz=f"{parent.short_name_kz} филиалы ({region.city_kz})",
        short_name_en=f"{parent.short_name_en} branch ({region.city_ru})" if parent.short_name_en else None,
        registration_date=registered, org_form=RefName(code=form.code, name_ru=form.full_ru, name_kz=form.full_kz),
        form_of_law=parent.form_of_law, tax_org_status=TAX_ACTIVE if status == "REGISTERED" else TAX_INACTIVE,
        parent_bin=parent.bin,
        leader=_leader(g, "Директор филиала", "Филиал директоры"),
        activities=parent.activities, address=g.address(region),
        legal_founders=(LegalFounder(bin=parent.bin, name_ru=parent.short_name_ru, name_kz=parent.short_name_kz),),
    )


def _sole_proprietor(g: _Gen, status: str, under_iin: bool) -> OrganisationRecord:
    rnd = g.rnd
    region = rnd.choice(REGIONS)
    iin, surname, name, middle = g.person()
    year, month = rnd.randint(2005, 2012), rnd.randint(1, 12)
    registered = g.reg_date(2013 + rnd.randint(0, 10), month) if under_iin else g.reg_date(year, month)
    number = iin if under_iin else g.bin(year, month, 6, 0)
    oked = rnd.choice(("85590", "85600", "85510", "85520", "85530", "85100"))
    label = OKED[oked][0]
    form = FORMS["IP"]
    fio = f"{surname} {name} {middle}"
    return OrganisationRecord(
        bin=number, reg_status=STATUS[status],
        registration_department=RefName(code=region.code, name_ru=f"УГД ({region.ru})",
                                        name_kz=f"МКБ ({region.kz})"),
        full_name_ru=f"{form.full_ru} {fio}", full_name_kz=f"{form.full_kz} {fio}",
        full_name_en=None, short_name_ru=f'ИП "{surname} {name[0]}."', short_name_kz=f'ЖК "{surname} {name[0]}."',
        registration_date=registered,
        org_form=RefName(code=form.code, name_ru=form.full_ru, name_kz=form.full_kz),
        form_of_law=LAW_PRIVATE, private_enterprise_type=SIZES[0],
        tax_org_status=TAX_ACTIVE if status == "REGISTERED" else TAX_INACTIVE,
        liquidation_date=registered + dt.timedelta(days=900) if status == "LIQUIDATED" else None,
        liquidation=LiquidationRecord(decision_date=registered + dt.timedelta(days=890),
                                      reason_ru="Прекращение деятельности ИП по заявлению",
                                      reason_kz="ЖК қызметін өтініш бойынша тоқтату")
        if status == "LIQUIDATED" else None,
        leader=Leader(iin=iin, surname=surname, name=name, middle_name=middle,
                      position_ru="Индивидуальный предприниматель", position_kz="Жеке кәсіпкер"),
        activities=(ActivityRecord(main=True, oked=oked, name_ru=label, name_kz=OKED[oked][1]),),
        address=g.address(region),
    )


def _committee(g: _Gen) -> OrganisationRecord:
    """The licensor itself (the requestor of every look-up), under the first public example BIN."""
    region = REGIONS[0]
    return OrganisationRecord(
        bin=FIXED_BINS[0], reg_status=STATUS["REGISTERED"], registration_department=_department(region),
        full_name_ru="Республиканское государственное учреждение \"Комитет по контролю в сфере образования и "
                     "науки Министерства образования и науки Республики Казахстан\"",
        full_name_kz="\"Қазақстан Республикасы Білім және ғылым министрлігінің Білім және ғылым саласындағы "
                     "бақылау комитеті\" республикалық мемлекеттік мекемесі",
        full_name_en="Republican State Institution \"Committee for Control in Education and Science of the "
                     "Ministry of Education and Science of the Republic of Kazakhstan\"",
        short_name_ru="РГУ \"Комитет по контролю в сфере образования и науки МОН РК\"",
        short_name_kz="\"ҚР БҒМ Білім және ғылым саласындағы бақылау комитеті\" РММ",
        short_name_en="Committee for Control in Education and Science (MES RK)",
        registration_date=dt.date(1994, 1, 12),
        org_form=RefName(code="RGU", name_ru=FORMS["RGU"].full_ru, name_kz=FORMS["RGU"].full_kz),
        form_of_law=LAW_STATE, tax_org_status=TAX_ACTIVE,
        leader=_leader(g, "Председатель", "Төраға"),
        activities=(ActivityRecord(main=True, oked="84110", name_ru="Деятельность органов государственного "
                                   "управления общего характера", name_kz="Жалпы сипаттағы мемлекеттік "
                                   "басқару органдарының қызметі"),
                    ActivityRecord(main=False, oked="85600", name_ru=OKED["85600"][0], name_kz=OKED["85600"][1])),
        address=AddressRecord(zip_code=region.zip_code, kato=region.kato, region_ru=region.ru, region_kz=region.kz,
                              city_ru=region.city_ru, city_kz=region.city_kz, street_ru="ул. Мәңгілік Ел",
                              street_kz="Мәңгілік Ел даңғ.", building="8", office="14"),
        legal_founders=(LegalFounder(bin=MINISTRY_BIN, name_ru="Министерство образования и науки Республики "
                                     "Казахстан", name_kz="Қазақстан Республикасы Білім және ғылым министрлігі"),),
    )


def generate(seed: int = SEED) -> FixturesFile:
    """Build the whole register deterministically from ``seed``."""
    g = _Gen(seed)
    university = _legal_entity(g, "AO", "REGISTERED", bin_value=g.bin(1993, 6, 4, 0), region=REGIONS[1])
    orgs: list[OrganisationRecord] = [_committee(g), university,
                                      _branch(g, university, "REGISTERED", bin_value=FIXED_BINS[1])]
    plan = (
        [("TOO", "REGISTERED")] * 14 + [("TOO", "LIQUIDATED")] * 3 + [("TOO", "INACTIVE")] * 2
        + [("AO", "REGISTERED")] * 4 + [("AO", "LIQUIDATED")]
        + [("RGU", "REGISTERED")] * 4 + [("GKKP", "REGISTERED")] * 8 + [("GKKP", "INACTIVE")]
        + [("CHU", "REGISTERED")] * 5 + [("CHU", "LIQUIDATED")]
    )
    for i, (form_key, status) in enumerate(plan):
        orgs.append(_legal_entity(g, form_key, status, region=REGIONS[i % len(REGIONS)]))
    heads = [o for o in orgs if o.parent_bin is None and o.reg_status.code == "REGISTERED"
             and o.org_form.code in ("TOO", "AO", "CHU")]
    for i, parent in enumerate(heads[:6]):
        orgs.append(_branch(g, parent, "LIQUIDATED" if i == 5 else "REGISTERED"))
    for i in range(9):
        status = "LIQUIDATED" if i == 7 else "INACTIVE" if i == 8 else "REGISTERED"
        orgs.append(_sole_proprietor(g, status, under_iin=i % 3 != 2))
    return FixturesFile(seed=seed, organisations=tuple(orgs))


def dump(fixtures: FixturesFile) -> str:
    return json.dumps(fixtures.model_dump(mode="json", exclude_none=True), ensure_ascii=False, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    fixtures = generate()
    path.write_text(dump(fixtures), encoding="utf-8")
    print(f"wrote {len(fixtures.organisations)} organisations to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
