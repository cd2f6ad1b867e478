"""The PKI's index of issued certificates and revocations, in SQLite.

One connection per thread, reused (the OCSP responder reads the index on every request; opening
a connection each time was most of its cost). ``egov pki revoke`` in one process is still seen at
once by ``egov pki serve`` in another (both open the same file): every operation is its own
transaction (reads run in autocommit mode, writes commit at the end of ``_connect``), so no
snapshot is held between operations and each read sees what was committed before it. A
connection is never shared between threads nor inherited across ``fork``; it closes with its
thread. The file is readable by its owner only (:func:`~adapters.core.private_files.ensure_private_sqlite`).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from pydantic import BaseModel, ConfigDict

from adapters.core.errors import ConflictError, NotFoundError
from adapters.core.private_files import ensure_private_sqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS certificates (
    serial      TEXT PRIMARY KEY,      -- lower-case hex
    subject     TEXT NOT NULL,
    not_before  TEXT NOT NULL,
    not_after   TEXT NOT NULL,
    der         BLOB NOT NULL,
    revoked_at  TEXT,
    reason      TEXT
);
"""


class CertificateRecord(BaseModel):
    """One issued certificate and, if revoked, when and why."""

    model_config = ConfigDict(frozen=True)
    serial: str
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime
    der: bytes
    revoked_at: dt.datetime | None = None
    reason: x509.ReasonFlags | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.der)


class CertificateIndex:
    """Issued certificates and revocations of one issuing CA."""

    def __init__(self, path: Path) -> None:
        self.path = ensure_private_sqlite(path, what="test PKI index")
        self._local = threading.local()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (a new one after ``fork``: SQLite connections must not cross it)."""
        held: tuple[int, sqlite3.Connection] | None = getattr(self._local, "held", None)
        pid = os.getpid()
        if held is None or held[0] != pid:
            held = (pid, sqlite3.connect(self.path, timeout=10))
            self._local.held = held
        return held[1]

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        with db:  # commits a write (or rolls it back on error); reads hold no transaction open
            yield db

    def add(self, cert: x509.Certificate) -> CertificateRecord:
        from cryptography.hazmat.primitives.serialization import Encoding

        serial = format(cert.serial_number, "x")
        with self._connect() as db:
            db.execute("INSERT INTO certificates (serial, subject, not_before, not_after, der) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (serial, cert.subject.rfc4514_string(), cert.not_valid_before_utc.isoformat(),
                        cert.not_valid_after_utc.isoformat(), cert.public_bytes(Encoding.DER)))
        return self.get(serial)

    def find(self, serial: str) -> CertificateRecord | None:
        with self._connect() as db:
            # fetchall: the statement runs to its end, so no read stays open on the reused connection
            rows = db.execute("SELECT serial, subject, not_before, not_after, der, revoked_at, reason "
                              "FROM certificates WHERE serial = ?", (serial.lower(),)).fetchall()
        return _record(rows[0]) if rows else None

    def get(self, serial: str) -> CertificateRecord:
        record = self.find(serial)
        if record is None:
            raise NotFoundError(f"certificate serial {serial}: not issued by this PKI", serial=serial)
        return record

    def revoke(self, serial: str, at: dt.datetime, reason: x509.ReasonFlags) -> CertificateRecord:
        record = self.get(serial)
        if record.revoked:
            raise ConflictError(f"certificate serial {serial}: already revoked at "
                                f"{record.revoked_at:%Y-%m-%d %H:%M:%S}Z ({record.reason})", serial=serial)
        with self._connect() as db:
            db.execute("UPDATE certificates SET revoked_at = ?, reason = ? WHERE serial = ?",
                       (at.isoformat(), reason.value, record.serial))
        return self.get(serial)

    def revoked(self) -> list[CertificateRecord]:
        with self._connect() as db:
            rows = db.execute("SELECT serial, subject, not_before, not_after, der, revoked_at, reason "
                              "FROM certificates WHERE revoked_at IS NOT NULL ORDER BY revoked_at").fetchall()
        return [_record(r) for r in rows]


def _record(row: tuple[str, str, str, str, bytes, str | None, str | None]) -> CertificateRecord:
    serial, subject, nb, na, der, revoked_at, reason = row
    return CertificateRecord(
        serial=serial, subject=subject, not_before=dt.datetime.fromisoformat(nb),
        not_after=dt.datetime.fromisoformat(na), der=der,
        revoked_at=dt.datetime.fromisoformat(revoked_at) if revoked_at else None,
        reason=x509.ReasonFlags(reason) if reason else None)
