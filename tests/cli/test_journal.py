"""``egov journal tail`` and ``egov journal stats`` on a temporary SQLite file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from adapters.core.journal import AttemptFilter, AttemptRecord, ExchangeJournal
from cli.journal import journal_group, parse_since
from cli.main import cli

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    j = ExchangeJournal.open(url)

    def rec(service: str, mid: str, attempt: int, outcome: str, ms: float, *, minutes_ago: float = 5,
            exhausted: bool = False, code: str | None = None) -> None:
        j.record(AttemptRecord(at=NOW - dt.timedelta(minutes=minutes_ago), system="egov_gateway",
                               service=service, operation="send_sync", message_id=mid, attempt=attempt,
                               outcome=outcome, latency_ms=ms, exhausted=exhausted,  # type: ignore[arg-type]
                               error_code=code))

    rec("GBDUL_INFO", "m-1", 1, "retry", 100, code="EGOV401")
    rec("GBDUL_INFO", "m-1", 2, "ok", 200)
    rec("GBDUL_INFO", "m-2", 1, "retry", 300, code="EGOV402")
    rec("GBDUL_INFO", "m-2", 2, "failed", 400, exhausted=True, code="EGOV402")
    rec("PAYMENT", "m-3", 1, "ok", 50)
    rec("PAYMENT", "m-old", 1, "failed", 9999, minutes_ago=180, code="EGOV401")
    j.close()
    return url


def test_tail_shows_last_attempts(db: str) -> None:
    result = CliRunner().invoke(journal_group, ["tail", "-n", "3", "--db", db])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["time", "(UTC)", "system"]
    body = lines[2:]
    assert len(body) == 3
    assert "m-2" in body[0] and "failed (exhausted)" in body[0] and "EGOV402" in body[0]
    assert "m-old" in body[2]


def test_tail_filters_by_service_and_prints_json(db: str) -> None:
    result = CliRunner().invoke(journal_group, ["tail", "--service", "PAYMENT", "--json", "--db", db])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {r["service"] for r in rows} == {"PAYMENT"}
    assert [r["message_id"] for r in rows] == ["m-3", "m-old"]


def test_stats_table_per_service(db: str) -> None:
    result = CliRunner().invoke(journal_group, ["stats", "--since", "1h", "--db", db])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("since ")
    assert lines[1].split() == ["system", "service", "calls", "attempts", "retries", "failures", "exhausted",
                                "p50", "ms", "p95", "ms"]
    rows = {line.split()[1]: line.split() for line in lines[3:]}
    assert rows["GBDUL_INFO"][2:] == ["2", "4", "2", "1", "1", "200.0", "400.0"]
    assert rows["PAYMENT"][2:] == ["1", "1", "0", "0", "0", "50.0", "50.0"]


def test_stats_json_and_wider_window(db: str) -> None:
    result = CliRunner().invoke(journal_group, ["stats", "--since", "4h", "--json", "--db", db])
    assert result.exit_code == 0, result.output
    stats = {s["service"]: s for s in json.loads(result.output)}
    assert stats["PAYMENT"]["calls"] == 2 and stats["PAYMENT"]["failures"] == 1
    iso = (NOW - dt.timedelta(hours=4)).isoformat()
    until = (NOW - dt.timedelta(hours=2)).isoformat()
    result = CliRunner().invoke(journal_group, ["stats", "--since", iso, "--until", until, "--json", "--db", db])
    [only] = json.loads(result.output)
    assert (only["service"], only["calls"]) == ("PAYMENT", 1)


def test_empty_window_and_empty_journal(tmp_path: Path, db: str) -> None:
    result = CliRunner().invoke(journal_group, ["stats", "--since", "1m", "--db", db])
    assert result.exit_code == 0 and "no attempts journalled since" in result.output
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    ExchangeJournal.open(empty).close()
    result = CliRunner().invoke(journal_group, ["tail", "--db", empty])
    assert result.exit_code == 0 and "no attempts journalled" in result.output


def test_a_journal_that_does_not_exist_is_refused_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "mistyped.db"
    for args in (["tail"], ["stats"]):
        result = CliRunner().invoke(journal_group, [*args, "--db", f"sqlite:///{missing}"])
        assert result.exit_code == 1 and f"exchange journal {missing} does not exist" in result.output
    assert not missing.exists()


def test_a_reversed_window_is_refused(db: str) -> None:
    result = CliRunner().invoke(journal_group, ["stats", "--since", "1h", "--until", "2h", "--db", db])
    assert result.exit_code == 2 and "--until must be later than --since" in result.output


def test_bad_since_and_bad_db_are_reported() -> None:
    result = CliRunner().invoke(journal_group, ["stats", "--since", "yesterday-ish", "--db", "sqlite://"])
    assert result.exit_code != 0 and "neither a duration" in result.output
    result = CliRunner().invoke(journal_group, ["tail", "--db", "nosuchdb://x/y"])
    assert result.exit_code == 1 and "driver not installed" in result.output


def test_registered_as_egov_journal(db: str) -> None:
    result = CliRunner().invoke(cli, ["journal", "stats", "--db", db])
    assert result.exit_code == 0, result.output
    assert "GBDUL_INFO" in result.output


def test_parse_since() -> None:
    now = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
    assert parse_since("30m", now) == now - dt.timedelta(minutes=30)
    assert parse_since("1h", now) == now - dt.timedelta(hours=1)
    assert parse_since("2d", now) == now - dt.timedelta(days=2)
    assert parse_since("2024-03-01T10:00:00", now) == dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    assert parse_since("2024-03-01T15:00:00+05:00", now) == dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)
    with pytest.raises(click.BadParameter):
        parse_since("soon", now)


def _json_rows(args: list[str]) -> list[dict[str, object]]:
    result = CliRunner().invoke(journal_group, ["tail", "--json", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_tail_filters_by_system_operation_outcome_and_flow(db: str) -> None:
    extra = ExchangeJournal.open(db)
    extra.record(AttemptRecord(at=NOW, system="elicense", service="Authorize", operation="Authorize",
                               message_id="m-flow", correlation_id="flow-7", attempt=1, outcome="ok", latency_ms=5))
    extra.close()
    assert [r["message_id"] for r in _json_rows(["--system", "elicense", "--db", db])] == ["m-flow"]
    assert {r["system"] for r in _json_rows(["--operation", "send_sync", "--db", db])} == {"egov_gateway"}
    failed = _json_rows(["--outcome", "failed", "--db", db])
    assert [r["message_id"] for r in failed] == ["m-2", "m-old"]
    assert [r["message_id"] for r in _json_rows(["--flow", "flow-7", "--db", db])] == ["m-flow"]
    assert _json_rows(["--flow", "flow-7", "--system", "egov_gateway", "--db", db]) == []
    result = CliRunner().invoke(journal_group, ["tail", "--outcome", "exploded", "--db", db])
    assert result.exit_code == 2 and "exploded" in result.output


def test_follow_shows_each_new_attempt_the_filters_keep(db: str) -> None:
    from cli.journal import _follow

    journal = ExchangeJournal.open(db)
    seen: list[list[str]] = []
    looks = iter(range(10))

    def stop() -> bool:
        look = next(looks)
        if look == 1:  # journalled while the reader follows
            for mid, system in (("m-new", "payment_gateway"), ("m-other", "egov_gateway")):
                journal.record(AttemptRecord(at=NOW, system=system, service="PAYMENT", operation="payment",
                                             message_id=mid, attempt=1, outcome="ok", latency_ms=1))
        return look >= 3

    last = journal.numbered_tail(1)[-1][0]
    _follow(journal, AttemptFilter(system="payment_gateway"), last, 0.01,
            lambda rows: seen.append([r.message_id for r in rows]), stop=stop)
    journal.close()
    assert seen == [["m-new"]]
