"""The state fee of an application: the licence fee for a licence, one MCI for anything else."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from adapters.payment_gateway import licence_fee
from procedure.models import Operation

if TYPE_CHECKING:
    from adapters.core.settings import Settings

__all__ = ["Fees"]


@dataclass(frozen=True)
class Fees:
    """The monthly calculation index and the licence fee in MCI."""

    mci: Decimal = Decimal("1618")
    """Monthly calculation index, KZT."""
    licence_fee_mci: int = 10
    """The licence fee (an issue), in MCI; a re-issue, duplicate or appendix costs one MCI."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Fees:
        return cls(mci=settings.mci_kzt, licence_fee_mci=settings.licence_fee_mci)

    def of(self, operation: Operation) -> Decimal:
        """The fee to pay for ``operation``, in KZT."""
        return licence_fee(self.mci, self.licence_fee_mci if operation is Operation.ISSUE else 1)
