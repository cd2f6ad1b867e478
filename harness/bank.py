"""The applicants' bank: pays a fee order, or declines it when the payer's card is short of funds.

It is the harness's side of :class:`procedure.ports.ApplicantBank`. The bank decides, not the
procedure: a scenario playing ``not-paid`` marks the applicant's card short of funds
(:meth:`ApplicantsBank.short_of_funds`) and the bank declines its orders. The marks are files in
the landscape's directory, so every process attached to the landscape (a resumed flow too) sees
them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from adapters.payment_gateway import PaymentOrder

__all__ = ["ApplicantsBank", "OrderDesk"]

DECLINED = "insufficient funds on the card"


class OrderDesk(Protocol):
    """Pays or declines an order the payment gateway holds (its control API: ``HttpBank``)."""

    def pay(self, order_id: str) -> None: ...

    def decline(self, order_id: str, reason: str) -> None: ...


class ApplicantsBank:
    """The bank of every applicant of a landscape; ``ledger`` holds the cards short of funds."""

    def __init__(self, desk: OrderDesk, ledger: Path) -> None:
        self.desk = desk
        self.ledger = ledger

    def _mark(self, payer: str) -> Path:
        return self.ledger / f"{payer}.short-of-funds"

    def short_of_funds(self, payer: str, reason: str = DECLINED) -> None:
        """From now on, orders of ``payer`` (IIN/BIN) are declined with ``reason``."""
        self.ledger.mkdir(parents=True, exist_ok=True)
        self._mark(payer).write_text(reason, encoding="utf-8")

    def pay(self, order: PaymentOrder) -> None:
        """Pay ``order`` from its payer's account, or decline it."""
        mark = self._mark(order.payer.iin_bin)
        if mark.is_file():
            self.desk.decline(order.order_id, mark.read_text(encoding="utf-8") or DECLINED)
        else:
            self.desk.pay(order.order_id)
