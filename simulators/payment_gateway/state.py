"""State of the payment gateway simulator: payment orders in SQLite.

One table, one row per (owner, clientReference) (a UNIQUE constraint: the database itself
guarantees that a repeated create cannot charge twice). The owner is the sender that created the
order; the client operations (create, status, receipt, cancel) see only the caller's own orders,
and another sender's order is, to them, an order that does not exist (the same PSE004).

Status moves CREATED → PAID | REJECTED | CANCELLED and PAID → REFUNDED; a repeated cancel of a
CANCELLED order answers the order again (idempotent).
The bank's side (pay, reject, refund) is driven by the control API, or by the auto-pay delay:
an order still CREATED ``auto_pay_after`` after its creation is paid the next time anyone looks
at it. That is evaluated against the injectable clock, so tests move a
:class:`FrozenClock` instead of sleeping. A database file is readable by its owner only
(:func:`~adapters.core.private_files.ensure_private_sqlite`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError
from adapters.core.private_files import ensure_private_sqlite
from simulators.payment_gateway.errors import PaymentRefusal, bad_state, not_found

OrderStatus = Literal["CREATED", "PAID", "REJECTED", "CANCELLED", "REFUNDED"]

FIRST_DOCUMENT_NUMBER = 90102  # the seed's example: "document No. 90102 of 01.11.2012"


class Bank(BaseModel):
    model_config = ConfigDict(frozen=True)
    bic: str
    name: str


DEFAULT_BANK = Bank(bic="HSBKKZKX", name='АО "Народный Банк Казахстана"')


class OrderDetails(BaseModel):
    """What the client asked to be paid; equal details make a repeated create a no-op."""

    model_config = ConfigDict(frozen=True)
    client_reference: str
    payer_iin_bin: str
    payer_name: str
    amount: Decimal
    currency: str = "KZT"
    kbk: str
    knp: str
    application_reference: str
    purpose: str = ""

    def fingerprint(self) -> tuple[str, ...]:
        return (self.payer_iin_bin, self.payer_name, f"{self.amount:.2f}", self.currency, self.kbk,
                self.knp, self.application_reference, self.purpose)


class StoredOrder(OrderDetails):
    owner: str
    """The sender that created the order: the only one that sees and cancels it."""
    order_id: str
    status: OrderStatus
    status_reason: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    paid_at: dt.datetime | None = None
    document_number: str | None = None
    bank_bic: str | None = None
    bank_name: str | None = None
    receipt_xml: bytes | None = None
    create_requests: int = 1
    """How many create requests carried this clientReference (the first included)."""

    def public(self) -> dict[str, Any]:
        """JSON view for the control API (without the receipt bytes)."""
        data = self.model_dump(mode="json", exclude={"receipt_xml"})
        data["has_receipt"] = self.receipt_xml is not None
        return data


ReceiptFactory = Callable[[StoredOrder], bytes]

_COLUMNS = ("order_id", "owner", "client_reference", "payer_iin_bin", "payer_name", "amount", "currency", "kbk", "knp",
            "application_reference", "purpose", "status", "status_reason", "created_at", "updated_at", "paid_at",
            "document_number", "bank_bic", "bank_name", "receipt_xml", "create_requests")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payment_order (
    order_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    client_reference TEXT NOT NULL,
    payer_iin_bin TEXT NOT NULL,
    payer_name TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    kbk TEXT NOT NULL,
    knp TEXT NOT NULL,
    application_reference TEXT NOT NULL,
    purpose TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    paid_at TEXT,
    document_number TEXT UNIQUE,
    bank_bic TEXT,
    bank_name TEXT,
    receipt_xml BLOB,
    create_requests INTEGER NOT NULL DEFAULT 1,
    UNIQUE (owner, client_reference)
);
CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class PaymentStore:
    """Payment orders in SQLite (``:memory:`` by default, or a file path). Thread-safe."""

    def __init__(self, path: str = ":memory:", *, clock: Clock = SYSTEM_CLOCK,
                 auto_pay_after: dt.timedelta | None = None, receipt_factory: ReceiptFactory | None = None,
                 default_bank: Bank = DEFAULT_BANK) -> None:
        if path != ":memory:" and not path.startswith("file:"):
            ensure_private_sqlite(path, what="payment gateway database")
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self.clock = clock
        self.auto_pay_after = auto_pay_after
        self.receipt_factory = receipt_factory
        self.default_bank = default_bank
        with self._lock:
            self._db.executescript(_SCHEMA)
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(payment_order)")}
        if "owner" not in columns:
            self._db.close()
            raise ConfigurationError(f"payment gateway database {path} predates order ownership (no owner "
                                     "column); remove it or name another db_path", setting="db_path")

    # ------------------------------------------------------------------ client operations

    def create(self, details: OrderDetails, owner: str) -> tuple[StoredOrder, bool]:
        """Create an order of ``owner`` (the calling sender), or return its existing one for the same
        clientReference.

        Returns ``(order, created)``; a clientReference the owner reused with other details is
        refused (PSE005) rather than silently answered with an order the client did not ask for.
        Another sender's clientReferences are not seen: each sender has its own.
        """
        with self._lock:
            existing = self._owned_by_reference(owner, details.client_reference)
            if existing is not None:
                if existing.fingerprint() != details.fingerprint():
                    raise PaymentRefusal("PSE005", f"clientReference {details.client_reference} is already used "
                                         f"by order {existing.order_id} with different data",
                                         client_reference=details.client_reference)
                self._db.execute("UPDATE payment_order SET create_requests = create_requests + 1 "
                                 "WHERE order_id = ?", (existing.order_id,))
                return self._refresh(existing.order_id), False
            now = self.clock.now()
            order = StoredOrder(**details.model_dump(), owner=owner, order_id=str(uuid.uuid4()), status="CREATED",
                                created_at=now, updated_at=now)
            self._insert(order)
            return order, True

    def get_owned(self, key: str, owner: str) -> StoredOrder:
        """``owner``'s order by orderId or clientReference; PSE004 when there is none, and when the
        order is another sender's (the same refusal: the answer does not reveal other senders' orders)."""
        with self._lock:
            order = self._find("order_id", key)
            if order is None or order.owner != owner:
                order = self._owned_by_reference(owner, key)
            if order is None:
                raise not_found(key)
            return self._auto_pay(order)

    def find_order(self, order_id: str) -> StoredOrder | None:
        """The order ``order_id`` whoever created it (None when there is none): what the gateway
        reports to the state systems that receive its payments (E-licensing's Condition 2)."""
        with self._lock:
            order = self._find("order_id", order_id)
            return None if order is None else self._auto_pay(order)

    def get(self, key: str) -> StoredOrder:
        """An order by orderId or clientReference, whoever created it (the bank's side, the control
        API; a clientReference several senders use names the oldest such order); PSE004 when there is none."""
        with self._lock:
            order = self._find("order_id", key) or self._find("client_reference", key)
            if order is None:
                raise not_found(key)
            return self._auto_pay(order)

    def cancel(self, key: str, owner: str, reason: str | None = None) -> StoredOrder:
        """Cancel ``owner``'s CREATED order; idempotent, so a cancel whose answer was lost is safe to repeat.

        An order that is already CANCELLED is returned unchanged (first reason and time kept);
        PAID, REJECTED and REFUNDED orders are refused (PSE006): money moved or the bank decided.
        Another sender's order is not found (PSE004) and stays as it is.
        """
        with self._lock:
            order = self.get_owned(key, owner)
            if order.status == "CANCELLED":
                return order
            if order.status != "CREATED":
                raise bad_state(order.order_id, order.status, "cancel")
            return self._update(order.order_id, status="CANCELLED", status_reason=reason or "cancelled by the client")

    # ------------------------------------------------------------------ the bank's side (control API)

    def pay(self, key: str, bank: Bank | None = None, at: dt.datetime | None = None) -> StoredOrder:
        with self._lock:
            order = self._find("order_id", key) or self._find("client_reference", key)
            if order is None:
                raise not_found(key)
            if order.status == "PAID":
                return order
            if order.status != "CREATED":
                raise bad_state(order.order_id, order.status, "pay")
            return self._mark_paid(order, bank or self.default_bank, at or self.clock.now())

    def reject(self, key: str, reason: str | None = None) -> StoredOrder:
        with self._lock:
            order = self.get(key)
            if order.status != "CREATED":
                raise bad_state(order.order_id, order.status, "reject")
            return self._update(order.order_id, status="REJECTED", status_reason=reason or "rejected by the bank")

    def refund(self, key: str, reason: str | None = None) -> StoredOrder:
        with self._lock:
            order = self.get(key)
            if order.status != "PAID":
                raise bad_state(order.order_id, order.status, "refund")
            return self._update(order.order_id, status="REFUNDED", status_reason=reason or "refunded")

    def list(self, *, client_reference: str | None = None, status: str | None = None) -> list[StoredOrder]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM payment_order ORDER BY created_at, rowid").fetchall()
            orders = [self._auto_pay(self._row(r)) for r in rows]
        if client_reference is not None:
            orders = [o for o in orders if o.client_reference == client_reference]
        if status is not None:
            orders = [o for o in orders if o.status == status]
        return orders

    def reset(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM payment_order")
            self._db.execute("DELETE FROM counter")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ internals

    def _auto_pay(self, order: StoredOrder) -> StoredOrder:
        if (order.status == "CREATED" and self.auto_pay_after is not None
                and self.clock.now() >= order.created_at + self.auto_pay_after):
            return self._mark_paid(order, self.default_bank, order.created_at + self.auto_pay_after)
        return order

    def _mark_paid(self, order: StoredOrder, bank: Bank, at: dt.datetime) -> StoredOrder:
        number = str(self._next("document_number", FIRST_DOCUMENT_NUMBER))
        paid = order.model_copy(update={"status": "PAID", "paid_at": at, "updated_at": at, "document_number": number,
                                        "bank_bic": bank.bic, "bank_name": bank.name, "status_reason": None})
        receipt = self.receipt_factory(paid) if self.receipt_factory is not None else None
        return self._update(order.order_id, status="PAID", paid_at=at, updated_at=at, document_number=number,
                            bank_bic=bank.bic, bank_name=bank.name, status_reason=None, receipt_xml=receipt)

    def _next(self, name: str, start: int) -> int:
        row = self._db.execute("SELECT value FROM counter WHERE name = ?", (name,)).fetchone()
        value = start if row is None else int(row["value"]) + 1
        self._db.execute("INSERT OR REPLACE INTO counter (name, value) VALUES (?, ?)", (name, value))
        return value

    def _insert(self, order: StoredOrder) -> None:
        values = [self._to_db(getattr(order, c)) for c in _COLUMNS]
        self._db.execute(f"INSERT INTO payment_order ({', '.join(_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(_COLUMNS))})", values)

    def _update(self, order_id: str, **changes: Any) -> StoredOrder:
        changes.setdefault("updated_at", self.clock.now())
        sets = ", ".join(f"{k} = ?" for k in changes)
        self._db.execute(f"UPDATE payment_order SET {sets} WHERE order_id = ?",
                         [*(self._to_db(v) for v in changes.values()), order_id])
        return self._refresh(order_id)

    def _refresh(self, order_id: str) -> StoredOrder:
        order = self._find("order_id", order_id)
        assert order is not None
        return order

    def _find(self, column: Literal["order_id", "client_reference"], value: str) -> StoredOrder | None:
        row = self._db.execute(f"SELECT * FROM payment_order WHERE {column} = ? ORDER BY created_at, rowid",
                               (value,)).fetchone()
        return self._row(row) if row is not None else None

    def _owned_by_reference(self, owner: str, client_reference: str) -> StoredOrder | None:
        row = self._db.execute("SELECT * FROM payment_order WHERE owner = ? AND client_reference = ?",
                               (owner, client_reference)).fetchone()
        return self._row(row) if row is not None else None

    @staticmethod
    def _to_db(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).isoformat()
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        return value

    @staticmethod
    def _row(row: sqlite3.Row) -> StoredOrder:
        data = {k: row[k] for k in row.keys()}  # noqa: SIM118 (sqlite3.Row is not a mapping)
        return StoredOrder.model_validate(data)
