"""The state fee of each operation and its basis; the values the seeds do not give are settings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.core.settings import load_settings
from procedure.fees import Fees
from procedure.models import Operation


def test_the_licence_fee_is_the_seeds_16180_kzt_and_says_so() -> None:
    fees = Fees()
    assert fees.of(Operation.ISSUE) == Decimal("16180.00")
    basis = fees.basis(Operation.ISSUE)
    assert "10 МРП × 1618" in basis.ru and "10 АЕК × 1618" in basis.kk and "16180" in basis.en


@pytest.mark.parametrize("operation", [Operation.REISSUE, Operation.DUPLICATE, Operation.APPENDIX])
def test_other_operations_are_an_assumption_and_a_setting(operation: Operation,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert Fees().of(operation) == Decimal("1618.00")
    basis = Fees().basis(operation)
    assert "assumption" in basis.en and "допущение" in basis.ru and "EGOV_OTHER_FEE_MCI" in basis.ru
    monkeypatch.setenv("EGOV_OTHER_FEE_MCI", "2")
    fees = Fees.from_settings(load_settings())
    assert fees.of(operation) == Decimal("3236.00") and fees.of(Operation.ISSUE) == Decimal("16180.00")
    assert "2 MCI" in fees.basis(operation).en
