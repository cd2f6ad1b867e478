"""The state fee of an application, each with its basis: the licence fee for a licence (10 MCI, the
seed's application information: "16180.00000 тг төленген", 10 × 1,618 KZT of 2012), and for a
re-issue, duplicate or appendix one MCI, 10 % of the licence fee — an assumption, since the seeds
state no fee for them: a setting (``EGOV_OTHER_FEE_MCI``), docs/regulation-conformance.md lists it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from adapters.payment_gateway import licence_fee
from procedure.models import Operation, Text

if TYPE_CHECKING:
    from adapters.core.settings import Settings

__all__ = ["Fees"]


@dataclass(frozen=True)
class Fees:
    """The monthly calculation index and the licence fee in MCI."""

    mci: Decimal = Decimal("1618")
    """Monthly calculation index, KZT."""
    licence_fee_mci: int = 10
    """The licence fee (an issue), in MCI."""
    other_fee_mci: int = 1
    """A re-issue, duplicate or appendix, in MCI."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Fees:
        return cls(mci=settings.mci_kzt, licence_fee_mci=settings.licence_fee_mci,
                   other_fee_mci=settings.other_fee_mci)

    def _count(self, operation: Operation) -> int:
        return self.licence_fee_mci if operation is Operation.ISSUE else self.other_fee_mci

    def of(self, operation: Operation) -> Decimal:
        """The fee to pay for ``operation``, in KZT."""
        return licence_fee(self.mci, self._count(operation))

    def basis(self, operation: Operation) -> Text:
        """Why ``operation`` costs what it costs (kk, ru, en)."""
        n, mci = self._count(operation), self.mci
        if operation is Operation.ISSUE:
            return Text(kk=f"лицензиялық алым: {n} АЕК × {mci} теңге (өтініш туралы ақпарат үлгісі: 16180 теңге)",
                        ru=f"лицензионный сбор: {n} МРП × {mci} тенге (образец сведений о заявлении: 16180 тенге)",
                        en=f"licence fee: {n} MCI × {mci} KZT (the seed's application information: 16180 KZT)")
        return Text(kk=f"{n} АЕК × {mci} теңге (болжам: үлгілерде көрсетілмеген, EGOV_OTHER_FEE_MCI баптауы)",
                    ru=f"{n} МРП × {mci} тенге (допущение: в образцах не указано, настройка EGOV_OTHER_FEE_MCI)",
                    en=f"{n} MCI × {mci} KZT (assumption: the seeds state no fee for a {operation.value}; "
                       "setting EGOV_OTHER_FEE_MCI)")
