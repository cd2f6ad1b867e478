"""The desk's deadlines: 30 working days from registration (Kazakhstan's holidays skipped), overdue
marked only while the application is undecided."""

from __future__ import annotations

import datetime as dt

from simulators.portal.desk import review_state

REGISTERED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # Monday; Nauryz (21-23 March) falls in the count


def test_the_deadline_counts_working_days_and_marks_overdue_while_undecided() -> None:
    deadline, overdue = review_state(REGISTERED, "SENT", dt.date(2026, 3, 3))
    assert deadline > REGISTERED.date() + dt.timedelta(days=42)  # 30 working days plus weekends and Nauryz
    assert not overdue
    assert review_state(REGISTERED, "IN_PROGRESS", deadline) == (deadline, False)
    assert review_state(REGISTERED, "IN_PROGRESS", deadline + dt.timedelta(days=1)) == (deadline, True)
    assert review_state(REGISTERED, "ISSUED", deadline + dt.timedelta(days=30)) == (deadline, False)
