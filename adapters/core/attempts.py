"""What the journal keeps of one attempt, without the database: the record, its outcomes, the
journal's errors and the digest of the bytes exchanged.

Apart from :mod:`adapters.core.journal` so that the resilient caller, which every client builds, does
not import the database layer (SQLAlchemy) until a journal is opened: a client starts faster."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.core.errors import EgovError

__all__ = ["FAILED_OUTCOMES", "OUTCOMES", "AttemptRecord", "JournalError", "Outcome", "UnjournalledExchangeError",
           "digest", "utc"]


Outcome = Literal["ok", "refused", "retry", "failed", "circuit-open", "error"]
"""What became of an attempt; ``refused``: the system gave a business answer the procedure expects
(a refusal it handles, e.g. E-licensing's ELC101 on a first registration check), not a failure."""
OUTCOMES: tuple[str, ...] = get_args(Outcome)
FAILED_OUTCOMES: frozenset[str] = frozenset({"failed", "circuit-open", "error"})
"""Outcomes that are failures: the call got no answer it could use."""
MAX_ERROR_MESSAGE = 2000


class JournalError(EgovError):
    """The journal database cannot be written or read."""

    code = "EGOV120"


class UnjournalledExchangeError(JournalError):
    """An exchange took place (or failed) but its journal row could not be written.

    The journal is the audit trail: a call whose attempts are not all journalled does not return
    its result. Retryable: once the database is writable again (space freed, file repaired), the
    same call, with the same messageId or idempotency key, is made again and journalled; the
    external systems' deduplication keeps its effect single.
    """

    code = "EGOV121"
    retryable = True


def digest(data: bytes | None) -> str | None:
    """SHA-256 hex of ``data``, or None when there is no data."""
    return None if data is None else hashlib.sha256(data).hexdigest()


def utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC; a naive value (as SQLite returns) is taken as UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class AttemptRecord(BaseModel):
    """One attempt of one call, as journalled."""

    model_config = ConfigDict(frozen=True)

    at: dt.datetime = Field(description="start of the attempt, UTC")
    system: str
    service: str
    operation: str
    message_id: str
    correlation_id: str | None = None
    attempt: int = Field(ge=1)
    outcome: Outcome
    latency_ms: float = Field(ge=0)
    error_code: str | None = None
    error_message: str | None = None
    request_digest: str | None = None
    response_digest: str | None = None
    exhausted: bool = Field(False, description="the last attempt of a call that used up its retries")

    @field_validator("at")
    @classmethod
    def _aware_utc(cls, value: dt.datetime) -> dt.datetime:
        return utc(value)

    @field_validator("error_message")
    @classmethod
    def _bounded(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.replace("\x00", "\\x00")  # PostgreSQL text cannot hold NUL; errors may echo bytes
        return value if len(value) <= MAX_ERROR_MESSAGE else value[:MAX_ERROR_MESSAGE] + "…"
