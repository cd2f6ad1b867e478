"""The 30-working-day review deadline: weekends, public holidays, transferred days off; the
registration day of an application received after hours or on a day off."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.core.errors import ValidationError
from procedure.calendar import (
    holiday_name,
    is_working_day,
    office_hours,
    registration_day,
    review_deadline,
    working_days_between,
)

D = dt.date


def test_deadline_over_nauryz() -> None:
    # Registered Fri 1 March 2013. Holidays: 8 March, Nauryz 21–23 March (23 is a Saturday,
    # moved to Mon 25 March). Counting by hand: March 4–7 (4), 11–15 (9), 18–20 (12), 26–29 (16),
    # April 1–5 (21), 8–12 (26), 15–18 (30).
    assert review_deadline(D(2013, 3, 1)) == D(2013, 4, 18)
    # Weekends alone would give 12 April: the four holidays push it by four working days.
    for day in (D(2013, 3, 8), D(2013, 3, 21), D(2013, 3, 22), D(2013, 3, 25)):
        assert not is_working_day(day), day
        assert holiday_name(day) is not None


def test_deadline_over_independence_day_and_transferred_days() -> None:
    # Registered Mon 2 Dec 2013. 16–17 Dec: Independence Day. Sat 28 Dec 2013 was a working day
    # in exchange for Fri 3 Jan 2014 (a transferred day off). 1–2 and 7 January: holidays.
    assert is_working_day(D(2013, 12, 28))
    assert not is_working_day(D(2014, 1, 3))
    assert not is_working_day(D(2013, 12, 16)) and not is_working_day(D(2013, 12, 17))
    # Dec 3–6 (4), 9–13 (9), 18–20 (12), 23–27 (17), 28 Sat (18), 30–31 (20), Jan 6 (21),
    # 8–10 (24), 13–17 (29), 20 (30).
    assert review_deadline(D(2013, 12, 2)) == D(2014, 1, 20)


def test_independence_day_2012_and_its_observed_day() -> None:
    # 16 Dec 2012 was a Sunday: 16 and 17 December, plus Tuesday 18 as the observed day.
    assert [is_working_day(D(2012, 12, d)) for d in range(14, 20)] == [True, False, False, False, False, True]
    # registered Fri 14 Dec 2012: first working day after it is Wed 19 Dec
    assert review_deadline(D(2012, 12, 14), working_days=1) == D(2012, 12, 19)


def test_weekends_are_skipped() -> None:
    assert review_deadline(D(2024, 2, 2), working_days=1) == D(2024, 2, 5)       # Fri → Mon
    assert review_deadline(D(2024, 2, 3), working_days=5) == D(2024, 2, 9)       # Sat → Mon..Fri
    assert not is_working_day(D(2024, 2, 3)) and not is_working_day(D(2024, 2, 4))


def test_registration_day_itself_is_not_counted() -> None:
    assert review_deadline(D(2024, 2, 5), working_days=1) == D(2024, 2, 6)


def test_datetime_is_read_in_the_state_bodys_time_zone() -> None:
    # 19 March 2013 20:00 UTC is already 20 March in Almaty (UTC+6 then); the next working day
    # after 20 March is 26 March (21–22 holidays, weekend, 25 observed).
    aware = dt.datetime(2013, 3, 19, 20, 0, tzinfo=dt.UTC)
    assert review_deadline(aware, working_days=1) == D(2013, 3, 26)
    naive = dt.datetime(2013, 3, 19, 20, 0)                      # taken as local: 19 March
    assert review_deadline(naive, working_days=1) == D(2013, 3, 20)


def test_working_days_between() -> None:
    assert working_days_between(D(2013, 3, 1), D(2013, 4, 18)) == 30
    assert working_days_between(D(2013, 4, 18), D(2013, 3, 1)) == -30
    assert working_days_between(D(2024, 2, 5), D(2024, 2, 5)) == 0
    assert working_days_between(D(2024, 2, 2), D(2024, 2, 4)) == 0                # weekend only


def test_working_days_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="working_days: must be at least 1"):
        review_deadline(D(2024, 1, 10), working_days=0)


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=D(2012, 1, 1), max_value=D(2026, 6, 30)), st.integers(min_value=1, max_value=45))
def test_deadline_and_count_agree(registered: dt.date, n: int) -> None:
    deadline = review_deadline(registered, working_days=n)
    assert is_working_day(deadline)
    assert working_days_between(registered, deadline) == n
    assert working_days_between(registered, deadline - dt.timedelta(days=1)) == n - 1


# --------------------------------------------------------------------------- registration day (memo, step 3)

ALMATY = zoneinfo.ZoneInfo("Asia/Almaty")


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=ALMATY)


def test_within_office_hours_the_application_is_registered_the_same_day() -> None:
    assert registration_day(at(2024, 2, 7, 11, 30)) == D(2024, 2, 7)
    assert registration_day(at(2024, 2, 7, 7, 45)) == D(2024, 2, 7)   # before opening: registered when it opens
    assert registration_day(at(2024, 2, 7, 18, 29)) == D(2024, 2, 7)


def test_friday_evening_is_registered_on_monday() -> None:
    friday_evening = at(2024, 2, 9, 19, 5)
    assert registration_day(friday_evening) == D(2024, 2, 12)
    assert registration_day(at(2024, 2, 10, 12)) == D(2024, 2, 12)      # Saturday
    # the 30 working days run from Monday's registration, not from Friday's sending
    assert review_deadline(registration_day(friday_evening)) == review_deadline(D(2024, 2, 12))
    assert review_deadline(registration_day(friday_evening)) != review_deadline(friday_evening)
    # UTC time of the same evening reads the same
    assert registration_day(friday_evening.astimezone(dt.UTC)) == D(2024, 2, 12)


def test_evening_before_a_public_holiday_is_registered_after_it() -> None:
    # Thu 7 March 2024 evening; Fri 8 March is International Women's Day, then the weekend
    assert not is_working_day(D(2024, 3, 8))
    assert registration_day(at(2024, 3, 7, 20)) == D(2024, 3, 11)
    # Nauryz 2024: 21-23 March (Thu-Sat), Saturday's day off moved to Mon 25: Wed 20 March after hours → Tue 26
    assert holiday_name(D(2024, 3, 25)) is not None
    assert registration_day(at(2024, 3, 20, 18, 31)) == D(2024, 3, 26)
    # on the holiday itself, during what would be office hours
    assert registration_day(at(2024, 3, 8, 11)) == D(2024, 3, 11)


def test_office_hours_are_a_setting() -> None:
    assert registration_day(at(2024, 2, 7, 17, 30), hours="09:00-17:00") == D(2024, 2, 8)
    for bad in ("9-18", "18:00-09:00"):
        with pytest.raises(ValidationError, match="office_hours"):
            office_hours(bad)
