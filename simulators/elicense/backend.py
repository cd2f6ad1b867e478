"""State of the E-licensing simulator: accounts, applications, decisions, licences, survey.

:class:`ElicenseBackend` is the facade the SOAP front (``soap.py``), the control API and the tests
call; it knows nothing of SOAP. It keeps the state in SQLite (SQLAlchemy Core, ``tables`` and the
statements of ``queries``), with one lock serialising writes so that sequences (application and
licence numbers) stay gapless and unique under concurrent requests, and applies:

- the regulation's conditions (``conditions``): who is authorised, what an application must
  carry, which attachments, which status changes and decisions, the survey; Condition 2 asks the
  payment gateway (``payments``, a port) and each receipt pays for one application only;
- licence issuing (``issuing``): the licence's fields from the application, signed here with the
  licensor head's key;
- status notices (``notices``): each status change, signed and pushed to the ministry through the
  gateway (when one is attached), recorded with its outcome.

Records and configuration live in ``models``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from cachetools import LRUCache
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import RowMapping

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.xmlsig import SigningService, VerificationService, VerifiedDocument
from simulators.elicense import catalogue as cat
from simulators.elicense import conditions as C
from simulators.elicense import documents as docs
from simulators.elicense import errors as E
from simulators.elicense import queries as Q
from simulators.elicense import tables as T
from simulators.elicense.challenges import Challenge, ChallengeBook, prove_possession
from simulators.elicense.issuing import NEW_NUMBER_TYPES, IssuedLicence, issue_licence
from simulators.elicense.models import (
    Application,
    Attachment,
    BackendConfig,
    Indicator,
    Licence,
    SearchCriteria,
    Session,
    utc,
)
from simulators.elicense.notices import Publisher, publish_notice, status_notice
from simulators.elicense.passwords import ProvenPasswords
from simulators.elicense.payments import PaymentConfirmation

__all__ = [
    # re-exported for the SOAP front (``soap.py``), which imports them from here
    "Application",
    "DocumentVerifier",
    "ElicenseBackend",
    "Licence",
    "SearchCriteria",
]

SESSION_CACHE_SIZE = 4096
"""Sessions kept in memory by token (a miss reads the database): every request names its session."""

DocumentVerifier = VerificationService
"""The backend verifies applicants' documents with the project's one verification service."""
DEFAULT_CONFIG = BackendConfig()
"""The behaviour of a backend given no configuration (a frozen value, shared)."""


class ElicenseBackend:
    """The simulated E-licensing system. Thread-safe."""

    def __init__(self, engine: Engine, *, verifier: DocumentVerifier,
                 head_key: Callable[[cat.Licensor], KeyMaterial], system_key: KeyMaterial,
                 payments: PaymentConfirmation, publisher: Publisher | None = None,
                 config: BackendConfig = DEFAULT_CONFIG, clock: Clock = SYSTEM_CLOCK) -> None:
        self.engine = engine
        self.verifier = verifier
        self.payments = payments
        """Condition 2: the payment gateway's word on a receipt."""
        self._head_key = head_key
        self._system_signer = SigningService(system_key, clock=clock)
        self._head_signers: dict[str, SigningService] = {}
        self.publisher = publisher
        self.config = config
        self.clock = clock
        self._lock = threading.RLock()
        self._conn: Connection | None = None
        """The connection every transaction runs on (opened on first use; see ``_tx``)."""
        self._challenges = ChallengeBook(ttl=config.challenge_ttl, capacity=config.challenge_capacity, clock=clock)
        """Outstanding AuthChallenges (proof of possession of applicants' AUTH keys)."""
        self._passwords = ProvenPasswords()
        """Passwords proven per stored hash: a repeat login skips PBKDF2 (a wrong password still pays it)."""
        self._sessions: LRUCache[str, Session] = LRUCache(maxsize=SESSION_CACHE_SIZE)
        """Sessions read or created here, by token (the least recently used is dropped first). A session
        row never changes; the cache is emptied whenever an account changes or the tables are reset."""
        T.create_schema(engine)
        self.reset()

    # ------------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Empty every table, then seed one employee per licensor."""
        with self._tx() as conn:
            self._sessions.clear()
            self._passwords.clear()
            self._challenges.clear()
            for table in reversed(T.metadata.sorted_tables):
                conn.execute(table.delete())
            self._seed_employees(conn)

    def _seed_employees(self, conn: Connection) -> None:
        pw = self._passwords.hash(self.config.default_employee_password)
        now = self.clock.now()
        conn.execute(Q.INSERT_ACCOUNT, [
            {"kind": "employee", "subject": f"{lic.code.lower()}.officer", "name": f"Officer of {lic.name_en}",
             "password_hash": pw, "licensor_code": lic.code, "certificate": None, "created_at": now}
            for lic in cat.licensors()])

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A transaction under ``self._lock`` on the backend's one kept connection.

        Every transaction holds the lock, so one connection serves them all: checking a connection
        out of the pool and back (with its reset) per transaction cost more than many of the
        statements in it. A transaction opened inside another (none does today) gets a connection
        of its own.
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
            conn.execute(Q.DELETE_EMPLOYEE, {"b_login": login})
            conn.execute(Q.INSERT_ACCOUNT, {
                "kind": "employee", "subject": login, "name": name or login,
                "password_hash": self._passwords.hash(password), "licensor_code": licensor_code,
                "certificate": None, "created_at": self.clock.now()})

    def issue_challenge(self) -> Challenge:
        """A one-time AuthChallenge for an applicant to sign with the AUTH key (``challenges``)."""
        return self._challenges.issue()

    def _proven(self, iin_bin: str, signed_challenge: bytes) -> VerifiedDocument:
        return prove_possession(signed_challenge, iin_bin, book=self._challenges, verifier=self.verifier)

    def register_proven(self, iin_bin: str, signed_challenge: bytes, password: str, *,
                        email: str | None = None, phone: str | None = None) -> tuple[str, str]:
        """Portal registration (RegisterApplicant): the caller proves possession of the AUTH key of a
        trusted certificate carrying ``iin_bin`` (``challenges.prove_possession``); then the account
        is created (see :meth:`_enrol`) with the profile's ``email`` and ``phone`` (a repeated
        registration keeps the first profile, as it keeps the account). Returns (subject, name)."""
        verified = self._proven(iin_bin, signed_challenge)
        name = C.registration_name(verified.signer)
        enrolled = self._enrol(iin_bin, name, verified.certificate.public_bytes(Encoding.DER), password)
        if email or phone:
            with self._tx() as conn:
                if conn.execute(Q.PROFILE_OF, {"b_subject": iin_bin}).first() is None:
                    conn.execute(Q.INSERT_PROFILE, {"subject": iin_bin, "email": email, "phone": phone})
        return enrolled

    def profile(self, subject: str) -> tuple[str | None, str | None]:
        """(email, phone) an applicant gave at registration; (None, None) when none."""
        with self._tx() as conn:
            row = conn.execute(Q.PROFILE_OF, {"b_subject": subject}).first()
        return (None, None) if row is None else (row.email, row.phone)

    def register_applicant(self, certificate_der: bytes, password: str) -> tuple[str, str]:
        """The control API's seed of a portal account ("registered before"): trusted, so without a proof
        of possession; the certificate gives the IIN/BIN and the name (see :meth:`_enrol`)."""
        subject, name = C.registration_identity(certificate_der)
        return self._enrol(subject, name, certificate_der, password)

    def _enrol(self, subject: str, name: str, certificate_der: bytes, password: str) -> tuple[str, str]:
        """Create the applicant account ``subject``. An existing account is never replaced: enrolling
        it again with its password answers it unchanged (a retry), with another password is a
        CONFLICT (the password changes through :meth:`change_password`)."""
        with self._tx() as conn:
            row = self._applicant_account(conn, subject)
            if row is None:
                conn.execute(Q.INSERT_ACCOUNT, {"kind": "applicant", "subject": subject, "licensor_code": None,
                                                "name": name, "password_hash": self._passwords.hash(password),
                                                "certificate": certificate_der, "created_at": self.clock.now()})
                return subject, name
        C.check_not_registered(subject, row["password_hash"], password, self._passwords)
        return subject, str(row["name"])

    @staticmethod
    def _applicant_account(conn: Connection, subject: str) -> RowMapping | None:
        return conn.execute(Q.ACCOUNT_BY_KIND_SUBJECT, {"b_kind": "applicant", "b_subject": subject}).mappings().first()

    def authorize_applicant(self, iin_bin: str, signed_challenge: bytes, password: str) -> Session:
        """Condition 1 on the portal: proof of possession of the AUTH key for ``iin_bin``, then the password."""
        self._proven(iin_bin, signed_challenge)
        return self._authorize("applicant", iin_bin, password)

    def change_password(self, iin_bin: str, new_password: str, *, old_password: str | None = None,
                        signed_challenge: bytes | None = None) -> str:
        """A portal account's new password, proven by ``old_password`` or by a fresh ``signed_challenge``
        of the same subject (exactly one); the account's open sessions end. Returns the subject."""
        if (old_password is None) == (signed_challenge is None):
            raise E.ElicenseFault(E.INVALID_DATA, "a password change is proven by the old password or by a signed "
                                                  "challenge, exactly one", data="OldPassword")
        if signed_challenge is not None:
            self._proven(iin_bin, signed_challenge)
        with self._tx() as conn:
            row = self._applicant_account(conn, iin_bin)
        if old_password is not None or row is None:
            C.check_credentials("applicant", iin_bin, None if row is None else row["password_hash"],
                                old_password or "", self._passwords)
        assert row is not None
        with self._tx() as conn:
            self._sessions.clear()  # the account's sessions end with its old password
            conn.execute(Q.UPDATE_ACCOUNT, {"password_hash": self._passwords.hash(new_password),
                                            "b_kind": "applicant", "b_subject": iin_bin})
            conn.execute(Q.DELETE_SESSIONS_OF_ACCOUNT, {"b_account": row["id"]})
        return iin_bin

    def authorize_employee(self, login: str, password: str) -> Session:
        return self._authorize("employee", login, password)

    def _authorize(self, kind: str, subject: str, password: str) -> Session:
        with self._tx() as conn:
            row = conn.execute(Q.ACCOUNT_BY_KIND_SUBJECT, {"b_kind": kind, "b_subject": subject}).mappings().first()
            C.check_credentials(kind, subject, None if row is None else row["password_hash"], password,
                                self._passwords)
            assert row is not None
            token = secrets.token_urlsafe(24)
            expires = self.clock.now() + self.config.session_ttl
            conn.execute(Q.INSERT_SESSION, {"token": token, "account_id": row["id"], "expires_at": expires})
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
                    row = conn.execute(Q.SESSION_BY_TOKEN, {"b_token": token}).mappings().first()
                    if row is not None:
                        session = Session(token, row["kind"], row["subject"], row["name"], row["licensor_code"],
                                          utc(row["expires_at"]))
                        self._remember(session)
        return C.check_session(session, self.clock.now(), kind)

    # ------------------------------------------------------------------ attachments

    def upload_attachment(self, session: Session, file_name: str, content: bytes) -> Attachment:
        """Store an upload, or return the owner's identical upload not yet attached to an application.

        Identical means same owner, file name, SHA-256 and size: an application references its
        attachments by exactly these, so a second copy could never be told apart and a retried
        upload (the first landed, its answer was lost) must not store the file twice. Once an
        application took the file, a new upload of it is a new attachment.
        """
        C.check_upload_size(file_name, len(content))
        att = Attachment(str(uuid.uuid4()), file_name, hashlib.sha256(content).hexdigest(), len(content))
        with self._tx() as conn:
            # idempotent: the same file again (a retry whose answer was lost) gets the same attachment
            same = conn.execute(Q.UNATTACHED_UPLOAD, {"b_owner": session.subject, "b_file_name": file_name,
                                                      "b_sha256": att.sha256, "b_size": att.size}).first()
            if same is not None:
                return Attachment(same.id, file_name, att.sha256, att.size)
            conn.execute(Q.INSERT_ATTACHMENT, {
                "id": att.id, "owner": session.subject, "file_name": file_name, "sha256": att.sha256,
                "size": att.size, "content": content, "uploaded_at": self.clock.now(), "application_number": None})
        return att

    def attachment_content(self, attachment_id: str) -> bytes:
        with self._tx() as conn:
            row = conn.execute(Q.ATTACHMENT_CONTENT, {"b_id": attachment_id}).first()
        if row is None:
            raise E.ElicenseFault(E.NOT_FOUND, f"attachment {attachment_id} not found", data=attachment_id)
        return bytes(row[0])

    def application_attachment(self, session: Session, number: str, file_name: str) -> tuple[Attachment, bytes]:
        """The file ``file_name`` attached to application ``number``, and its content, for the
        applicant who owns the application or an employee of its licensor (``check_access``)."""
        self.application(number, session)
        with self._tx() as conn:
            row = conn.execute(Q.ATTACHMENT_OF_APPLICATION, {"b_number": number, "b_file_name": file_name}).first()
        if row is None:
            raise E.ElicenseFault(E.NOT_FOUND, f"application {number} has no attachment {file_name!r}",
                                  data=file_name)
        return Attachment(row.id, file_name, row.sha256, row.size), bytes(row.content)

    @staticmethod
    def _uploads(conn: Connection, owner: str) -> Callable[[str], list[Attachment]]:
        """The owner's uploads of a file name (in the caller's transaction)."""
        def uploads(file_name: str) -> list[Attachment]:
            rows = conn.execute(Q.UPLOADS_BY_NAME, {"b_owner": owner, "b_file_name": file_name}).all()
            return [Attachment(r.id, file_name, r.sha256, r.size) for r in rows]
        return uploads

    # ------------------------------------------------------------------ registration

    def register_application(self, session: Session, idempotency_key: str, signed: bytes) -> Application:
        doc_hash = hashlib.sha256(signed).hexdigest()
        with self._tx() as conn:
            existing = conn.execute(Q.APPLICATION_BY_KEY, {"b_key": idempotency_key}).first()
        if existing is not None:
            if existing.document_sha256 != doc_hash or existing.owner != session.subject:
                raise E.ElicenseFault(E.IDEMPOTENCY_CONFLICT,
                                      f"idempotency key {idempotency_key!r} was used for application "
                                      f"{existing.number} with another document", data=idempotency_key)
            return self.application(existing.number)

        data, signer, licensor = C.accept_application(session, signed, verifier=self.verifier,
                                                      fees=self.config.fees, payments=self.payments,
                                                      licence=self.licence)
        with self._tx() as conn:
            again = conn.execute(Q.APPLICATION_BY_KEY, {"b_key": idempotency_key}).first()
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
        attachment_ids = C.check_attachments(data["attachments"], self._uploads(conn, session.subject))
        receipt = data["payment"]["receipt_id"] if session.kind == "applicant" else None
        if receipt is not None and conn.execute(Q.RECEIPT_USE, {"b_receipt": receipt}).first() is not None:
            raise E.ElicenseFault(E.NOT_PAID, f"refusal: no payment for the service: receipt {receipt} already "
                                              "paid for another application", data="Payment/ReceiptId")
        number = f"{self._next(conn, 'application', 12000000):08d}"
        now = self.clock.now()
        if receipt is not None:
            conn.execute(Q.INSERT_RECEIPT_USE, {"receipt_id": receipt, "application_number": number,
                                                "recorded_at": now})
        submitted = dt.datetime.fromisoformat(data["submitted_at"])
        data["signer"] = signer
        conn.execute(Q.INSERT_APPLICATION, {
            "number": number, "idempotency_key": idempotency_key, "document_sha256": doc_hash,
            "owner": session.subject, "channel": "portal" if session.kind == "applicant" else "employee",
            "app_type": data["app_type"], "service_code": data["service_code"],
            "target_licence": data["licence_number"], "applicant_iinbin": data["applicant"]["iin_bin"],
            "applicant_name": data["applicant"]["name"], "data": json.dumps(data, ensure_ascii=False),
            "territory_code": data["territory_code"], "licensor_code": licensor.code, "signed_document": signed,
            "submitted_at": utc(submitted if submitted.tzinfo else submitted.replace(tzinfo=dt.UTC)),
            "registered_at": now, "status": "SENT"})
        if attachment_ids:
            conn.execute(Q.ATTACH_TO_APPLICATION, [{"application_number": number, "b_id": att_id}
                                                   for att_id in attachment_ids])
        conn.execute(Q.INSERT_HISTORY, {"application_number": number, "status": "SENT", "changed_at": now,
                                        "comment": "registered by the state body"})
        return number

    @staticmethod
    def _peek(conn: Connection, name: str, start: int) -> int:
        """The value :meth:`_next` would give now, without taking it."""
        row = conn.execute(Q.SEQUENCE_VALUE, {"b_name": name}).first()
        return int(row[0] if row else start) + 1

    def _next(self, conn: Connection, name: str, start: int) -> int:
        """The sequence ``name``'s next value (``start + 1`` first), in the caller's transaction."""
        row = conn.execute(Q.SEQUENCE_VALUE, {"b_name": name}).first()
        value = (row[0] if row else start) + 1
        if row is None:
            conn.execute(Q.INSERT_SEQUENCE, {"name": name, "value": value})
        else:
            conn.execute(Q.UPDATE_SEQUENCE, {"value": value, "b_name": name})
        return value

    # ------------------------------------------------------------------ reading

    def application(self, number: str, session: Session | None = None) -> Application:
        with self._tx() as conn:
            app = self._read_application(conn, number)
        if session is not None:
            C.check_access(session, app)
        return app

    def _read_application(self, conn: Connection, number: str) -> Application:
        return self._read_application_row(conn, number)[0]

    @staticmethod
    def _read_application_row(conn: Connection, number: str) -> tuple[Application, RowMapping]:
        """The application and its stored row (in the caller's transaction); NOT_FOUND when absent."""
        row = conn.execute(Q.APPLICATION_BY_NUMBER, {"b_number": number}).mappings().first()
        if row is None:
            raise E.ElicenseFault(E.NOT_FOUND, f"application {number} not found", data=number)
        hist = conn.execute(Q.HISTORY_OF_APPLICATION, {"b_number": number}).mappings().all()
        return Application.from_row(row, hist), row

    def list_applications(self, session: Session | None, status: str | None = None) -> list[Application]:
        with self._tx() as conn:
            numbers = [r[0] for r in conn.execute(Q.application_numbers(session, status))]
        return [self.application(n) for n in numbers]

    # ------------------------------------------------------------------ processing and decisions

    def start_processing(self, session: Session, number: str) -> Application:
        app = self.application(number, session)
        if C.processing_started(app):
            return app
        return self._set_status(number, "IN_PROGRESS", f"taken into work by {session.name}")

    def prepare_licence(self, session: Session, number: str, *, special_conditions: str | None = None,
                        validity_end: dt.date | None = None) -> bytes:
        """The unsigned licence a decision to issue ``number`` gives now, for the licensor's first head to
        sign (``decide_issue(signed_licence=...)``). Nothing is stored or reserved: a new licence's
        number is the registry's next at this moment."""
        C.check_decider(session)
        app = self.application(number, session)
        C.check_undecided(app)
        lic = cat.licensor(app.licensor_code)
        assert lic is not None
        with self._tx() as conn:
            issued = self._licence_of(conn, app, lic, special_conditions, validity_end, consume=False)
        return bytes(etree.tostring(issued.document(), encoding="UTF-8", xml_declaration=True))

    def decide_issue(self, session: Session, number: str, key: str, *, special_conditions: str | None = None,
                     validity_end: dt.date | None = None, signed_licence: bytes | None = None) -> Application:
        """The decision to issue: the licence signed by the head in ``signed_licence`` (the prepared
        licence; refused unless the licensor's first head signed exactly the licence the decision
        gives now), else signed here with the head's key E-licensing holds."""
        app = self._decidable(session, number, key, "issue")
        if app.status == "ISSUED":
            return app
        lic = cat.licensor(app.licensor_code)
        assert lic is not None
        head_signed = None if signed_licence is None else C.verify_head_signature(self.verifier, signed_licence, lic)
        licence_number = self._issue_licence(app, lic, special_conditions, validity_end, head_signed)
        return self._set_status(number, "ISSUED", f"licence {licence_number}", decision_key=f"issue:{key}",
                                licence_number=licence_number)

    def prepare_refusal(self, session: Session, number: str, missing: list[dict[str, str]]) -> bytes:
        """The unsigned refusal letter a decision to refuse ``number`` with ``missing`` gives today, for
        the licensor's first head to sign (``decide_refuse(signed_refusal=...)``). Nothing is stored."""
        C.check_decider(session)
        app = self.application(number, session)
        C.check_undecided(app)
        C.check_refusal(missing)
        return bytes(etree.tostring(self._refusal_letter(app, missing), encoding="UTF-8", xml_declaration=True))

    def _refusal_letter(self, app: Application, missing: list[dict[str, str]]) -> etree._Element:
        lic = cat.licensor(app.licensor_code)
        assert lic is not None
        return docs.build_refusal(date=self.clock.now().date(), lic=lic, head_name=C.applicant_head(app),
                                  applicant=app.data["applicant"], application_number=app.number,
                                  app_type=app.app_type, licence_number=app.target_licence,
                                  sent_on=app.submitted_at, missing=missing)

    def decide_refuse(self, session: Session, number: str, key: str, missing: list[dict[str, str]], *,
                      signed_refusal: bytes | None = None) -> Application:
        """The decision to refuse: the letter signed by the head in ``signed_refusal`` (the prepared
        letter; refused unless the licensor's first head signed exactly the letter the decision gives
        now), else signed here with the head's key E-licensing holds."""
        app = self._decidable(session, number, key, "refuse")
        if app.status == "REFUSED":
            return app
        C.check_refusal(missing)
        lic = cat.licensor(app.licensor_code)
        assert lic is not None
        letter = self._refusal_letter(app, missing)
        if signed_refusal is not None:
            head_signed = C.verify_head_signature(self.verifier, signed_refusal, lic, what="refusal letter")
            C.check_same_document(head_signed, letter)
            signed = head_signed.data
        else:
            signed = self._head_signer(lic).sign_document(letter)
        comment = "; ".join(f"{m['document']}: {m['comment']}" for m in missing)
        return self._set_status(number, "REFUSED", comment, decision_key=f"refuse:{key}",
                                refusal_document=signed)

    def _decidable(self, session: Session, number: str, key: str, decision: str) -> Application:
        """The application, when ``session`` may take ``decision`` on it under ``key`` (or took it already)."""
        C.check_decider(session)
        with self._tx() as conn:
            app, row = self._read_application_row(conn, number)
        C.check_access(session, app)
        C.decision_repeated(app, row["decision_key"], key, decision)
        return app

    def _licence_of(self, conn: Connection, app: Application, lic: cat.Licensor, special_conditions: str | None,
                    validity_end: dt.date | None, *, consume: bool) -> IssuedLicence:
        """The licence a decision to issue ``app`` gives today (``issuing.issue_licence``), a new one
        numbered by the registry's next sequence (taken when ``consume``, else only looked at)."""
        target = self.licence(app.target_licence) if app.target_licence else None
        sequence = None
        if app.app_type in NEW_NUMBER_TYPES:
            sequence = self._next(conn, "licence", 0) if consume else self._peek(conn, "licence", 0)
        return issue_licence(app, lic, today=self.clock.now().date(), sequence=sequence, target=target,
                             special_conditions=special_conditions, validity_end=validity_end)

    def _issue_licence(self, app: Application, lic: cat.Licensor, special_conditions: str | None,
                       validity_end: dt.date | None, head_signed: C.HeadSigned | None = None) -> str:
        """Issue the licence of ``app``, signed (the head's ``head_signed``, when it is that very licence,
        else with the head's key held here), and store it; its number."""
        with self._tx() as conn:
            issued = self._licence_of(conn, app, lic, special_conditions, validity_end, consume=True)
            if head_signed is not None:
                C.check_same_document(head_signed, issued.document())
                signed = head_signed.data
            else:
                signed = self._head_signer(lic).sign_document(issued.document())
            row = self._licence_row(issued, signed)
            if issued.new:
                conn.execute(Q.INSERT_LICENCE, {"number": issued.number, "sequence": issued.sequence,
                                                "global_unique_number": issued.global_unique_number, **row})
                if issued.previous_number is not None:
                    conn.execute(Q.UPDATE_LICENCE, {"status": "REISSUED", "b_number": issued.previous_number})
            else:
                conn.execute(Q.UPDATE_LICENCE, {**row, "b_number": issued.number})
            conn.execute(Q.UPDATE_APPLICATION, {"licence_document": signed, "b_number": app.number})
        return issued.number

    @staticmethod
    def _licence_row(issued: IssuedLicence, signed: bytes) -> dict[str, Any]:
        """The licence's stored columns but its number, sequence and global number (kept by an update)."""
        def midnight(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time(), dt.UTC)

        return {"iin_bin": issued.iin_bin, "licensee_name": issued.licensee_name,
                "name_key": issued.licensee_name.casefold(), "licensor_code": issued.licensor.code,
                "service_code": issued.service_code, "activity_code": cat.ACTIVITY_CODE,
                "issue_date": midnight(issued.issue_date),
                "validity_end": midnight(issued.validity_end) if issued.validity_end else None,
                "duplicate_date": midnight(issued.duplicate_date) if issued.duplicate_date else None,
                "status": "ACTIVE", "kind": issued.kind, "data": json.dumps(issued.data, ensure_ascii=False),
                "document": signed, "application_number": issued.application_number}

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
            conn.execute(Q.UPDATE_APPLICATION, {"status": status, **values, "b_number": number})
            conn.execute(Q.INSERT_HISTORY, {"application_number": number, "status": status, "changed_at": now,
                                            "comment": comment})
            app = self._read_application(conn, number)
        self._notify(app)
        return app

    # ------------------------------------------------------------------ notifications

    def _notify(self, app: Application) -> None:
        """Publish a status notice of ``app``'s current status (just read in the transaction that set it)
        through the gateway (if attached), and record it with its outcome."""
        status = app.history[-1][0]
        message_id: str | None = None
        error: str | None = None
        if self.publisher is not None:
            outcome = publish_notice(status_notice(app), app.number, signer=self._system_signer,
                                     publisher=self.publisher, recipient_id=self.config.recipient_id)
            message_id, error = outcome.message_id, outcome.error
        with self._tx() as conn:
            conn.execute(Q.INSERT_NOTIFICATION, {"application_number": app.number, "status": status,
                                                 "message_id": message_id, "error": error,
                                                 "created_at": self.clock.now()})

    def notifications(self) -> list[dict[str, Any]]:
        with self._tx() as conn:
            rows = conn.execute(Q.ALL_NOTIFICATIONS).mappings().all()
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------ licences and search

    def licence(self, number: str) -> Licence:
        with self._tx() as conn:
            row = conn.execute(Q.LICENCE_BY_NUMBER, {"b_number": number}).mappings().first()
        if row is None:
            raise E.ElicenseFault(E.NOT_FOUND, f"licence {number} not found in the registry", data=number)
        return Licence.from_row(row)

    def search(self, criteria: SearchCriteria) -> tuple[int, list[Licence]]:
        """Licences matching every given criterion, ordered by registry sequence; (total, page)."""
        count_q, page_q = Q.licence_search(criteria)
        with self._tx() as conn:
            total = int(conn.execute(count_q).scalar_one())
            rows = conn.execute(page_q).mappings().all()
        return total, [Licence.from_row(r) for r in rows]

    # ------------------------------------------------------------------ survey

    def submit_survey(self, session: Session, number: str, service_quality: str, information_quality: str) -> None:
        """Record the applicant's answers once per application; idempotent.

        Only the applicant who owns the application may answer (the access check), so "the same
        answers for the same application" is a repeat of the same submission and succeeds without
        storing anything; different answers are a conflict (ELC502).
        """
        app = self.application(number, session)
        C.check_survey(session, app, service_quality, information_quality)
        with self._tx() as conn:
            answered = conn.execute(Q.SURVEY_ANSWERS_OF_APPLICATION, {"b_number": number}).first()
            previous = None if answered is None else (answered.service_quality, answered.information_quality)
            if C.survey_repeated(number, previous, (service_quality, information_quality)):
                return  # the same answers again (a retry whose answer was lost): already recorded
            conn.execute(Q.INSERT_SURVEY_ANSWERS, {
                "application_number": number, "service_code": app.service_code,
                "licensor_code": app.licensor_code, "service_quality": service_quality,
                "information_quality": information_quality, "submitted_at": self.clock.now()})

    def survey_indicators(self, service_code: str | None = None, licensor_code: str | None = None,
                          first_day: dt.date | None = None, last_day: dt.date | None = None) -> list[Indicator]:
        """Per service, licensor and question, over the answers submitted from ``first_day`` to
        ``last_day`` (inclusive, UTC days); a service asked for by code is listed even without answers."""
        since = None if first_day is None else dt.datetime.combine(first_day, dt.time(), tzinfo=dt.UTC)
        until = None if last_day is None else dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(),
                                                                   tzinfo=dt.UTC)
        with self._tx() as conn:
            rows = conn.execute(Q.survey_answers(service_code, licensor_code, since, until)).mappings().all()
        groups = sorted({(r["service_code"], r["licensor_code"]) for r in rows})
        if service_code and not groups:
            groups = [(service_code, licensor_code or "")]
        out: list[Indicator] = []
        for code, lic in groups:
            mine = [r for r in rows if (r["service_code"], r["licensor_code"]) == (code, lic)]
            for question, column in (("SERVICE_QUALITY", "service_quality"),
                                     ("INFORMATION_QUALITY", "information_quality")):
                answers = [r[column] for r in mine]
                out.append(Indicator(code, lic, question, len(answers), answers.count("SATISFIED"),
                                     answers.count("PARTLY_SATISFIED"), answers.count("NOT_SATISFIED")))
        return out
