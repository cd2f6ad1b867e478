"""SQL statements of the E-licensing backend (SQLAlchemy Core over ``tables``).

The statements every request or status change runs are built once, here: building them per call
(coercions, cache keys) costs more than running many of them. Bound parameters are named ``b_*`` so
that they never collide with the column names an UPDATE's SET or an INSERT's VALUES takes from the
parameters given with the statement. Statements whose shape depends on the request (search, lists,
indicators) are built by the functions at the end.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select

from simulators.elicense import tables as T
from simulators.elicense.models import SearchCriteria, Session

# --------------------------------------------------------------------------- accounts and sessions

ACCOUNT_BY_KIND_SUBJECT = select(T.accounts).where(
    and_(T.accounts.c.kind == bindparam("b_kind"), T.accounts.c.subject == bindparam("b_subject")))
INSERT_ACCOUNT = T.accounts.insert()
PROFILE_OF = select(T.profiles.c.email, T.profiles.c.phone).where(T.profiles.c.subject == bindparam("b_subject"))
INSERT_PROFILE = T.profiles.insert()
UPDATE_ACCOUNT = T.accounts.update().where(
    and_(T.accounts.c.kind == bindparam("b_kind"), T.accounts.c.subject == bindparam("b_subject")))
"""SET clause from the parameters given with it (column names), plus ``b_kind`` and ``b_subject``."""
DELETE_EMPLOYEE = T.accounts.delete().where(
    and_(T.accounts.c.kind == "employee", T.accounts.c.subject == bindparam("b_login")))
SESSION_BY_TOKEN = select(T.sessions, T.accounts).join(
    T.accounts, T.accounts.c.id == T.sessions.c.account_id).where(T.sessions.c.token == bindparam("b_token"))
INSERT_SESSION = T.sessions.insert()
DELETE_SESSIONS_OF_ACCOUNT = T.sessions.delete().where(T.sessions.c.account_id == bindparam("b_account"))

# --------------------------------------------------------------------------- attachments

_A = T.attachments.c
UNATTACHED_UPLOAD = (select(_A.id).where(and_(
    _A.owner == bindparam("b_owner"), _A.file_name == bindparam("b_file_name"),
    _A.sha256 == bindparam("b_sha256"), _A.size == bindparam("b_size"), _A.application_number.is_(None)))
    .order_by(_A.uploaded_at))
"""The owner's upload of this exact file not yet taken by an application (the oldest first)."""
INSERT_ATTACHMENT = T.attachments.insert()
ATTACHMENT_CONTENT = select(_A.content).where(_A.id == bindparam("b_id"))
ATTACHMENT_OF_APPLICATION = select(_A.id, _A.sha256, _A.size, _A.content).where(and_(
    _A.application_number == bindparam("b_number"), _A.file_name == bindparam("b_file_name")))
UPLOADS_BY_NAME = select(_A.id, _A.sha256, _A.size).where(
    and_(_A.owner == bindparam("b_owner"), _A.file_name == bindparam("b_file_name")))
ATTACH_TO_APPLICATION = T.attachments.update().where(_A.id == bindparam("b_id"))
"""SET ``application_number`` from the parameters, plus ``b_id``."""

# --------------------------------------------------------------------------- applications

APPLICATION_BY_NUMBER = select(T.applications).where(
    T.applications.c.number == bindparam("b_number"))
APPLICATION_BY_KEY = select(
    T.applications.c.number, T.applications.c.document_sha256, T.applications.c.owner).where(
    T.applications.c.idempotency_key == bindparam("b_key"))
INSERT_APPLICATION = T.applications.insert()
UPDATE_APPLICATION = T.applications.update().where(T.applications.c.number == bindparam("b_number"))
"""SET clause from the parameters given with it (column names), plus ``b_number``."""
RECEIPT_USE = select(T.payment_receipts.c.application_number).where(
    T.payment_receipts.c.receipt_id == bindparam("b_receipt"))
INSERT_RECEIPT_USE = T.payment_receipts.insert()
HISTORY_OF_APPLICATION = (
    select(T.status_history).where(T.status_history.c.application_number == bindparam("b_number"))
    .order_by(T.status_history.c.id))
INSERT_HISTORY = T.status_history.insert()

# --------------------------------------------------------------------------- licences, sequences

LICENCE_BY_NUMBER = select(T.licences).where(
    T.licences.c.number == bindparam("b_number"))
INSERT_LICENCE = T.licences.insert()
UPDATE_LICENCE = T.licences.update().where(T.licences.c.number == bindparam("b_number"))
"""SET clause from the parameters given with it (column names), plus ``b_number``."""
SEQUENCE_VALUE = select(T.sequences.c.value).where(
    T.sequences.c.name == bindparam("b_name"))
INSERT_SEQUENCE = T.sequences.insert()
UPDATE_SEQUENCE = T.sequences.update().where(T.sequences.c.name == bindparam("b_name"))

# --------------------------------------------------------------------------- notifications and survey

INSERT_NOTIFICATION = T.notifications.insert()
ALL_NOTIFICATIONS = select(T.notifications).order_by(T.notifications.c.id)
SURVEY_ANSWERS_OF_APPLICATION = select(
    T.survey_answers.c.service_quality, T.survey_answers.c.information_quality).where(
    T.survey_answers.c.application_number == bindparam("b_number"))
INSERT_SURVEY_ANSWERS = T.survey_answers.insert()

# --------------------------------------------------------------------------- built per request


def application_numbers(session: Session | None, status: str | None = None) -> Select[Any]:
    """Numbers of the applications ``session`` lists, in number order: an applicant's own, an
    employee's licensor's (no session: all); only those in ``status`` when given."""
    c = T.applications.c
    query = select(c.number).order_by(c.number)
    if session is not None and session.kind == "applicant":
        query = query.where(c.applicant_iinbin == session.subject)
    elif session is not None:
        query = query.where(c.licensor_code == session.licensor_code)
    if status:
        query = query.where(c.status == status)
    return query


def licence_search(criteria: SearchCriteria) -> tuple[Select[Any], Select[Any]]:
    """(count, page): the number of licences matching every given criterion, and the asked page of
    them ordered by registry sequence."""
    c = T.licences.c
    conds = []
    if criteria.iin_bin:
        conds.append(c.iin_bin == criteria.iin_bin)
    if criteria.number:
        conds.append(c.number == criteria.number)
    if criteria.issue_date:
        conds.append(func.date(c.issue_date) == criteria.issue_date.isoformat())
    if criteria.activity_codes:
        conds.append(c.activity_code.in_(criteria.activity_codes))
    if criteria.licensor_code:
        conds.append(c.licensor_code == criteria.licensor_code)
    if criteria.name:
        conds.append(c.name_key.contains(criteria.name.casefold(), autoescape=True))
    count_q: Select[Any] = select(func.count()).select_from(T.licences)
    page_q: Select[Any] = select(T.licences).order_by(c.sequence).limit(criteria.page_size).offset(
        criteria.page_index * criteria.page_size)
    if conds:
        where = and_(*conds)
        count_q, page_q = count_q.where(where), page_q.where(where)
    return count_q, page_q


def survey_answers(service_code: str | None = None, licensor_code: str | None = None,
                   since: dt.datetime | None = None, until: dt.datetime | None = None) -> Select[Any]:
    """The survey answers of one service or licensor, or all, submitted in [since, until)."""
    query: Select[Any] = select(T.survey_answers)
    if licensor_code:
        query = query.where(T.survey_answers.c.licensor_code == licensor_code)
    if since is not None:
        query = query.where(T.survey_answers.c.submitted_at >= since)
    if until is not None:
        query = query.where(T.survey_answers.c.submitted_at < until)
    if service_code:
        query = query.where(T.survey_answers.c.service_code == service_code)
    return query
