"""State model of the E-licensing simulator: accounts, applications, decisions, licences, survey.

Everything lives in SQLite (SQLAlchemy Core); one lock serialises writes so that sequences
(application and licence numbers) stay gapless and unique under concurrent requests.
The SOAP front (``soap.py``) turns requests into calls here and results into XML; the backend knows
nothing of SOAP.

Rules implemented (REGULATION.md):
- Condition 1: applicant (registered certificate subject + password) or employee (login + password);
- Condition 2 (portal channel): the service must be paid (amount paid >= state fee of the type);
- Condition 3: the application's enveloped signature verifies and the signer's certificate is valid,
  not revoked, and carries the applicant's BIN (or IIN for an individual); in the employee channel the
  certificate carries the licensor's BIN;
- attachments referenced by name + SHA-256 + size, total at most 30 MB; an owner's identical upload
  not yet attached to an application is answered with the same attachment (a retry stores nothing);
- the survey answered once per application; the same answers again succeed (idempotent);
- statuses SENT -> IN_PROGRESS -> ISSUED | REFUSED, each with a history entry and a signed status
  notice pushed to the ministry through the gateway (when one is attached);
- the licence: registry number, signed with the licensor head's key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from cachetools import LRUCache
from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree
from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, select, update
from sqlalchemy.engine import RowMapping

from adapters.contracts.elicense import ATTACHMENTS_MAX_TOTAL_BYTES, STATUS_NOTIFICATION_SERVICE_ID, validate
from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import EgovError, SignatureRefused, XmlError
from adapters.core.identifiers import parse_identifier
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.trust.subject import signer_info
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import SigningService, VerificationService
from simulators.elicense import catalogue as cat
from simulators.elicense import documents as docs
from simulators.elicense import errors as E
from simulators.elicense import tables as T
from simulators.elicense.passwords import (  # noqa: F401 (hash_password, check_password re-exported)
    PASSWORD_ITERATIONS,
    ProvenPasswords,
    check_password,
    hash_password,
)

log = logging.getLogger(__name__)

STATUS_NAMES = {
    "SENT": "sent to the state body",
    "IN_PROGRESS": "in progress",
    "ISSUED": "decision taken to issue",
    "REFUSED": "decision taken to refuse",
}
APPLICATION_TYPE_NAMES = {
    "ISSUE": "Application for a licence and appendices",
    "REISSUE": "Application for re-issue (re-registration) of a licence",
    "DUPLICATE": "Application for a duplicate of a licence",
    "APPENDIX": "Application for an appendix to a licence",
}
CATEGORY = "Licence for an activity type"
SURVEY_ANSWERS = ("NOT_SATISFIED", "PARTLY_SATISFIED", "SATISFIED")
SESSION_CACHE_SIZE = 4096
"""Sessions kept in memory by token (a miss reads the database): every request names its session."""


# Statements of the hot paths (every request, every status change), built once: building them per
# call (coercions, cache keys) was a large share of the simulator's CPU. Bound parameters are
# ``b_*`` so they never collide with column names in the SET/VALUES taken from the parameters.
_ACCOUNT_BY_KIND_SUBJECT = select(T.accounts).where(and_(T.accounts.c.kind == bindparam("b_kind"),
                                                         T.accounts.c.subject == bindparam("b_subject")))
_SESSION_BY_TOKEN = select(T.sessions, T.accounts).join(
    T.accounts, T.accounts.c.id == T.sessions.c.account_id).where(T.sessions.c.token == bindparam("b_token"))
_INSERT_SESSION = insert(T.sessions)
_UPDATE_ACCOUNT = update(T.accounts).where(and_(T.accounts.c.kind == bindparam("b_kind"),
                                                T.accounts.c.subject == bindparam("b_subject")))
"""SET clause from the parameters given with it (column names), plus ``b_kind`` and ``b_subject``."""
_INSERT_ACCOUNT = insert(T.accounts)
_APPLICATION_BY_NUMBER = select(T.applications).where(T.applications.c.number == bindparam("b_number"))
_HISTORY_OF_APPLICATION = (select(T.status_history)
                           .where(T.status_history.c.application_number == bindparam("b_number"))
                           .order_by(T.status_history.c.id))
_UPDATE_APPLICATION = update(T.applications).where(T.applications.c.number == bindparam("b_number"))
"""SET clause from the parameters given with it (column names), plus ``b_number``."""
_INSERT_HISTORY = insert(T.status_history)
_INSERT_NOTIFICATION = insert(T.notifications)
_SEQUENCE_VALUE = select(T.sequences.c.value).where(T.sequences.c.name == bindparam("b_name"))
_UPDATE_SEQUENCE = update(T.sequences).where(T.sequences.c.name == bindparam("b_name"))
_INSERT_SEQUENCE = insert(T.sequences)
_A = T.attachments.c
_UNATTACHED_UPLOAD = (select(_A.id).where(and_(
    _A.owner == bindparam("b_owner"), _A.file_name == bindparam("b_file_name"),
    _A.sha256 == bindparam("b_sha256"), _A.size == bindparam("b_size"), _A.application_number.is_(None)))
    .order_by(_A.uploaded_at))
_INSERT_ATTACHMENT = insert(T.attachments)
_ATTACHMENT_CONTENT = select(_A.content).where(_A.id == bindparam("b_id"))
_UPLOADS_BY_NAME = select(_A.id, _A.sha256, _A.size).where(and_(_A.owner == bindparam("b_owner"),
                                                              _A.file_name == bindparam("b_file_name")))
_ATTACH_TO_APPLICATION = update(T.attachments).where(_A.id == bindparam("b_id"))
"""SET ``application_number`` from the parameters, plus ``b_id``."""
_APPLICATION_BY_KEY = select(T.applications.c.number, T.applications.c.document_sha256,
                             T.applications.c.owner).where(T.applications.c.idempotency_key == bindparam("b_key"))
_INSERT_APPLICATION = insert(T.applications)
_LICENCE_BY_NUMBER = select(T.licences).where(T.licences.c.number == bindparam("b_number"))
_INSERT_LICENCE = insert(T.licences)
_UPDATE_LICENCE = update(T.licences).where(T.licences.c.number == bindparam("b_number"))
"""SET clause from the parameters given with it (column names), plus ``b_number``."""


DocumentVerifier = VerificationService
"""The backend verifies applicants' documents with the project's one verification service."""


class Publisher(Protocol):
    """What the backend needs of the gateway simulator (``GatewaySimulator.publish``)."""

    def publish(self, recipient_id: str, service_id: str, message_type: str, data: etree._Element,
                correlation_id: str | None = None) -> str: ...


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
    question: str
    answers: int
    satisfied: int
    partly: int
    not_satisfied: int

    def share(self, count: int) -> Decimal:
        if not self.answers:
            return Decimal("0.0000")
        return (Decimal(count) / Decimal(self.answers)).quantize(Decimal("0.0001"))


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite gives naive datetimes back; everything is stored in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _utc_req(value: dt.datetime) -> dt.datetime:
    out = _utc(value)
    assert out is not None
    return out


def _city(cert: x509.Certificate) -> str | None:
    attrs = cert.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)
    if not attrs:
        return None
    value = attrs[0].value
    return value.decode() if isinstance(value, bytes) else value


class ElicenseBackend:
    """The simulated E-licensing system. Thread-safe."""

    def __init__(self, engine: Engine, *, verifier: DocumentVerifier,
                 head_key: Callable[[cat.Licensor], KeyMaterial], system_key: KeyMaterial,
                 publisher: Publisher | None = None, config: BackendConfig = BackendConfig(),
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.engine = engine
        self.verifier = verifier
        self._head_key = head_key
        self._system_signer = SigningService(system_key, clock=clock)
        self._head_signers: dict[str, SigningService] = {}
        self.publisher = publisher
        self.config = config
        self.clock = clock
        self._lock = threading.RLock()
        self._conn: Connection | None = None
        """The connection every transaction runs on (opened on first use; see ``_tx``)."""
        self._passwords = ProvenPasswords()
        """Passwords proven per stored hash: a repeat login skips PBKDF2 (a wrong password still pays it)."""
        self._sessions: LRUCache[str, Session] = LRUCache(maxsize=SESSION_CACHE_SIZE)
        """Sessions read or created here, by token (the least recently used is dropped first). A session
        row never changes; the cache is emptied whenever an account changes or the tables are reset."""
        T.metadata.create_all(engine)
        self.reset()

    # ------------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Empty every table, then seed one employee per licensor."""
        with self._tx() as conn:
            self._sessions.clear()
            self._passwords.clear()
            for table in reversed(T.metadata.sorted_tables):
                conn.execute(table.delete())
            self._seed_employees(conn)

    def _seed_employees(self, conn: Connection) -> None:
        pw = self._passwords.hash(self.config.default_employee_password)
        now = self.clock.now()
        conn.execute(insert(T.accounts), [
            {"kind": "employee", "subject": f"{lic.code.lower()}.officer", "name": f"Officer of {lic.name_en}",
             "password_hash": pw, "licensor_code": lic.code, "certificate": None, "created_at": now}
            for lic in cat.licensors()])

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A transaction under ``self._lock`` on the backend's one kept connection.

        Every transaction holds the lock, so one connection serves them all: checking a connection
        out of the pool and back (with its reset) per transaction cost more than many of the
        statements in it. A transaction opened inside another (none does today) gets a connection
        of its own, as before.
        """
        with self._lock:
            conn = self._conn
            if conn is None or conn.closed:
                conn = self._conn = self.engine.connect()
            if conn.in_transaction():
                with self.engine.begin() as own:
                    yield own
                return
            with conn.begin():
                yield conn

    # ------------------------------------------------------------------ accounts (Condition 1)

    def add_employee(self, login: str, password: str, licensor_code: str, name: str | None = None) -> None:
        if cat.licensor(licensor_code) is None:
            raise E.ElicenseFault(E.INVALID_DATA, f"unknown licensor {licensor_code!r}", data="LicensorCode")
        with self._tx() as conn:
            self._sessions.clear()  # the account's sessions go with it
            conn.execute(T.accounts.delete().where(and_(T.accounts.c.kind == "employee",
                                                        T.accounts.c.subject == login)))
            conn.execute(insert(T.accounts).values(
                kind="employee", subject=login, name=name or login, password_hash=self._passwords.hash(password),
                licensor_code=licensor_code, certificate=None, created_at=self.clock.now()))

    def register_applicant(self, certificate_der: bytes, password: str) -> tuple[str, str]:
        """First-time portal registration: the certificate gives the IIN/BIN and the name."""
        cert = self._load_certificate(certificate_der)
        info = signer_info(cert)
        subject = info.bin or info.iin
        if subject is None:
            raise E.ElicenseFault(E.AUTH_DENIED, "authorisation denied: the certificate carries neither IIN nor "
                                                 "BIN", data="Certificate")
        name = info.organisation if info.bin and info.organisation else info.common_name
        values = {"name": name, "password_hash": self._passwords.hash(password), "certificate": certificate_der}
        with self._tx() as conn:
            self._sessions.clear()  # the account's sessions carry its name
            # registering again updates the account in place: its sessions keep pointing at it
            # (deleting it would violate their foreign key once the applicant has logged in)
            if conn.execute(_UPDATE_ACCOUNT, {**values, "b_kind": "applicant", "b_subject": subject}).rowcount == 0:
                conn.execute(_INSERT_ACCOUNT, {"kind": "applicant", "subject": subject, "licensor_code": None,
                                               "created_at": self.clock.now(), **values})
        return subject, name

    @staticmethod
    def _load_certificate(der: bytes) -> x509.Certificate:
        try:
            return x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise E.ElicenseFault(E.MALFORMED, f"Certificate is not a DER X.509 certificate: {exc}",
                                  data="Certificate") from exc

    def authorize_applicant(self, certificate_der: bytes, password: str) -> Session:
        info = signer_info(self._load_certificate(certificate_der))
        subject = info.bin or info.iin or ""
        return self._authorize("applicant", subject, password)

    def authorize_employee(self, login: str, password: str) -> Session:
        return self._authorize("employee", login, password)

    def _authorize(self, kind: str, subject: str, password: str) -> Session:
        with self._tx() as conn:
            row = conn.execute(_ACCOUNT_BY_KIND_SUBJECT, {"b_kind": kind, "b_subject": subject}).mappings().first()
            if row is None or not self._passwords.check(password, row["password_hash"]):
                # one message for both: do not reveal which accounts exist
                raise E.ElicenseFault(E.AUTH_DENIED, f"authorisation denied: {kind} {subject!r} is not registered "
                                                     "or the password is wrong", data=kind)
            token = secrets.token_urlsafe(24)
            expires = self.clock.now() + self.config.session_ttl
            conn.execute(_INSERT_SESSION, {"token": token, "account_id": row["id"], "expires_at": expires})
            session = Session(token, kind, subject, row["name"], row["licensor_code"], expires)
            self._remember(session)
        return session

    def _remember(self, session: Session) -> None:
        """Cache a session (under ``self._lock``, in the transaction that read or wrote it)."""
        self._sessions[session.token] = session

    def session(self, token: str, *, kind: str | None = None) -> Session:
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                with self._tx() as conn:
                    row = conn.execute(_SESSION_BY_TOKEN, {"b_token": token}).mappings().first()
                    if row is not None:
                        session = Session(token, row["kind"], row["subject"], row["name"], row["licensor_code"],
                                          _utc_req(row["expires_at"]))
                        self._remember(session)
        if session is None or session.expires_at <= self.clock.now():
            raise E.ElicenseFault(E.SESSION_INVALID, "session is unknown or expired; authorise again",
                                  data="SessionToken")
        if kind is not None and session.kind != kind:
            raise E.ElicenseFault(E.FORBIDDEN, f"this operation needs an {kind} session, not an {session.kind} one",
                                  data="SessionToken")
        return session

    # ------------------------------------------------------------------ attachments

    def upload_attachment(self, session: Session, file_name: str, content: bytes) -> Attachment:
        """Store an upload, or return the owner's identical upload not yet attached to an application.

        Identical means same owner, file name, SHA-256 and size: an application references its
        attachments by exactly these, so a second copy could never be told apart and a retried
        upload (the first landed, its answer was lost) must not store the file twice. Once an
        application took the file, a new upload of it is a new attachment.
        """
        if len(content) > ATTACHMENTS_MAX_TOTAL_BYTES:
            raise E.ElicenseFault(E.ATTACHMENTS_TOO_LARGE,
                                  f"attachment {file_name!r} has {len(content)} bytes; the total of attachments "
                                  f"is limited to 30 MB ({ATTACHMENTS_MAX_TOTAL_BYTES} bytes)", data=file_name)
        att = Attachment(str(uuid.uuid4()), file_name, hashlib.sha256(content).hexdigest(), len(content))
        with self._tx() as conn:
            # idempotent: the same file again (a retry whose answer was lost) gets the same attachment
            same = conn.execute(_UNATTACHED_UPLOAD, {"b_owner": session.subject, "b_file_name": file_name,
                                                     "b_sha256": att.sha256, "b_size": att.size}).first()
            if same is not None:
                return Attachment(same.id, file_name, att.sha256, att.size)
            conn.execute(_INSERT_ATTACHMENT, {
                "id": att.id, "owner": session.subject, "file_name": file_name, "sha256": att.sha256,
                "size": att.size, "content": content, "uploaded_at": self.clock.now(), "application_number": None})
        return att

    def attachment_content(self, attachment_id: str) -> bytes:
        with self._tx() as conn:
            row = conn.execute(_ATTACHMENT_CONTENT, {"b_id": attachment_id}).first()
        if row is None:
            raise E.ElicenseFault(E.NOT_FOUND, f"attachment {attachment_id} not found", data=attachment_id)
        return bytes(row[0])

    def _check_attachments(self, conn: Connection, owner: str, refs: list[dict[str, Any]]) -> list[str]:
        """Each reference must match an upload of the same owner by name, SHA-256 and size."""
        total = sum(int(r["size"]) for r in refs)
        if total > ATTACHMENTS_MAX_TOTAL_BYTES:
            raise E.ElicenseFault(E.ATTACHMENTS_TOO_LARGE,
                                  f"attachments total {total} bytes, over the limit of 30 MB "
                                  f"({ATTACHMENTS_MAX_TOTAL_BYTES} bytes)", data=str(total))
        ids: list[str] = []
        for ref in refs:
            rows = conn.execute(_UPLOADS_BY_NAME, {"b_owner": owner, "b_file_name": ref["file_name"]}).all()
            if not rows:
                raise E.ElicenseFault(E.ATTACHMENT_MISSING,
                                      f"attachment {ref['file_name']!r} is referenced by the application but was "
                                      "never uploaded", data=ref["file_name"])
            match = next((r for r in rows if r.sha256 == ref["sha256"]), None)
            if match is None:
                raise E.ElicenseFault(E.ATTACHMENT_DIGEST,
                                      f"attachment {ref['file_name']!r}: the signed application names SHA-256 "
                                      f"{ref['sha256']}, the uploaded file has {rows[-1].sha256}",
                                      data=ref["file_name"])
            if match.size != int(ref["size"]):
                raise E.ElicenseFault(E.ATTACHMENT_DIGEST,
                                      f"attachment {ref['file_name']!r}: the signed application names "
                                      f"{ref['size']} bytes, the upload has {match.size}", data=ref["file_name"])
            ids.append(match.id)
        return ids

    # ------------------------------------------------------------------ registration

    def register_application(self, session: Session, idempotency_key: str, signed: bytes) -> Application:
        doc_hash = hashlib.sha256(signed).hexdigest()
        with self._tx() as conn:
            existing = conn.execute(_APPLICATION_BY_KEY, {"b_key": idempotency_key}).first()
        if existing is not None:
            if existing.document_sha256 != doc_hash or existing.owner != session.subject:
                raise E.ElicenseFault(E.IDEMPOTENCY_CONFLICT,
                                      f"idempotency key {idempotency_key!r} was used for application "
                                      f"{existing.number} with another document", data=idempotency_key)
            return self.application(existing.number)

        data, signer, licensor = self._accept_document(session, signed)
        with self._tx() as conn:
            again = conn.execute(_APPLICATION_BY_KEY, {"b_key": idempotency_key}).first()
            if again is not None:  # a concurrent retry won the race
                number = again.number
            else:
                number = self._insert_application(conn, session, idempotency_key, doc_hash, signed, data,
                                                  signer, licensor)
                app = self._read_application(conn, number)
        if again is not None:
            return self.application(number)
        self._notify(app)
        return app

    def _insert_application(self, conn: Connection, session: Session, idempotency_key: str, doc_hash: str,
                            signed: bytes, data: dict[str, Any], signer: dict[str, Any],
                            licensor: cat.Licensor) -> str:
        attachment_ids = self._check_attachments(conn, session.subject, data["attachments"])
        number = f"{self._next(conn, 'application', 12000000):08d}"
        now = self.clock.now()
        submitted = dt.datetime.fromisoformat(data["submitted_at"])
        data["signer"] = signer
        conn.execute(_INSERT_APPLICATION, {
            "number": number, "idempotency_key": idempotency_key, "document_sha256": doc_hash,
            "owner": session.subject, "channel": "portal" if session.kind == "applicant" else "employee",
            "app_type": data["app_type"], "service_code": data["service_code"],
            "target_licence": data["licence_number"], "applicant_iinbin": data["applicant"]["iin_bin"],
            "applicant_name": data["applicant"]["name"], "data": json.dumps(data, ensure_ascii=False),
            "territory_code": data["territory_code"], "licensor_code": licensor.code, "signed_document": signed,
            "submitted_at": _utc(submitted if submitted.tzinfo else submitted.replace(tzinfo=dt.UTC)),
            "registered_at": now, "status": "SENT"})
        if attachment_ids:
            conn.execute(_ATTACH_TO_APPLICATION, [{"application_number": number, "b_id": att_id}
                                                  for att_id in attachment_ids])
        conn.execute(_INSERT_HISTORY, {"application_number": number, "status": "SENT", "changed_at": now,
                                       "comment": "registered by the state body"})
        return number

    def _accept_document(self, session: Session, signed: bytes) -> tuple[dict[str, Any], dict[str, Any],
                                                                          cat.Licensor]:
        """Schema, business data, Condition 2 and Condition 3; returns (data, signer, licensor)."""
        try:
            root = parse_xml(signed, what="signed application")
            if etree.QName(root).localname != "Application":
                raise E.ElicenseFault(E.MALFORMED, f"SignedApplication holds <{etree.QName(root).localname}>, "
                                                   "expected <Application>", data="SignedApplication")
            validate(root, what="signed application")
        except XmlError as exc:
            raise E.ElicenseFault(E.MALFORMED, str(exc), data="SignedApplication") from exc
        data = docs.parse_application(root)
        applicant = data["applicant"]["iin_bin"]
        svc = self._check_business(data)
        if session.kind == "applicant" and session.subject != applicant:
            raise E.ElicenseFault(E.FORBIDDEN, f"the application names applicant {applicant}, the session belongs "
                                               f"to {session.subject}", data="Applicant/IinBin")
        licensor = cat.licensor_for(svc, data["applicant"]["address"]["city_kato"] or "")
        if licensor is None:
            raise E.ElicenseFault(E.INVALID_DATA, "no territorial department for the applicant's city KATO "
                                                  f"{data['applicant']['address']['city_kato']}",
                                  data="Applicant/Address/CityKato")
        if session.kind == "employee" and session.licensor_code != licensor.code:
            raise E.ElicenseFault(E.FORBIDDEN, f"the application belongs to licensor {licensor.code}, the employee "
                                               f"works for {session.licensor_code}", data="LicensorCode")
        if session.kind == "applicant":
            self._check_payment(data)
        # Condition 3
        kind = parse_identifier(applicant, "Applicant/IinBin").kind
        try:
            if session.kind == "employee":
                verified = self.verifier.verify_document(signed, expect_bin=licensor.bin)
            elif kind == "BIN":
                verified = self.verifier.verify_document(signed, expect_bin=applicant)
            else:
                verified = self.verifier.verify_document(signed, expect_iin=applicant)
        except SignatureRefused as exc:
            raise E.ElicenseFault(E.signature_code(exc.reason), f"the applicant's EDS is not confirmed: {exc.detail}",
                                  data=exc.reason.value) from exc
        info = verified.signer
        signer = {"full_name": info.common_name, "iin": info.iin or "", "bin": info.bin,
                  "city": _city(verified.certificate)}
        return data, signer, licensor

    def _check_business(self, data: dict[str, Any]) -> cat.Service:
        try:
            parse_identifier(data["applicant"]["iin_bin"], "Applicant/IinBin")
        except EgovError as exc:
            raise E.ElicenseFault(E.INVALID_DATA, str(exc), data="Applicant/IinBin") from exc
        svc = cat.service(data["service_code"])
        if svc is None:
            raise E.ElicenseFault(E.INVALID_DATA, f"unknown service {data['service_code']!r}", data="ServiceCode")
        if cat.territory(data["territory_code"]) is None:
            raise E.ElicenseFault(E.INVALID_DATA, f"territory {data['territory_code']} is not in the directory",
                                  data="TerritoryCode")
        if data["activity_code"] != cat.ACTIVITY_CODE:
            raise E.ElicenseFault(E.INVALID_DATA, f"activity type {data['activity_code']!r}; this system licenses "
                                                  f"{cat.ACTIVITY_CODE}", data="ActivityTypeCode")
        known = {st.code for st in svc.sub_types}
        for code in data["sub_types"]:
            if code not in known:
                raise E.ElicenseFault(E.INVALID_DATA, f"sub-type {code!r} does not belong to service {svc.code}",
                                      data="SubTypes")
        app_type = data["app_type"]
        if app_type in ("ISSUE", "APPENDIX") and not data["sub_types"]:
            raise E.ElicenseFault(E.INVALID_DATA, f"{app_type} needs at least one sub-type for the appendix",
                                  data="SubTypes")
        if app_type == "ISSUE":
            if data["licence_number"]:
                raise E.ElicenseFault(E.INVALID_DATA, "ISSUE names no existing licence", data="LicenceNumber")
        else:
            number = data["licence_number"]
            if not number:
                raise E.ElicenseFault(E.INVALID_DATA, f"{app_type} needs the number of the existing licence",
                                      data="LicenceNumber")
            lic = self.licence(number)
            if lic.iin_bin != data["applicant"]["iin_bin"]:
                raise E.ElicenseFault(E.FORBIDDEN, f"licence {number} belongs to {lic.iin_bin}, not to the applicant",
                                      data="LicenceNumber")
            if lic.status != "ACTIVE":
                raise E.ElicenseFault(E.CONFLICT, f"licence {number} is {lic.status}, not ACTIVE",
                                      data="LicenceNumber")
            if lic.service_code != svc.code:
                raise E.ElicenseFault(E.INVALID_DATA, f"licence {number} was issued under service {lic.service_code}",
                                      data="ServiceCode")
        return svc

    def _check_payment(self, data: dict[str, Any]) -> None:
        """Condition 2 of the portal diagram."""
        fee = self.config.fees.for_type(data["app_type"])
        payment = data["payment"]
        if payment is None:
            raise E.ElicenseFault(E.NOT_PAID, f"refusal: no payment for the service (state fee {fee} KZT)",
                                  data="Payment")
        try:
            paid = Decimal(payment["amount_paid"])
        except InvalidOperation as exc:
            raise E.ElicenseFault(E.MALFORMED, "Payment/AmountPaid is not a number", data="Payment/AmountPaid") from exc
        if paid < fee:
            raise E.ElicenseFault(E.NOT_PAID, f"refusal: no payment for the service: {paid} KZT paid, the state fee "
                                              f"is {fee} KZT", data="Payment/AmountPaid")

    def _next(self, conn: Connection, name: str, start: int) -> int:
        row = conn.execute(_SEQUENCE_VALUE, {"b_name": name}).first()
        value = (row[0] if row else start) + 1
        if row is None:
            conn.execute(_INSERT_SEQUENCE, {"name": name, "value": value})
        else:
            conn.execute(_UPDATE_SEQUENCE, {"value": value, "b_name": name})
        return value

    # ------------------------------------------------------------------ reading

    def application(self, number: str, session: Session | None = None) -> Application:
        with self._tx() as conn:
            app = self._read_application(conn, number)
        if session is not None:
            self._check_access(session, app)
        return app

    def _read_application(self, conn: Connection, number: str) -> Application:
        return self._read_application_row(conn, number)[0]

    @classmethod
    def _read_application_row(cls, conn: Connection, number: str) -> tuple[Application, RowMapping]:
        """The application and its stored row (in the caller's transaction); NOT_FOUND when absent."""
        row = conn.execute(_APPLICATION_BY_NUMBER, {"b_number": number}).mappings().first()
        if row is None:
            raise E.ElicenseFault(E.NOT_FOUND, f"application {number} not found", data=number)
        hist = conn.execute(_HISTORY_OF_APPLICATION, {"b_number": number}).mappings().all()
        return cls._app(row, hist), row

    @staticmethod
    def _check_access(session: Session, app: Application) -> None:
        if session.kind == "applicant" and app.data["applicant"]["iin_bin"] != session.subject:
            raise E.ElicenseFault(E.FORBIDDEN, f"application {app.number} is not the caller's", data=app.number)
        if session.kind == "employee" and app.licensor_code != session.licensor_code:
            raise E.ElicenseFault(E.FORBIDDEN, f"application {app.number} is addressed to licensor "
                                               f"{app.licensor_code}, not {session.licensor_code}", data=app.number)

    @staticmethod
    def _app(row: RowMapping, hist: Any) -> Application:
        return Application(
            number=row["number"], channel=row["channel"], app_type=row["app_type"],
            service_code=row["service_code"], target_licence=row["target_licence"], data=json.loads(row["data"]),
            territory_code=row["territory_code"], licensor_code=row["licensor_code"],
            submitted_at=_utc_req(row["submitted_at"]), registered_at=_utc_req(row["registered_at"]),
            status=row["status"], licence_number=row["licence_number"],
            licence_document=row["licence_document"], refusal_document=row["refusal_document"],
            history=tuple((h["status"], _utc_req(h["changed_at"]), h["comment"]) for h in hist))

    def list_applications(self, session: Session | None, status: str | None = None) -> list[Application]:
        query = select(T.applications.c.number).order_by(T.applications.c.number)
        if session is not None and session.kind == "applicant":
            query = query.where(T.applications.c.applicant_iinbin == session.subject)
        elif session is not None:
            query = query.where(T.applications.c.licensor_code == session.licensor_code)
        if status:
            query = query.where(T.applications.c.status == status)
        with self._tx() as conn:
            numbers = [r[0] for r in conn.execute(query)]
        return [self.application(n) for n in numbers]

    # ------------------------------------------------------------------ processing and decisions

    def start_processing(self, session: Session, number: str) -> Application:
        app = self.application(number, session)
        if app.status == "IN_PROGRESS":
            return app
        if app.status != "SENT":
            raise E.ElicenseFault(E.CONFLICT, f"application {number} is {app.status}; only a SENT application can "
                                              "be taken into work", data=number)
        return self._set_status(number, "IN_PROGRESS", f"taken into work by {session.name}")

    def decide_issue(self, session: Session, number: str, key: str, *, special_conditions: str | None = None,
                     validity_end: dt.date | None = None) -> Application:
        app = self._decidable(session, number, key, "issue")
        if app.status == "ISSUED":
            return app
        lic = cat.licensor(app.licensor_code)
        assert lic is not None
        licence_number = self._issue_licence(app, lic, special_conditions, validity_end)
        return self._set_status(number, "ISSUED", f"licence {licence_number}", decision_key=f"issue:{key}",
                                licence_number=licence_number)

    def decide_refuse(self, session: Session, number: str, key: str,
                      missing: list[dict[str, str]]) -> Application:
        app = self._decidable(session, number, key, "refuse")
        if app.status == "REFUSED":
            return app
        if not missing:
            raise E.ElicenseFault(E.INVALID_DATA, "a refusal lists at least one missing document",
                                  data="MissingDocument")
        lic = cat.licensor(app.licensor_code)
        assert lic is not None
        territory = cat.territory(lic.territory_code)
        letter = docs.build_refusal(date=self.clock.now().date(), lic=lic,
                                    address=territory.name_en if territory else "",
                                    applicant_name=app.data["applicant"]["name"], application_number=number,
                                    sent_on=app.submitted_at, missing=missing)
        signed = self._head_signer(lic).sign_document(letter)
        comment = "; ".join(f"{m['document']}: {m['comment']}" for m in missing)
        return self._set_status(number, "REFUSED", comment, decision_key=f"refuse:{key}",
                                refusal_document=signed)

    def _decidable(self, session: Session, number: str, key: str, decision: str) -> Application:
        if session.kind != "employee":
            raise E.ElicenseFault(E.FORBIDDEN, "decisions are taken by the provider's employee", data="SessionToken")
        with self._tx() as conn:
            app, row = self._read_application_row(conn, number)
        self._check_access(session, app)
        stored = row["decision_key"]
        if stored is not None:
            if stored == f"{decision}:{key}":
                return app  # a retry of the same decision: same answer, no second licence
            raise E.ElicenseFault(E.CONFLICT if not stored.endswith(f":{key}") else E.IDEMPOTENCY_CONFLICT,
                                  f"application {number} is already decided ({app.status})", data=number)
        if app.status != "IN_PROGRESS":
            raise E.ElicenseFault(E.CONFLICT, f"application {number} is {app.status}; take it into work before "
                                              "deciding", data=number)
        return app

    def _issue_licence(self, app: Application, lic: cat.Licensor, special_conditions: str | None,
                       validity_end: dt.date | None) -> str:
        svc = cat.service(app.service_code)
        assert svc is not None
        today = self.clock.now().date()
        sub_types = {st.code: st for st in svc.sub_types}
        applicant = app.data["applicant"]
        licensee = {"iin_bin": applicant["iin_bin"], "name": applicant["name"],
                    "address": docs.address_line(applicant["address"])}
        territory = cat.territory(app.territory_code)
        assert territory is not None
        conditions = special_conditions or "none"
        target = self.licence(app.target_licence) if app.target_licence else None
        with self._tx() as conn:
            previous = None
            appendices: list[dict[str, Any]] = []
            kind = "ORIGINAL"
            issue_date, validity_start = today, today
            if app.app_type == "ISSUE" or app.app_type == "REISSUE":
                if app.app_type == "REISSUE":
                    assert target is not None
                    previous = target
                    appendices = list(previous.data["appendices"])
                    kind = "REISSUED"
                seq = self._next(conn, "licence", 0)
                number = f"KZ{'00' if lic.code == cat.COMMITTEE_CODE else lic.code[-2:]}LAA{seq:08d}"
                if app.data["sub_types"]:
                    appendices.append({"number": len(appendices) + 1, "issue_date": today.isoformat(),
                                       "sub_types": app.data["sub_types"]})
                global_number = f"{today:%y%m%d}{seq:08d}"
            else:
                assert target is not None
                current = target
                number, seq, global_number = current.number, 0, current.global_unique_number
                appendices = list(current.data["appendices"])
                issue_date = current.issue_date
                validity_start = dt.date.fromisoformat(current.data["validity_start"])
                conditions = special_conditions or current.data["special_conditions"]
                validity_end = validity_end or current.validity_end
                kind = "DUPLICATE" if app.app_type == "DUPLICATE" else current.kind
                if app.app_type == "APPENDIX":
                    appendices.append({"number": len(appendices) + 1, "issue_date": today.isoformat(),
                                       "sub_types": app.data["sub_types"]})
            doc = docs.build_licence(
                number=number, global_number=global_number, kind=kind, application_number=app.number,
                previous_number=previous.number if previous else None, licensee=licensee,
                special_conditions=conditions, lic=lic, issue_date=issue_date, validity_start=validity_start,
                validity_end=validity_end, territory=territory, appendices=appendices, sub_types=sub_types)
            signed = self._head_signer(lic).sign_document(doc)
            data = {"address": licensee["address"], "territory_code": territory.code, "appendices": appendices,
                    "special_conditions": conditions, "validity_start": validity_start.isoformat(),
                    "previous": previous.number if previous else None}
            row = {"iin_bin": licensee["iin_bin"], "licensee_name": licensee["name"],
                   "name_key": licensee["name"].casefold(), "licensor_code": lic.code,
                   "service_code": app.service_code, "activity_code": cat.ACTIVITY_CODE,
                   "issue_date": dt.datetime.combine(issue_date, dt.time(), dt.UTC),
                   "validity_end": dt.datetime.combine(validity_end, dt.time(), dt.UTC) if validity_end else None,
                   "status": "ACTIVE", "kind": kind, "data": json.dumps(data, ensure_ascii=False),
                   "document": signed, "application_number": app.number}
            if app.app_type in ("ISSUE", "REISSUE"):
                conn.execute(_INSERT_LICENCE, {"number": number, "sequence": seq,
                                               "global_unique_number": global_number, "duplicate_date": None, **row})
                if previous is not None:
                    conn.execute(_UPDATE_LICENCE, {"status": "REISSUED", "b_number": previous.number})
            else:
                if app.app_type == "DUPLICATE":
                    row["duplicate_date"] = dt.datetime.combine(today, dt.time(), dt.UTC)
                conn.execute(_UPDATE_LICENCE, {**row, "b_number": number})
            conn.execute(_UPDATE_APPLICATION, {"licence_document": signed, "b_number": app.number})
        return number

    def _head_signer(self, lic: cat.Licensor) -> SigningService:
        with self._lock:
            signer = self._head_signers.get(lic.code)
            if signer is None:
                signer = SigningService(self._head_key(lic), clock=self.clock)
                self._head_signers[lic.code] = signer
            return signer

    def _set_status(self, number: str, status: str, comment: str | None, **values: Any) -> Application:
        """Change the status (with its history entry), notify, and return the application as now stored."""
        now = self.clock.now()
        with self._tx() as conn:
            conn.execute(_UPDATE_APPLICATION, {"status": status, **values, "b_number": number})
            conn.execute(_INSERT_HISTORY, {"application_number": number, "status": status, "changed_at": now,
                                           "comment": comment})
            app = self._read_application(conn, number)
        self._notify(app)
        return app

    # ------------------------------------------------------------------ notifications

    def _notify(self, app: Application) -> None:
        """Sign a StatusNotice of ``app``'s current status (just read in the transaction that set it) and
        publish it through the gateway (if attached)."""
        number = app.number
        status, changed_at, comment = app.history[-1]
        notice = docs.build_status_notice(number=number, status=status, status_name=STATUS_NAMES[status],
                                          changed_at=changed_at, licensor_code=app.licensor_code,
                                          applicant=app.data["applicant"]["iin_bin"],
                                          licence_number=app.licence_number, comment=comment)
        message_id: str | None = None
        error: str | None = None
        if self.publisher is not None:
            try:
                signed = parse_xml(self._system_signer.sign_document(notice), what="status notice")
                message_id = self.publisher.publish(self.config.recipient_id, STATUS_NOTIFICATION_SERVICE_ID,
                                                    "NOTIFICATION", signed, number)
            except Exception as exc:  # the status changed anyway; the failure is recorded for QA
                log.warning("status notice of %s not published: %s", number, exc)
                error = str(exc)
        with self._tx() as conn:
            conn.execute(_INSERT_NOTIFICATION, {"application_number": number, "status": status,
                                                "message_id": message_id, "error": error,
                                                "created_at": self.clock.now()})

    def notifications(self) -> list[dict[str, Any]]:
        with self._tx() as conn:
            rows = conn.execute(select(T.notifications).order_by(T.notifications.c.id)).mappings().all()
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------ licences and search

    def licence(self, number: str) -> Licence:
        with self._tx() as conn:
            row = conn.execute(_LICENCE_BY_NUMBER, {"b_number": number}).mappings().first()
        if row is None:
            raise E.ElicenseFault(E.NOT_FOUND, f"licence {number} not found in the registry", data=number)
        return self._licence(row)

    @staticmethod
    def _licence(row: RowMapping) -> Licence:
        end = _utc(row["validity_end"])
        dup = _utc(row["duplicate_date"])
        return Licence(number=row["number"], global_unique_number=row["global_unique_number"],
                       iin_bin=row["iin_bin"], licensee_name=row["licensee_name"],
                       licensor_code=row["licensor_code"], service_code=row["service_code"],
                       activity_code=row["activity_code"], issue_date=_utc_req(row["issue_date"]).date(),
                       validity_end=end.date() if end else None, status=row["status"], kind=row["kind"],
                       duplicate_date=dup.date() if dup else None, document=bytes(row["document"]),
                       application_number=row["application_number"], data=json.loads(row["data"]))

    def search(self, criteria: SearchCriteria) -> tuple[int, list[Licence]]:
        """Licences matching every given criterion, ordered by registry sequence; (total, page)."""
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
        where = and_(*conds) if conds else None
        count_q = select(func.count()).select_from(T.licences)
        page_q = select(T.licences).order_by(c.sequence).limit(criteria.page_size).offset(
            criteria.page_index * criteria.page_size)
        if where is not None:
            count_q, page_q = count_q.where(where), page_q.where(where)
        with self._tx() as conn:
            total = int(conn.execute(count_q).scalar_one())
            rows = conn.execute(page_q).mappings().all()
        return total, [self._licence(r) for r in rows]

    # ------------------------------------------------------------------ survey

    def submit_survey(self, session: Session, number: str, service_quality: str, information_quality: str) -> None:
        """Record the applicant's answers once per application; idempotent.

        Only the applicant who owns the application may answer (the access check), so "the same
        answers for the same application" is a repeat of the same submission and succeeds without
        storing anything; different answers are a conflict (ELC502).
        """
        app = self.application(number, session)
        if session.kind != "applicant":
            raise E.ElicenseFault(E.FORBIDDEN, "the survey is answered by the applicant", data="SessionToken")
        if app.status not in ("ISSUED", "REFUSED"):
            raise E.ElicenseFault(E.CONFLICT, f"application {number} is {app.status}; the survey follows the "
                                              "decision", data=number)
        for name, value in (("ServiceQuality", service_quality), ("InformationQuality", information_quality)):
            if value not in SURVEY_ANSWERS:
                raise E.ElicenseFault(E.INVALID_DATA, f"{name} must be one of {', '.join(SURVEY_ANSWERS)}", data=name)
        with self._tx() as conn:
            answered = conn.execute(select(T.survey_answers.c.service_quality,
                                           T.survey_answers.c.information_quality).where(
                T.survey_answers.c.application_number == number)).first()
            if answered is not None:
                if (answered.service_quality, answered.information_quality) == (service_quality,
                                                                                 information_quality):
                    return  # the same answers again (a retry whose answer was lost): already recorded
                raise E.ElicenseFault(E.CONFLICT, f"the survey of application {number} is already answered "
                                                  "with other answers", data=number)
            conn.execute(insert(T.survey_answers).values(
                application_number=number, service_code=app.service_code, service_quality=service_quality,
                information_quality=information_quality, submitted_at=self.clock.now()))

    def survey_indicators(self, service_code: str | None = None) -> list[Indicator]:
        query = select(T.survey_answers)
        if service_code:
            query = query.where(T.survey_answers.c.service_code == service_code)
        with self._tx() as conn:
            rows = conn.execute(query).mappings().all()
        codes = [service_code] if service_code else sorted({r["service_code"] for r in rows})
        out: list[Indicator] = []
        for code in codes:
            mine = [r for r in rows if r["service_code"] == code]
            for question, column in (("SERVICE_QUALITY", "service_quality"),
                                     ("INFORMATION_QUALITY", "information_quality")):
                answers = [r[column] for r in mine]
                out.append(Indicator(code, question, len(answers), answers.count("SATISFIED"),
                                     answers.count("PARTLY_SATISFIED"), answers.count("NOT_SATISFIED")))
        return out
