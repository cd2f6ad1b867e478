"""The PKI index reuses one SQLite connection per thread and still sees other writers at once."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from simulators.pki.store import CertificateIndex


def _certificate(serial: int) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"store test {serial}")])
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(serial).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))


def test_connection_is_reused_per_thread(tmp_path: Path) -> None:
    index = CertificateIndex(tmp_path / "index.sqlite")
    index.add(_certificate(0x1A))
    first = index._connection()
    assert index.find("1a") is not None
    assert index._connection() is first
    other: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: other.append(index._connection()))
    thread.start()
    thread.join()
    assert other and other[0] is not first


def test_revocation_by_another_writer_is_seen_at_once(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    serving = CertificateIndex(path)   # as `egov pki serve` holds it
    serving.add(_certificate(0x2B))
    record = serving.find("2b")
    assert record is not None and not record.revoked
    # another process (`egov pki revoke`): its own index object, its own connection, same file
    CertificateIndex(path).revoke("2b", dt.datetime(2026, 1, 2, tzinfo=dt.UTC), x509.ReasonFlags.key_compromise)
    seen = serving.find("2b")
    assert seen is not None and seen.revoked and seen.reason is x509.ReasonFlags.key_compromise
    assert [r.serial for r in serving.revoked()] == ["2b"]
    # and a write from the serving side is not blocked by a read left open
    serving.add(_certificate(0x3C))
    assert CertificateIndex(path).find("3c") is not None
