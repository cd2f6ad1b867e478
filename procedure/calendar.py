"""Working days in Kazakhstan and the 30-working-day review deadline.

The memo: the review period (30 working days) is counted from the date the application is
**registered by the state body's office**, not from the date it was sent. As in Kazakhstan's
Civil Code (a period runs from the day after the event), the registration day itself is not
counted: the deadline is the 30th working day after it.

A day is a working day unless it is a public holiday or a weekend; holidays come from the
``holidays`` library (``country_holidays("KZ")``), which also knows the days off transferred by
government decree ("Day off (substituted from ...)") and the Saturdays worked in exchange
(``weekend_workdays``), which count as working days here.

The registration day (:func:`registration_day`): an application received on a working day within
the office's hours is registered that day; one received after the office closes, or on a day off,
on the next working day (the office registers it when it opens). The hours are a setting
(``EGOV_OFFICE_HOURS``, default 09:00-18:30, an assumption: the seeds give none).

An undecided application is overdue from the day after its deadline: the flow store's search
filter (``FlowStore.overdue_flows``) finds them, and the workers' metric
``egov_applications_by_deadline{state="past"}`` counts them.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

import holidays

from adapters.core.errors import ValidationError

DEFAULT_TIMEZONE = "Asia/Almaty"
REVIEW_WORKING_DAYS = 30
DEFAULT_OFFICE_HOURS = "09:00-18:30"


@functools.lru_cache(maxsize=64)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("KZ", years=year)


def holiday_name(day: dt.date) -> str | None:
    """The public holiday (or transferred day off) on ``day``, if any."""
    name = _holidays(day.year).get(day)
    return None if name is None else str(name)


def is_working_day(day: dt.date) -> bool:
    if holiday_name(day) is not None:
        return False
    if day in _holidays(day.year).weekend_workdays:
        return True
    return day.weekday() < 5


def _as_date(value: dt.date | dt.datetime, tz: str) -> dt.date:
    """A datetime is read in the state body's time zone (aware) or taken as local (naive)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(zoneinfo.ZoneInfo(tz))
        return value.date()
    return value


def review_deadline(registered: dt.date | dt.datetime, working_days: int = REVIEW_WORKING_DAYS, *,
                    tz: str = DEFAULT_TIMEZONE) -> dt.date:
    """The last day of the review: the ``working_days``-th working day after registration."""
    if working_days < 1:
        raise ValidationError("working_days", "must be at least 1", value=working_days)
    day = _as_date(registered, tz)
    counted = 0
    while counted < working_days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def office_hours(text: str = DEFAULT_OFFICE_HOURS) -> tuple[dt.time, dt.time]:
    """``"HH:MM-HH:MM"`` as (opens, closes); a ValidationError naming the setting when malformed."""
    try:
        opens, closes = (dt.time.fromisoformat(part) for part in text.split("-"))
    except ValueError as exc:
        raise ValidationError("office_hours", "give the office's hours as HH:MM-HH:MM", value=text) from exc
    if opens >= closes:
        raise ValidationError("office_hours", "the office opens before it closes", value=text)
    return opens, closes


def registration_day(received: dt.datetime, *, hours: str = DEFAULT_OFFICE_HOURS,
                     tz: str = DEFAULT_TIMEZONE) -> dt.date:
    """The day the office registers an application received at ``received``: that day when it is a
    working day and the office has not closed yet, else the next working day. A naive ``received``
    is local time."""
    _, closes = office_hours(hours)
    local = received.astimezone(zoneinfo.ZoneInfo(tz)) if received.tzinfo is not None else received
    day = local.date()
    if is_working_day(day) and local.time() < closes:
        return day
    day += dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def working_days_between(start: dt.date | dt.datetime, end: dt.date | dt.datetime, *,
                         tz: str = DEFAULT_TIMEZONE) -> int:
    """Working days in the half-open interval (start, end]; negative if ``end`` is before ``start``.

    So ``working_days_between(r, review_deadline(r, n)) == n``, and the review is late when
    ``working_days_between(registered, today) > 30``.
    """
    a, b = _as_date(start, tz), _as_date(end, tz)
    sign = 1
    if b < a:
        a, b, sign = b, a, -1
    count = 0
    day = a
    while day < b:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return sign * count
