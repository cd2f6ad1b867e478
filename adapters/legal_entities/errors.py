"""Failures of the Legal Entities register that are not look-up outcomes."""

from __future__ import annotations

from adapters.core.errors import ConfigurationError, ExchangeError


class RequestorRefusedError(ConfigurationError):
    """Status 03: the register refuses our RequestorBIN (a configuration problem, not the applicant's)."""

    code = "GBDUL03"


class RegisterError(ExchangeError):
    """Status 99: the register's internal error; another attempt later may succeed."""

    code = "GBDUL99"
    retryable = True
