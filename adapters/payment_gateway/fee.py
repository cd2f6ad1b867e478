"""The licence fee: a number of monthly calculation indices (MCI), in tenge.

The MCI changes every year by law; the multiplier is set by the Tax Code for each licence type.
Both are settings (``EGOV_MCI_KZT``, ``EGOV_LICENCE_FEE_MCI``); the seed's example is
10 × 1,618 = 16,180.00 KZT (2012).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from adapters.core.errors import ValidationError

if TYPE_CHECKING:
    from adapters.core.settings import Settings

LICENCE_FEE_KBK = "105315"
"""Budget classification code of the licence fee for the right to engage in an activity."""
STATE_FEE_KNP = "911"
"""Payment purpose code: taxes and other obligatory payments to the budget."""

_CENTS = Decimal("0.01")


def licence_fee(mci: Decimal | int | str, multiplier: int) -> Decimal:
    """``multiplier`` × ``mci`` in tenge, rounded to the tiyn: ``licence_fee(1618, 10) == Decimal("16180.00")``."""
    try:
        value = Decimal(str(mci))
    except ArithmeticError as exc:
        raise ValidationError("mci", "not a number", value=mci) from exc
    if not value.is_finite() or value <= 0:
        raise ValidationError("mci", "must be a positive amount in KZT", value=mci)
    if isinstance(multiplier, bool) or not isinstance(multiplier, int) or multiplier <= 0:
        raise ValidationError("multiplier", "must be a positive whole number of MCI", value=multiplier)
    return (value * multiplier).quantize(_CENTS, rounding=ROUND_HALF_UP)


def licence_fee_from_settings(settings: Settings) -> Decimal:
    """The fee from ``settings.mci_kzt`` and ``settings.licence_fee_mci``."""
    return licence_fee(settings.mci_kzt, settings.licence_fee_mci)
