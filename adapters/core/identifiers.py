"""IIN and BIN: Kazakhstan's 12-digit individual and business identification numbers.

Both end with a check digit computed with the two-pass rule: weights 1..11 over the first eleven
digits, sum mod 11; if that gives 10, weights 3,4,5,6,7,8,9,10,11,1,2; if 10 again the number
cannot exist.

IIN: YYMMDD, a century/sex digit (1/2: 1800s, 3/4: 1900s, 5/6: 2000s; odd male, even female),
four serial digits, the check digit.
BIN: YYMM of registration, a type digit (4 resident legal entity, 5 non-resident legal entity,
6 sole proprietor / joint venture), an attribute digit (0 head office, 1 branch, 2 representative
office, 3 peasant farm), five serial digits, the check digit.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from adapters.core.errors import IdentifierError

_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}

BIN_TYPES = {
    4: "resident legal entity",
    5: "non-resident legal entity",
    6: "sole proprietor (joint business)",
}
BIN_ATTRIBUTES = {
    0: "head office",
    1: "branch",
    2: "representative office",
    3: "peasant (farm) enterprise",
}


class IinInfo(BaseModel):
    """What an IIN encodes."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["IIN"] = "IIN"
    value: str
    birth_date: dt.date
    sex: Literal["male", "female"]
    century: int


class BinInfo(BaseModel):
    """What a BIN encodes."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["BIN"] = "BIN"
    value: str
    year: int
    month: int
    type_code: int
    type_name: str
    attribute_code: int
    attribute_name: str


def compute_check_digit(first_eleven: str) -> int | None:
    """The check digit for eleven digits, or None when no valid check digit exists."""
    digits = [int(c) for c in first_eleven]
    c = sum(w * d for w, d in zip(_WEIGHTS_1, digits, strict=True)) % 11
    if c == 10:
        c = sum(w * d for w, d in zip(_WEIGHTS_2, digits, strict=True)) % 11
        if c == 10:
            return None
    return c


def _check_shape(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise IdentifierError(field, "must be a string of 12 digits", value=value)
    if len(value) != 12:
        raise IdentifierError(field, f"must have 12 digits, has {len(value)}", value=value)
    if not value.isascii() or not value.isdigit():
        raise IdentifierError(field, "must contain digits only", value=value)
    expected = compute_check_digit(value[:11])
    if expected is None:
        raise IdentifierError(field, "no valid check digit exists for the first eleven digits", value=value)
    if int(value[11]) != expected:
        raise IdentifierError(field, f"check digit is {value[11]}, expected {expected}", value=value)
    return value


def parse_iin(value: str, field: str = "iin") -> IinInfo:
    """Validate an IIN and return what it encodes; :class:`IdentifierError` names the reason."""
    value = _check_shape(value, field)
    code = int(value[6])
    if code not in _CENTURY:
        raise IdentifierError(field, f"7th digit (century and sex) must be 1-6, is {code}", value=value)
    year = _CENTURY[code] + int(value[0:2])
    try:
        birth = dt.date(year, int(value[2:4]), int(value[4:6]))
    except ValueError as exc:
        raise IdentifierError(field, f"digits 1-6 are not a valid birth date ({exc})", value=value) from exc
    return IinInfo(value=value, birth_date=birth, sex="male" if code % 2 else "female", century=_CENTURY[code])


def parse_bin(value: str, field: str = "bin") -> BinInfo:
    """Validate a BIN and return what it encodes; :class:`IdentifierError` names the reason."""
    value = _check_shape(value, field)
    month = int(value[2:4])
    if not 1 <= month <= 12:
        raise IdentifierError(field, f"digits 3-4 (registration month) must be 01-12, are {value[2:4]}",
                              value=value)
    type_code, attribute = int(value[4]), int(value[5])
    if type_code not in BIN_TYPES:
        raise IdentifierError(field, f"5th digit (type) must be 4, 5 or 6, is {type_code}", value=value)
    if attribute not in BIN_ATTRIBUTES:
        raise IdentifierError(field, f"6th digit (attribute) must be 0-3, is {attribute}", value=value)
    yy = int(value[0:2])
    return BinInfo(value=value, year=(2000 if yy < 90 else 1900) + yy, month=month, type_code=type_code,
                   type_name=BIN_TYPES[type_code], attribute_code=attribute,
                   attribute_name=BIN_ATTRIBUTES[attribute])


def parse_identifier(value: str, field: str = "number") -> IinInfo | BinInfo:
    """An IIN or a BIN, told apart by the 5th digit (a BIN's type digit is 4-6; an IIN's is a day digit 0-3)."""
    _check_shape(value, field)
    if value[4] in "456":
        return parse_bin(value, field)
    return parse_iin(value, field)


def _with_check(first_eleven: str, field: str) -> str:
    check = compute_check_digit(first_eleven)
    if check is None:
        raise IdentifierError(field, "this serial has no valid check digit; use the next serial",
                              value=first_eleven)
    return first_eleven + str(check)


def make_iin(birth_date: dt.date, sex: Literal["male", "female"], serial: int) -> str:
    """Build a valid IIN (for seed data and tests)."""
    base = {1800: 1, 1900: 3, 2000: 5}.get(birth_date.year // 100 * 100)
    if base is None:
        raise IdentifierError("birth_date", "must be in the 1800s, 1900s or 2000s", value=birth_date)
    if not 0 <= serial <= 9999:
        raise IdentifierError("serial", "must be 0-9999", value=serial)
    code = base if sex == "male" else base + 1
    return _with_check(f"{birth_date:%y%m%d}{code}{serial:04d}", "serial")


def make_bin(year: int, month: int, type_code: int, attribute_code: int, serial: int) -> str:
    """Build a valid BIN (for seed data and tests)."""
    if type_code not in BIN_TYPES:
        raise IdentifierError("type_code", "must be 4, 5 or 6", value=type_code)
    if attribute_code not in BIN_ATTRIBUTES:
        raise IdentifierError("attribute_code", "must be 0-3", value=attribute_code)
    if not 1 <= month <= 12:
        raise IdentifierError("month", "must be 1-12", value=month)
    if not 0 <= serial <= 99999:
        raise IdentifierError("serial", "must be 0-99999", value=serial)
    return _with_check(f"{year % 100:02d}{month:02d}{type_code}{attribute_code}{serial:05d}", "serial")
