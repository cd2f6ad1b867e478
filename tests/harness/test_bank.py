"""The applicants' bank decides: it declines the orders of a payer short of funds, in any process."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from adapters.payment_gateway import Payer, PaymentOrder, PaymentStatus
from harness.bank import DECLINED, ApplicantsBank


class Desk:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def pay(self, order_id: str) -> None:
        self.calls.append(("pay", order_id))

    def decline(self, order_id: str, reason: str) -> None:
        self.calls.append(("decline", order_id, reason))


def _order(order_id: str, payer: str) -> PaymentOrder:
    now = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
    return PaymentOrder(order_id=order_id, client_reference=f"flow/{order_id}", status=PaymentStatus.CREATED,
                        payer=Payer(iin_bin=payer, name="ТОО"), amount=Decimal("16180.00"), currency="KZT",
                        kbk="105402", knp="911", application_reference="flow", purpose="licence fee",
                        created_at=now, updated_at=now)


def test_the_bank_pays_unless_the_payers_card_is_short_of_funds(tmp_path: Path) -> None:
    desk = Desk()
    bank = ApplicantsBank(desk, tmp_path / "bank")
    bank.pay(_order("1", "940140000385"))
    bank.short_of_funds("950341000052")
    bank.pay(_order("2", "950341000052"))
    bank.pay(_order("3", "940140000385"))
    # another process attached to the same landscape reads the same ledger
    ApplicantsBank(desk, tmp_path / "bank").pay(_order("4", "950341000052"))
    assert desk.calls == [("pay", "1"), ("decline", "2", DECLINED), ("pay", "3"), ("decline", "4", DECLINED)]
