"""Records of the E-licensing simulator (what the backend returns and the fronts render), the
backend's configuration, and the vocabulary of statuses and application types.

Records are frozen values; ``from_row`` builds one from its stored row (SQLite gives naive
datetimes back: every datetime is stored in UTC and returned timezone-aware).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import RowMapping

SURVEY_ANSWERS = ("NOT_SATISFIED", "PARTLY_SATISFIED", "SATISFIED")


@dataclass(frozen=True)
class FeeSchedule:
    """State fee per application type, KZT (simulator defaults; the licence fee is 10 MCI of 2012)."""

    issue: Decimal = Decimal("16180.00")
    """Licence: 10 x 1,618 KZT (the seed's example)."""
    reissue: Decimal = Decimal("1618.00")
    """Re-issue: 10 % of the licence fee."""
    duplicate: Decimal = Decimal("1618.00")
    """Duplicate: 10 % of the licence fee."""
    appendix: Decimal = Decimal("1618.00")
    """Appendix: 10 % of the licence fee."""

    def for_type(self, app_type: str) -> Decimal:
        return {"ISSUE": self.issue, "REISSUE": self.reissue, "DUPLICATE": self.duplicate,
                "APPENDIX": self.appendix}[app_type]


@dataclass(frozen=True)
class BackendConfig:
    """Behaviour of the simulated E-licensing system."""

    recipient_id: str = "MINISTRY_EDU"
    """Gateway id of the ministry's system that receives status notifications."""
    session_ttl: dt.timedelta = dt.timedelta(minutes=30)
    """Lifetime of a portal or employee session."""
    challenge_ttl: dt.timedelta = dt.timedelta(minutes=2)
    """Lifetime of an AuthChallenge (GetChallenge): the applicant signs it and sends it back within it."""
    challenge_capacity: int = 10_000
    """Most outstanding challenges kept; the oldest is dropped first (a GetChallenge flood is bounded)."""
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    """Condition 2: amount that must have been paid per application type."""
    default_employee_password: str = "employee-pass"
    """Password of the one seeded employee per licensor (login ``<licensor code lower>.officer``)."""
    document_base_url: str = ""
    """Prefix of ``DocumentUrl`` in search results (the simulator's URL, set when it starts)."""


@dataclass(frozen=True)
class Session:
    token: str
    kind: str  # applicant | employee
    subject: str
    name: str
    licensor_code: str | None
    expires_at: dt.datetime


@dataclass(frozen=True)
class Attachment:
    id: str
    file_name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Application:
    """An application as the front renders it (application information)."""

    number: str
    channel: str
    app_type: str
    service_code: str
    target_licence: str | None
    data: dict[str, Any]
    territory_code: str
    licensor_code: str
    submitted_at: dt.datetime
    registered_at: dt.datetime
    status: str
    licence_number: str | None
    licence_document: bytes | None
    refusal_document: bytes | None
    history: tuple[tuple[str, dt.datetime, str | None], ...]

    @classmethod
    def from_row(cls, row: RowMapping, history: Iterable[RowMapping]) -> Application:
        """The application of its stored row and its status history rows (oldest first)."""
        return cls(
            number=row["number"], channel=row["channel"], app_type=row["app_type"],
            service_code=row["service_code"], target_licence=row["target_licence"], data=json.loads(row["data"]),
            territory_code=row["territory_code"], licensor_code=row["licensor_code"],
            submitted_at=utc(row["submitted_at"]), registered_at=utc(row["registered_at"]),
            status=row["status"], licence_number=row["licence_number"],
            licence_document=row["licence_document"], refusal_document=row["refusal_document"],
            history=tuple((h["status"], utc(h["changed_at"]), h["comment"]) for h in history))


@dataclass(frozen=True)
class Licence:
    number: str
    global_unique_number: str
    iin_bin: str
    licensee_name: str
    licensor_code: str
    service_code: str
    activity_code: str
    issue_date: dt.date
    validity_end: dt.date | None
    status: str
    kind: str
    duplicate_date: dt.date | None
    document: bytes
    application_number: str
    data: dict[str, Any]

    @classmethod
    def from_row(cls, row: RowMapping) -> Licence:
        """The licence of its stored row."""
        end = utc_or_none(row["validity_end"])
        dup = utc_or_none(row["duplicate_date"])
        return cls(number=row["number"], global_unique_number=row["global_unique_number"],
                   iin_bin=row["iin_bin"], licensee_name=row["licensee_name"],
                   licensor_code=row["licensor_code"], service_code=row["service_code"],
                   activity_code=row["activity_code"], issue_date=utc(row["issue_date"]).date(),
                   validity_end=end.date() if end else None, status=row["status"], kind=row["kind"],
                   duplicate_date=dup.date() if dup else None, document=bytes(row["document"]),
                   application_number=row["application_number"], data=json.loads(row["data"]))


@dataclass(frozen=True)
class SearchCriteria:
    iin_bin: str | None = None
    number: str | None = None
    issue_date: dt.date | None = None
    activity_codes: tuple[str, ...] = ()
    licensor_code: str | None = None
    name: str | None = None
    page_index: int = 0
    page_size: int = 20


@dataclass(frozen=True)
class Indicator:
    service_code: str
    licensor_code: str
    question: str
    answers: int
    satisfied: int
    partly: int
    not_satisfied: int

    def share(self, count: int) -> Decimal:
        if not self.answers:
            return Decimal("0.0000")
        return (Decimal(count) / Decimal(self.answers)).quantize(Decimal("0.0001"))


def utc_or_none(value: dt.datetime | None) -> dt.datetime | None:
    """A stored datetime, timezone-aware in UTC (None stays None)."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utc(value: dt.datetime) -> dt.datetime:
    """A stored (never absent) datetime, timezone-aware in UTC."""
    out = utc_or_none(value)
    assert out is not None
    return out
