import datetime as dt

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from adapters.core.errors import IdentifierError
from adapters.core.identifiers import (
    compute_check_digit,
    make_bin,
    make_iin,
    parse_bin,
    parse_identifier,
    parse_iin,
)
from cli.main import cli


@pytest.mark.parametrize("iin,birth,sex", [
    ("871008401427", dt.date(1987, 10, 8), "female"),
    ("760212350620", dt.date(1976, 2, 12), "male"),
])
def test_known_valid_iins(iin: str, birth: dt.date, sex: str) -> None:
    info = parse_iin(iin)
    assert info.birth_date == birth
    assert info.sex == sex


@pytest.mark.parametrize("bin_,type_code,attr", [("940140000385", 4, 0), ("950341000052", 4, 1)])
def test_known_valid_bins(bin_: str, type_code: int, attr: int) -> None:
    info = parse_bin(bin_)
    assert (info.type_code, info.attribute_code) == (type_code, attr)


def test_second_pass_weights_are_used() -> None:
    # find eleven digits whose first pass gives 10 and check the second-pass result
    for n in range(10_000_000_000, 10_000_100_000):
        s = str(n)
        first = sum(w * int(d) for w, d in zip(range(1, 12), s, strict=False)) % 11
        if first == 10:
            second = sum(w * int(d) for w, d in zip((3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), s, strict=False)) % 11
            assert compute_check_digit(s) == (None if second == 10 else second)
            break
    else:
        pytest.fail("no first-pass-10 example found")


def _with_check(prefix: str) -> str:
    """Complete a prefix to eleven digits with a valid check digit (for crafting bad numbers)."""
    for serial in range(1000):
        eleven = (prefix + f"{serial:03d}")[:11].ljust(11, "0")
        check = compute_check_digit(eleven)
        if check is not None:
            return eleven + str(check)
    raise AssertionError(prefix)


@pytest.mark.parametrize("value,field_reason", [
    ("87100840142", "12 digits"),
    ("87100840142a", "digits only"),
    ("871008401428", "check digit is 8, expected 7"),
    (_with_check("8713084"), "birth date"),
    (_with_check("8710089"), "century"),
])
def test_invalid_iins_name_field_and_reason(value: str, field_reason: str) -> None:
    with pytest.raises(IdentifierError) as err:
        parse_iin(value, "applicant.iin")
    assert err.value.field == "applicant.iin"
    assert field_reason in str(err.value)


def test_invalid_bin_type_and_attribute() -> None:
    good = make_bin(2012, 5, 4, 0, 123)
    assert parse_bin(good).month == 5
    with pytest.raises(IdentifierError, match="month"):
        parse_bin(_with_check("121340"))
    with pytest.raises(IdentifierError, match="type"):
        parse_bin(_with_check("120570"))
    with pytest.raises(IdentifierError, match="attribute"):
        parse_bin(_with_check("120547"))


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)),
       st.sampled_from(["male", "female"]), st.integers(0, 9999))
def test_make_iin_round_trip(birth: dt.date, sex: str, serial: int) -> None:
    try:
        iin = make_iin(birth, sex, serial)  # type: ignore[arg-type]
    except IdentifierError:
        return  # this serial has no check digit; generators move to the next one
    info = parse_iin(iin)
    assert (info.birth_date, info.sex) == (birth, sex)


@given(st.integers(0, 11), st.integers(1990, 2030), st.integers(1, 12),
       st.sampled_from([4, 5, 6]), st.integers(0, 3), st.integers(0, 99999))
def test_make_bin_round_trip(_: int, year: int, month: int, t: int, a: int, serial: int) -> None:
    try:
        value = make_bin(year, month, t, a, serial)
    except IdentifierError:
        return
    info = parse_identifier(value)
    assert info.kind == "BIN"
    assert (info.month, info.type_code, info.attribute_code) == (month, t, a)


def test_cli_id_check() -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["id", "check", "871008401427"])
    assert ok.exit_code == 0, ok.output
    assert "1987-10-08" in ok.output and "female" in ok.output
    ok = runner.invoke(cli, ["id", "check", "950341000052"])
    assert ok.exit_code == 0 and "branch" in ok.output
    bad = runner.invoke(cli, ["id", "check", "871008401428"])
    assert bad.exit_code != 0
    assert "check digit" in bad.output
