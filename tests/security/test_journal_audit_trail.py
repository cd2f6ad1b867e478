"""The exchange journal is the audit trail: a call whose attempt cannot be journalled fails, typed and
retryable, and succeeds once the database is writable again (issue 11, item 14).

The database is a real SQLite file, made full (SQLite's own "database or disk is full", through
``PRAGMA max_page_count``) or damaged (its header overwritten); the exchanges are real HTTP calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from adapters.core.journal import ExchangeJournal, UnjournalledExchangeError
from adapters.core.resilience import Attempt, CallContext, ResilientCaller, RetryPolicy
from adapters.core.transport import SoapTransport
from simulators.common.httpserver import Response, Router, SimServer


@pytest.fixture
def echo() -> Iterator[tuple[SimServer, list[bytes]]]:
    received: list[bytes] = []
    router = Router()

    def answer(request: Any) -> Response:
        received.append(request.body)
        return Response.text("done")

    router.add("POST", "/", answer)
    with SimServer(router, name="echo") as server:
        yield server, received


def fill_up(journal: ExchangeJournal) -> Any:
    """Every connection of the journal's engine gets a page limit it has already reached."""
    def limit(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(journal.engine, "connect", limit)
    journal.engine.dispose()
    return limit


def call(caller: ResilientCaller, transport: SoapTransport, url: str, message_id: str) -> str:
    context = CallContext(system="echo", service="ECHO", operation="post", message_id=message_id)

    def send(_attempt: Attempt) -> str:
        return transport.post(url, b"<payment/>" * 200, raise_for_status=True).body.decode()

    return caller.call(context, send)


def test_a_full_journal_fails_the_call_and_the_retry_succeeds_once_space_is_back(
        tmp_path: Path, echo: tuple[SimServer, list[bytes]]) -> None:
    server, received = echo
    journal = ExchangeJournal.open(f"sqlite:///{tmp_path / 'journal.db'}")
    caller = ResilientCaller(RetryPolicy(max_attempts=1), journal=journal)
    with SoapTransport() as transport:
        assert call(caller, transport, server.url + "/", "m-0") == "done"  # the journal works
        for n in range(400):  # grow the file so that its pages are used
            assert call(caller, transport, server.url + "/", f"m-fill-{n}") == "done"
        limit = fill_up(journal)
        with pytest.raises(UnjournalledExchangeError) as failed:
            for n in range(2000):  # until a row no longer fits in the pages the file has
                call(caller, transport, server.url + "/", f"m-full-{n}")
        error = failed.value
        assert error.retryable and error.code == "EGOV121"
        assert "could not be journalled" in str(error) and "full" in str(error)
        lost = str(error.context["message_id"])
        assert lost not in {r.message_id for r in journal.tail(5000)}  # the row really is missing
        # space is back: the same call (same messageId) is made again and journalled
        event.remove(journal.engine, "connect", limit)
        journal.engine.dispose()
        assert call(caller, transport, server.url + "/", lost) == "done"
    assert [r.outcome for r in journal.for_message(lost)] == ["ok"]
    assert len(received) == len(journal.tail(5000)) + 1  # every exchange journalled but the one retried
    journal.close()


def test_a_damaged_journal_fails_the_call_typed(tmp_path: Path, echo: tuple[SimServer, list[bytes]]) -> None:
    server, received = echo
    path = tmp_path / "journal.db"
    journal = ExchangeJournal.open(f"sqlite:///{path}")
    caller = ResilientCaller(RetryPolicy(max_attempts=1), journal=journal)
    with SoapTransport() as transport:
        assert call(caller, transport, server.url + "/", "m-1") == "done"
        journal.engine.dispose()
        for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if name.exists():
                name.write_bytes(b"this is not a database" * 100)
        with pytest.raises(UnjournalledExchangeError, match="could not be journalled") as failed:
            call(caller, transport, server.url + "/", "m-2")
    assert failed.value.retryable
    assert len(received) == 2  # the exchange took place; the caller was told it is not on record
    journal.close()
