"""``egov journal``: read the exchange journal (``tail``, ``stats``).

``tail`` keeps the attempts of one system, service, operation, outcome or flow (the flow's id is
the exchanges' correlationId) and, with ``--follow``, prints each new attempt as it is journalled
until Ctrl-C.

A journal that cannot be opened or read is shown by the ``egov`` group as one line and a hint
(:mod:`cli.failure`)."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Sequence
from typing import get_args

import click

from adapters.core.journal import AttemptFilter, AttemptRecord, ExchangeJournal, Outcome, ServiceStats
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


_HEADERS = ["time (UTC)", "system", "service", "operation", "message_id", "try", "outcome", "ms", "error"]


@journal_group.command("tail")
@click.option("-n", "count", type=click.IntRange(min=1), default=20, show_default=True,
              help="number of attempts")
@click.option("--system", default=None, help="only this system (egov_gateway, payment_gateway, elicense, ...)")
@click.option("--service", default=None, help="only this service")
@click.option("--operation", default=None, help="only this SOAP operation (SendMessage, ...)")
@click.option("--outcome", type=click.Choice(get_args(Outcome)), default=None, help="only attempts that ended so")
@click.option("--flow", default=None, help="only the exchanges of this flow (its id, their correlationId)")
@click.option("-f", "--follow", is_flag=True, help="then print each new attempt as it is journalled, until Ctrl-C")
@click.option("--interval", type=click.FloatRange(min=0.05), default=1.0, show_default=True,
              help="with --follow: seconds between two looks at the journal")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@_db_option
def tail_cmd(count: int, system: str | None, service: str | None, operation: str | None, outcome: str | None,
             flow: str | None, follow: bool, interval: float, as_json: bool, db: str | None) -> None:
    """Show the last attempts, oldest first (those the filters keep)."""
    match = AttemptFilter(system=system, service=service, operation=operation, outcome=outcome, flow=flow)
    journal = _open(db)
    try:
        rows = journal.numbered_tail(count, match=match)
        _print_rows([r for _, r in rows], as_json, header=True, empty=not follow, match=match)
        if follow:
            _follow(journal, match, rows[-1][0] if rows else 0, interval,
                    lambda new: _print_rows(new, as_json, header=False, empty=False, match=match))
    finally:
        journal.close()


def _follow(journal: ExchangeJournal, match: AttemptFilter, after_id: int, interval: float,
            show: Callable[[list[AttemptRecord]], None], *, stop: Callable[[], bool] = lambda: False) -> None:
    """Show each attempt journalled after row ``after_id`` as it comes, until Ctrl-C (or ``stop()``)."""
    try:
        while not stop():
            time.sleep(interval)
            new = journal.numbered_tail(1000, match=match, after_id=after_id)
            if new:
                after_id = new[-1][0]
                show([r for _, r in new])
    except KeyboardInterrupt:
        pass


def _print_rows(rows: list[AttemptRecord], as_json: bool, *, header: bool, empty: bool,
                match: AttemptFilter) -> None:
    if as_json:
        for r in rows:
            click.echo(r.model_dump_json())
        return
    if not rows:
        if empty:
            kept = ", ".join(f"{column}={value}" for column, value in match.conditions())
            click.echo("no attempts journalled" + (f" ({kept})" if kept else ""))
        return
    table = _table(_HEADERS, [_tail_row(r) for r in rows]).splitlines()
    click.echo("\n".join(table if header else table[2:]))


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
