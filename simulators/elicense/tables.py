"""SQLAlchemy Core tables of the E-licensing simulator's state.

Every lookup a request makes has an index (the primary keys, the unique constraints and the
``ix_`` indexes below; :func:`create_schema` adds a missing index to a database made before it).
Without them each lookup scanned its whole table, and the attachments' table holds the files:
after 500 flows (3,500 attachments of 60 KB) an upload's lookup took ≈ 740 µs of CPU against
≈ 100 µs indexed, and a flow makes ≈ 14 of them.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

accounts = Table(
    "elicense_accounts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),            # applicant | employee
    Column("subject", String(64), nullable=False),         # IIN/BIN (applicant) or login (employee)
    Column("name", String(400), nullable=False),
    Column("password_hash", String(200), nullable=False),  # pbkdf2-sha256$iterations$salt$hash
    Column("licensor_code", String(16)),                   # employees only
    Column("certificate", LargeBinary),                    # applicants: DER of the registration certificate
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("kind", "subject", name="uq_elicense_account"),
)

profiles = Table(
    "elicense_profiles", metadata,                        # an applicant's contact data, typed at registration
    Column("subject", String(64), primary_key=True),      # the applicant account's IIN/BIN
    Column("email", String(254)),
    Column("phone", String(32)),
)

sessions = Table(
    "elicense_sessions", metadata,
    Column("token", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("elicense_accounts.id"), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_elicense_sessions_account", "account_id"),
)

attachments = Table(
    "elicense_attachments", metadata,
    Column("id", String(36), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Column("application_number", String(8)),
    Index("ix_elicense_attachments_owner_file", "owner", "file_name"),
    Index("ix_elicense_attachments_application", "application_number", "file_name"),
)

applications = Table(
    "elicense_applications", metadata,
    Column("number", String(8), primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("document_sha256", String(64), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("channel", String(16), nullable=False),         # portal | employee
    Column("app_type", String(16), nullable=False),
    Column("service_code", String(8), nullable=False),
    Column("target_licence", String(20)),
    Column("applicant_iinbin", String(12), nullable=False),
    Column("applicant_name", String(400), nullable=False),
    Column("data", Text, nullable=False),                  # JSON: applicant, payment, sub-types, attachments, signer
    Column("territory_code", String(9), nullable=False),
    Column("licensor_code", String(16), nullable=False),
    Column("signed_document", LargeBinary, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("decision_key", String(200)),
    Column("licence_number", String(20)),
    Column("licence_document", LargeBinary),
    Column("refusal_document", LargeBinary),
    Index("ix_elicense_applications_applicant", "applicant_iinbin"),
)

status_history = Table(
    "elicense_status_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_number", String(8), ForeignKey("elicense_applications.number"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("comment", Text),
    Index("ix_elicense_status_history_application", "application_number"),
)

licences = Table(
    "elicense_licences", metadata,
    Column("number", String(20), primary_key=True),
    Column("sequence", Integer, nullable=False, unique=True),
    Column("global_unique_number", String(40), nullable=False, unique=True),
    Column("iin_bin", String(12), nullable=False),
    Column("licensee_name", String(400), nullable=False),
    Column("name_key", String(400), nullable=False),        # casefolded name: SQLite's lower() is ASCII-only
    Column("licensor_code", String(16), nullable=False),
    Column("service_code", String(8), nullable=False),
    Column("activity_code", String(16), nullable=False),
    Column("issue_date", DateTime(timezone=True), nullable=False),
    Column("validity_end", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("duplicate_date", DateTime(timezone=True)),
    Column("data", Text, nullable=False),                   # JSON: licensee address, territory, appendices...
    Column("document", LargeBinary, nullable=False),
    Column("application_number", String(8), nullable=False),
    Index("ix_elicense_licences_iin_bin", "iin_bin"),
)

payment_receipts = Table(
    "elicense_payment_receipts", metadata,
    Column("receipt_id", String(64), primary_key=True),     # the payment gateway's order id: paid for once
    Column("application_number", String(8), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

survey_answers = Table(
    "elicense_survey_answers", metadata,
    Column("application_number", String(8), primary_key=True),
    Column("service_code", String(8), nullable=False),
    Column("licensor_code", String(16), nullable=False),
    Column("service_quality", String(20), nullable=False),
    Column("information_quality", String(20), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
)

notifications = Table(
    "elicense_notifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_number", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message_id", String(64)),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sequences = Table(
    "elicense_sequences", metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Integer, nullable=False),
)


def create_schema(engine: Engine) -> None:
    """The tables, and every index of :data:`metadata` (``create_all`` creates the indexes of new
    tables only: a database kept from an earlier run gets the ones it lacks here)."""
    metadata.create_all(engine)
    for table in metadata.sorted_tables:
        for index in table.indexes:
            index.create(engine, checkfirst=True)
