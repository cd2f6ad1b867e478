"""``egov journal``: read the exchange journal (``tail``, ``stats``).

A journal that cannot be opened or read is shown by the ``egov`` group as one line and a hint
(:mod:`cli.failure`)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence

import click

from adapters.core.journal import AttemptRecord, ExchangeJournal, ServiceStats
from cli.failure import ReportingGroup

__all__ = ["journal_group", "parse_since"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(value: str, now: dt.datetime | None = None) -> dt.datetime:
    """``30m``, ``1h``, ``2d`` (before ``now``) or an ISO-8601 time (naive = UTC) -> aware UTC."""
    now = now or dt.datetime.now(dt.UTC)
    m = _DURATION.match(value)
    if m:
        return now - dt.timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()])
    try:
        at = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is neither a duration (30m, 1h, 2d) nor an ISO-8601 time") from exc
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


@click.group(name="journal", cls=ReportingGroup)
def journal_group() -> None:
    """The exchange journal: one row per attempt of every call to an external system."""


def _open(db: str | None) -> ExchangeJournal:
    """The journal of ``--db`` or the settings' database, which must exist (a reading command creates
    no database where a mistyped path points)."""
    from adapters.core.db import existing_database
    from cli.settings import current_settings

    return ExchangeJournal.open(existing_database(db or current_settings().database_url, what="exchange journal"))


_db_option = click.option("--db", "db", metavar="URL", default=None,
                          help="database URL (default: EGOV_DATABASE_URL, sqlite:///./egov.db)")


@journal_group.command("tail")
@click.option("-n", "count", type=click.IntRange(min=1), default=20, show_default=True,
              help="number of attempts")
@click.option("--service", default=None, help="only this service")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@_db_option
def tail_cmd(count: int, service: str | None, as_json: bool, db: str | None) -> None:
    """Show the last attempts, oldest first."""
    journal = _open(db)
    try:
        rows = journal.tail(count, service=service)
    finally:
        journal.close()
    if as_json:
        for r in rows:
            click.echo(r.model_dump_json())
        return
    if not rows:
        click.echo("no attempts journalled" + (f" for service {service}" if service else ""))
        return
    click.echo(_table(
        ["time (UTC)", "system", "service", "operation", "message_id", "try", "outcome", "ms", "error"],
        [_tail_row(r) for r in rows]))


def _tail_row(r: AttemptRecord) -> list[str]:
    outcome = r.outcome + (" (exhausted)" if r.exhausted else "")
    return [r.at.strftime("%Y-%m-%d %H:%M:%S"), r.system, r.service, r.operation, r.message_id,
            str(r.attempt), outcome, _ms(r.latency_ms), r.error_code or ""]


@journal_group.command("stats")
@click.option("--since", default="1h", show_default=True, help="window start: 30m, 1h, 2d or an ISO time")
@click.option("--until", default=None, help="window end (ISO time or duration ago; default: now)")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
@_db_option
def stats_cmd(since: str, until: str | None, as_json: bool, db: str | None) -> None:
    """Calls, attempts, retries, failures, exhausted retries and latency per service."""
    now = dt.datetime.now(dt.UTC)
    start = parse_since(since, now)
    end = parse_since(until, now) if until else None
    if end is not None and end <= start:
        raise click.BadParameter(f"the window ends ({end:%Y-%m-%d %H:%M:%S} UTC) before it starts "
                                 f"({start:%Y-%m-%d %H:%M:%S} UTC): --until must be later than --since",
                                 param_hint="--until")
    journal = _open(db)
    try:
        stats = journal.stats(start, end)
    finally:
        journal.close()
    if as_json:
        click.echo(json.dumps([s.model_dump() for s in stats], indent=2))
        return
    window = f"since {start:%Y-%m-%d %H:%M:%S} UTC" + (f" until {end:%Y-%m-%d %H:%M:%S} UTC" if end else "")
    if not stats:
        click.echo(f"no attempts journalled {window}")
        return
    click.echo(window)
    click.echo(_table(
        ["system", "service", "calls", "attempts", "retries", "failures", "exhausted", "p50 ms", "p95 ms"],
        [_stats_row(s) for s in stats]))


def _stats_row(s: ServiceStats) -> list[str]:
    return [s.system, s.service, str(s.calls), str(s.attempts), str(s.retries), str(s.failures),
            str(s.exhausted), _ms(s.p50_ms), _ms(s.p95_ms)]
